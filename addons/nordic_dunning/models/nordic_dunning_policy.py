from odoo import Command, _, api, fields, models
from odoo.exceptions import ValidationError

from .nordic_dunning_rate import COUNTRIES

WEEKDAYS = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]

# Legal profiles: the routines of the seed documents, created as ordinary, editable policies.
PROFILES = {
    "SE": {
        "name": "Kravrutin kundfordringar (SE)",
        "confirm_mode": "manual",
        "interest_mode": "show",
        "min_invoice_age": 1,
        "levels": [
            {"sequence": 1, "name": "Betalningspåminnelse 1", "kind": "reminder", "delay": 5,
             "delay_unit": "business_days", "delay_base": "due", "fee_rule": "fixed", "fee_amount": 60.0,
             "payment_term_days": 10, "channel_email": True, "channel_letter": True},
            {"sequence": 2, "name": "Betalningspåminnelse 2", "kind": "reminder", "delay": 5,
             "delay_unit": "business_days", "delay_base": "previous", "fee_rule": "none",
             "payment_term_days": 5, "channel_email": True, "channel_letter": True},
            {"sequence": 3, "name": "Överlämning till huvudkontoret för inkasso", "kind": "handover", "delay": 5,
             "delay_unit": "days", "delay_base": "previous", "fee_rule": "none", "interest": False,
             "payment_term_days": 0, "channel_email": False, "channel_letter": False},
        ],
    },
    "NO": {
        "name": "Purring og inkasso (NO)",
        "confirm_mode": "scheduled",
        "confirm_weekday": "3",
        "confirm_hour": 8.0,
        "interest_mode": "show",
        "min_invoice_age": 14,
        "levels": [
            {"sequence": 1, "name": "Inkassovarsel", "kind": "collection_notice", "delay": 14,
             "delay_unit": "days", "delay_base": "due", "fee_rule": "no_reminder",
             "payment_term_days": 14, "channel_email": True, "channel_letter": True},
            {"sequence": 2, "name": "Inkassoliste: overføring til inkasso", "kind": "handover", "delay": 15,
             "delay_unit": "days", "delay_base": "previous", "weekday": "1", "fee_rule": "none",
             "interest": False, "payment_term_days": 0, "channel_email": False, "channel_letter": False},
        ],
    },
}

# Income accounts tried in order for fees and interest, by legal profile (chart codes).
FEE_ACCOUNT_CODES = {"SE": ["3930", "3590", "3540", "3900"], "NO": ["3900", "3600", "3000"]}
INTEREST_ACCOUNT_CODES = {"SE": ["8313", "8310", "8390"], "NO": ["8040", "8050", "8079"]}


class NordicDunningPolicy(models.Model):
    """The dunning routine of a company, or of some of its invoicing journals."""

    _name = "nordic.dunning.policy"
    _description = "Dunning policy"
    _inherit = ["mail.thread"]
    _order = "company_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company, tracking=True
    )
    country_code = fields.Selection(
        COUNTRIES,
        string="Legal profile",
        required=True,
        tracking=True,
        help="Country whose law limits fees, interest and delays for this policy.",
    )
    journal_ids = fields.Many2many(
        "account.journal",
        string="Journals",
        domain="[('type', '=', 'sale'), ('company_id', '=', company_id)]",
        check_company=True,
        help="Invoicing units this policy applies to. Empty: every sales journal of the company "
        "not covered by another policy.",
    )
    level_ids = fields.One2many("nordic.dunning.level", "policy_id", string="Levels", copy=True)
    confirm_mode = fields.Selection(
        [("manual", "Manual confirmation"), ("scheduled", "Automatic at a set moment unless stopped")],
        default="manual",
        required=True,
        tracking=True,
    )
    confirm_weekday = fields.Selection(WEEKDAYS, default="3", help="Day on which a reviewed run is confirmed.")
    confirm_hour = fields.Float(default=8.0, help="Hour (company time zone) at which a run is confirmed.")
    interest_mode = fields.Selection(
        [
            ("none", "No interest"),
            ("show", "Show accrued interest on letters"),
            ("charge", "Charge accrued interest with the reminder"),
        ],
        default="show",
        required=True,
        tracking=True,
    )
    fee_journal_id = fields.Many2one(
        "account.journal",
        string="Fee journal",
        domain="[('type', '=', 'general'), ('company_id', '=', company_id)]",
        check_company=True,
        help="Journal of the entries that charge reminder fees and interest.",
    )
    fee_account_id = fields.Many2one(
        "account.account", string="Fee income account", check_company=True, tracking=True
    )
    interest_account_id = fields.Many2one(
        "account.account", string="Interest income account", check_company=True, tracking=True
    )
    min_amount = fields.Monetary(
        "Minimum open amount", currency_field="currency_id", help="Smaller open amounts are not dunned."
    )
    min_invoice_age = fields.Integer(
        "Minimum days after due date",
        default=1,
        help="No measure of any level before this many days after the due date.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    level_count = fields.Integer(compute="_compute_level_count")

    @api.depends("level_ids")
    def _compute_level_count(self):
        for policy in self:
            policy.level_count = len(policy.level_ids)

    @api.constrains("journal_ids", "active", "company_id")
    def _check_journal_unique(self):
        for policy in self.filtered("active"):
            others = self.search(
                [("id", "!=", policy.id), ("company_id", "=", policy.company_id.id), ("active", "=", True)]
            )
            if not policy.journal_ids and others.filtered(lambda p: not p.journal_ids):
                raise ValidationError(_("A company can have only one active default policy (one without journals)."))
            shared = policy.journal_ids & others.journal_ids
            if shared:
                raise ValidationError(
                    _("Journal(s) %(journals)s already belong to another active policy.",
                      journals=", ".join(shared.mapped("name")))
                )

    @api.constrains("country_code", "level_ids")
    def _check_country_levels(self):
        self.level_ids._check_legal_limits()

    @api.constrains("min_invoice_age", "level_ids")
    def _check_straight_to_collection(self):
        """Zero reminders (seed 000) is allowed, but never a hand-over on the due date itself."""
        for policy in self:
            first = policy._get_first_level()
            if first.kind == "handover" and policy.min_invoice_age < 1:
                raise ValidationError(
                    _(
                        "Policy %s hands invoices over without any reminder: give it a minimum number of days "
                        "after the due date.",
                        policy.name,
                    )
                )

    def _get_first_level(self):
        self.ensure_one()
        return self.level_ids.sorted("sequence")[:1]

    @api.model
    def _policy_by_journal(self, companies):
        """{(company_id, journal_id or False): policy} for the active policies of companies."""
        mapping = {}
        for policy in self.search([("company_id", "in", companies.ids)], order="sequence desc, id desc"):
            if policy.journal_ids:
                for journal in policy.journal_ids:
                    mapping[(policy.company_id.id, journal.id)] = policy
            else:
                mapping[(policy.company_id.id, False)] = policy
        return mapping

    def action_apply_to_open_invoices(self):
        """Schedule every open, not yet dunned invoice of the policy's scope."""
        for policy in self:
            domain = [
                ("company_id", "=", policy.company_id.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("nordic_dunning_level_id", "=", False),
            ]
            if policy.journal_ids:
                domain.append(("journal_id", "in", policy.journal_ids.ids))
            self.env["account.move"].search(domain)._nordic_dunning_schedule()
        return True

    @api.model
    def _create_from_profile(self, company, country_code, journals=None):
        """Create the legal profile's policy for a company (and optionally some journals only)."""
        profile = PROFILES[country_code]
        accounts = self.env["account.account"].with_company(company)

        def first_account(codes):
            for code in codes:
                account = accounts.search([("code", "=", code), *accounts._check_company_domain(company)], limit=1)
                if account:
                    return account
            return company.income_account_id

        vals = {k: v for k, v in profile.items() if k != "levels"}
        vals.update(
            company_id=company.id,
            country_code=country_code,
            journal_ids=[Command.set(journals.ids)] if journals else False,
            fee_account_id=first_account(FEE_ACCOUNT_CODES[country_code]).id,
            interest_account_id=first_account(INTEREST_ACCOUNT_CODES[country_code]).id,
            fee_journal_id=self.env["account.journal"].search(
                [("type", "=", "general"), *self.env["account.journal"]._check_company_domain(company)], limit=1
            ).id,
            level_ids=[Command.create(dict(level)) for level in profile["levels"]],
        )
        if journals:
            vals["name"] = f"{vals['name']} – {', '.join(journals.mapped('name'))}"
        return self.create(vals)

    def action_view_levels(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Levels"),
            "res_model": "nordic.dunning.level",
            "view_mode": "list,form",
            "domain": [("policy_id", "=", self.id)],
            "context": {"default_policy_id": self.id},
        }
