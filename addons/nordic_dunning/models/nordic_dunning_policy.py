from decimal import Decimal

from odoo import Command, _, api, fields, models
from odoo.exceptions import ValidationError

from ..tools.interest import late_interest
from .nordic_dunning_profiles import FEE_ACCOUNTS, INTEREST_ACCOUNTS, PROFILES
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
    user_id = fields.Many2one(
        "res.users",
        "Responsible",
        default=lambda self: self.env.user,
        tracking=True,
        help="Gets the review activity (and its e-mail) for every run of this policy.",
    )
    confirm_weekday = fields.Selection(WEEKDAYS, default="3", help="Day on which a reviewed run is confirmed.")
    confirm_hour = fields.Float(default=8.0, help="Hour (company time zone) at which a run is confirmed.")
    interest_mode = fields.Selection(
        [
            ("none", "No interest"),
            ("show", "Show accrued interest on letters"),
            ("charge", "Charge accrued interest with the reminder"),
            ("charge_when_paid", "Show on letters, charge once the invoice is paid late"),
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
    fee_account_id = fields.Many2one("account.account", string="Fee income account", check_company=True, tracking=True)
    interest_account_id = fields.Many2one(
        "account.account", string="Interest income account", check_company=True, tracking=True
    )
    b2b_compensation = fields.Boolean(
        "Late-payment compensation from businesses",
        tracking=True,
        help="Once per invoice, with its first measure, charge a business customer the statutory compensation for "
        "recovery costs (SE 450 kr, lag (1981:739) 4 a §; DK 310 kr, renteloven § 9 a; FI 40 €; NO the "
        "standardkompensasjon of forsinkelsesrenteloven § 3a, 470 kr in 2025-H1). Never charged to consumers.",
    )
    combine_notices = fields.Boolean(
        "One reminder per customer",
        default=True,
        tracking=True,
        help="All of a customer's invoices at the same level in one run go out as one letter and one e-mail that "
        "list each invoice with its own payment reference, fee, interest and total. Fees are still counted per "
        "invoice, as the law counts them per claim. Off: one letter and one e-mail per invoice.",
    )
    min_amount = fields.Monetary(
        "Minimum open amount", currency_field="currency_id", help="Smaller open amounts are not dunned."
    )
    min_interest_amount = fields.Monetary(
        "Minimum interest charged",
        currency_field="currency_id",
        default=20.0,
        help="Late interest below this amount is not charged (but still shown on letters).",
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
                    _(
                        "Journal(s) %(journals)s already belong to another active policy.",
                        journals=", ".join(shared.mapped("name")),
                    )
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
        """{(company_id, journal_id or False): policy} for the active policies of companies.

        A branch (a clinic of a head office) follows its own policy if it has one, else the
        nearest parent company's.
        """
        owners = companies.sudo().parent_ids
        # sudo: whoever posts an invoice must find its policy, even one owned by the head office.
        policies = self.sudo().search([("company_id", "in", owners.ids)], order="sequence desc, id desc")
        own = {}
        for policy in policies:
            if policy.journal_ids:
                for journal in policy.journal_ids:
                    own[(policy.company_id.id, journal.id)] = policy
            else:
                own[(policy.company_id.id, False)] = policy
        mapping = {}
        for company in companies:
            for owner in reversed(company.parent_ids):  # nearest first
                for (owner_id, journal_id), policy in own.items():
                    if owner_id == owner.id and (company.id, journal_id) not in mapping:
                        mapping[(company.id, journal_id)] = policy.with_env(self.env)
        return mapping

    def _get_companies(self):
        """The policy's company and its branches: the invoices it may apply to."""
        self.ensure_one()
        return self.env["res.company"].sudo().search([("id", "child_of", self.company_id.id)])

    def action_apply_to_open_invoices(self):
        """Schedule every open, not yet dunned invoice of the policy's scope."""
        for policy in self:
            domain = [
                ("company_id", "in", policy._get_companies().ids),
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
    def _default_income_account(self, company):
        """The income account of the company's first sales journal: a last resort for fees and interest."""
        journal = self.env["account.journal"].search(
            [("type", "=", "sale"), *self.env["account.journal"]._check_company_domain(company)], limit=1
        )
        return journal.default_account_id

    @api.model
    def _create_from_profile(self, company, country_code, journals=None):
        """Create the legal profile's policy for a company (and optionally some journals only)."""
        profile = PROFILES[country_code]
        accounts = self.env["account.account"].with_company(company)

        def first_account(spec):
            codes, name, account_type = spec
            for code in codes:
                account = accounts.search([("code", "=", code), *accounts._check_company_domain(company)], limit=1)
                if account:
                    return account
            if not accounts.search_count(accounts._check_company_domain(company), limit=1):
                return accounts  # no chart of accounts yet
            return accounts.create({"code": codes[0], "name": name, "account_type": account_type})

        vals = {k: v for k, v in profile.items() if k != "levels"}
        vals.update(
            company_id=company.id,
            country_code=country_code,
            journal_ids=[Command.set(journals.ids)] if journals else False,
            fee_account_id=first_account(FEE_ACCOUNTS[country_code]).id,
            interest_account_id=first_account(INTEREST_ACCOUNTS[country_code]).id,
            fee_journal_id=self.env["account.journal"]
            .search([("type", "=", "general"), *self.env["account.journal"]._check_company_domain(company)], limit=1)
            .id,
            level_ids=[Command.create(dict(level)) for level in profile["levels"]],
        )
        if journals:
            vals["name"] = f"{vals['name']} – {', '.join(journals.mapped('name'))}"
        return self.create(vals)

    def _charge_accounts(self):
        """(fee income account, interest income account) of the policy, with sensible fallbacks."""
        self.ensure_one()
        fee_account = self.fee_account_id or self._default_income_account(self.company_id)
        return fee_account, self.interest_account_id or fee_account

    @api.model
    def _cron_charge_late_interest(self):
        """Charge the late interest of invoices paid after their due date (policies that charge it then)."""
        for policy in self.search([("interest_mode", "=", "charge_when_paid")]):
            policy.with_company(policy.company_id)._charge_late_interest(fields.Date.context_today(self))

    def _charge_late_interest(self, day):
        """One entry with the interest of this policy's invoices paid late and not yet charged."""
        self.ensure_one()
        invoices = self.env["account.move"].search(
            [
                ("nordic_dunning_policy_id", "=", self.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("paid", "in_payment")),
                ("nordic_late_interest_line_id", "=", False),
                ("invoice_date_due", "<", day),
            ]
        )
        if not invoices:
            return self.env["account.move.line"]
        payments = self.env["nordic.dunning.run"]._payments_by_move(invoices.ids)
        periods = {
            business: [
                (d, Decimal(str(v)))
                for d, v in self.env["nordic.dunning.rate"]._late_interest_periods(self.country_code, business=business)
            ]
            for business in (False, True)
        }
        _fee_account, interest_account = self._charge_accounts()
        charges = []
        for invoice in invoices:
            paid = [(d, Decimal(str(a))) for d, a in payments.get(invoice.id, [])]
            if not paid or max(d for d, _a in paid) <= invoice.invoice_date_due:
                continue
            amount = float(
                late_interest(
                    Decimal(str(invoice.amount_total)),
                    invoice.invoice_date_due,
                    max(d for d, _a in paid),
                    periods[bool(invoice.commercial_partner_id.is_company)],
                    paid,
                    precision=Decimal(str(invoice.currency_id.rounding)),
                )
            )
            if amount >= (self.min_interest_amount or 0.0) and amount > 0:
                charges.append(
                    {
                        "invoice": invoice,
                        "amount": amount,
                        "currency": invoice.currency_id,
                        "account": interest_account,
                        "label": _("Late interest %s", invoice.name),
                    }
                )
        if not charges:
            return self.env["account.move.line"]
        _move, lines = self._post_charges(charges, day, _("Late interest %s", day))
        for charge, line in zip(charges, lines):
            charge["invoice"].nordic_late_interest_line_id = line
        return lines

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
