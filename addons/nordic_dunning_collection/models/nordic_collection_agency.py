from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

CLOSED_STATES = ("paid", "partly_paid", "failed", "withdrawn", "cancelled")


class NordicCollectionAgency(models.Model):
    """A debt collection agency the sidecar talks to (several may run at once)."""

    _name = "nordic.collection.agency"
    _description = "Collection agency"
    _inherit = ["mail.thread"]
    _order = "sequence, name"

    name = fields.Char(required=True, tracking=True)
    code = fields.Char(required=True, tracking=True, help="Short technical code, used by the sidecar's logs.")
    sequence = fields.Integer(default=10, help="When several agencies serve an invoice, the first one gets it.")
    active = fields.Boolean(default=True, tracking=True)
    protocol = fields.Char(
        required=True,
        default="nordic_v1",
        tracking=True,
        help="The protocol the sidecar speaks with this agency (one its mappers know; nordic_v1: the nordic "
        "agency REST protocol). The sidecar refuses an agency whose protocol it does not speak.",
    )
    base_url = fields.Char("Base URL", required=True, tracking=True)
    api_key = fields.Char("API key", groups="nordic_dunning.group_nordic_dunning_manager", copy=False)
    environment = fields.Selection(
        [("test", "Test"), ("production", "Production")],
        default="test",
        required=True,
        tracking=True,
        help="A production agency is refused from a neutralized (test) database; a test agency is refused "
        "from a production database unless explicitly allowed.",
    )
    allow_test_from_production = fields.Boolean(
        "Allow from a production database",
        tracking=True,
        help="Let this test agency be used from a production database (integration tests against a sandbox).",
    )
    company_ids = fields.Many2many(
        "res.company", string="Companies", help="Companies whose invoices this agency collects (empty: all)."
    )
    journal_ids = fields.Many2many(
        "account.journal",
        string="Invoice journals",
        domain="[('type', '=', 'sale')]",
        help="Only invoices of these journals (empty: every journal of the companies). A journal match wins "
        "over a company match.",
    )
    payment_journal_id = fields.Many2one(
        "account.journal",
        "Payment journal",
        domain="[('type', 'in', ('bank', 'cash'))]",
        help="Journal of the payments the agency forwards to us.",
    )
    user_id = fields.Many2one(
        "res.users", "Responsible", help="Gets disputes and write-off proposals when the invoice has no salesperson."
    )
    dispute_reply_days = fields.Integer(
        "Days to answer a dispute", default=14, help="Used when the agency gives no reply deadline."
    )
    dispute_reminder_days = fields.Integer(
        "Remind days before the deadline", default=3, help="An e-mail reminder when a dispute is still unanswered."
    )
    cursor = fields.Char(readonly=True, copy=False, help="Position in the agency's change feed.")
    last_sync = fields.Datetime(readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    last_worker = fields.Char(readonly=True, copy=False)
    case_ids = fields.One2many("nordic.collection.case", "agency_id", string="Cases")
    case_count = fields.Integer(compute="_compute_stats")
    open_case_count = fields.Integer("Open cases", compute="_compute_stats")
    quarantined_count = fields.Integer("Quarantined changes", compute="_compute_stats")
    avg_handling_days = fields.Float(
        "Average handling time (days)",
        compute="_compute_stats",
        digits=(16, 1),
        help="From submission to closure, over the closed cases.",
    )
    recovery_rate = fields.Float(
        "Recovery rate (%)",
        compute="_compute_stats",
        digits=(16, 1),
        help="Paid via the agency in percent of the principal handed over, over the closed cases.",
    )

    _sql_constraints = [("code_uniq", "unique(code)", "The agency code must be unique.")]

    @api.constrains("environment", "base_url")
    def _check_production_url(self):
        """A production agency receives debtors' personal data and its API key: only over TLS."""
        for agency in self:
            if agency.environment == "production" and not (agency.base_url or "").lower().startswith("https://"):
                raise ValidationError(
                    _("Agency %s is a production agency: its base URL must start with https://.", agency.name)
                )

    @api.constrains("payment_journal_id", "company_ids")
    def _check_payment_journal(self):
        """The payment journal belongs to a company the agency serves, or to a parent of one (a branch's
        payments arrive at its head office's bank)."""
        for agency in self:
            journal = agency.payment_journal_id
            if journal and agency.company_ids and journal.company_id not in agency.company_ids.parent_ids:
                raise ValidationError(
                    _(
                        "The payment journal %(journal)s of agency %(agency)s belongs to %(company)s, which is "
                        "neither a company the agency serves nor the parent of one.",
                        journal=journal.display_name,
                        agency=agency.name,
                        company=journal.company_id.name,
                    )
                )

    def _compute_stats(self):
        counts = {}
        for agency, state, count in self.env["nordic.collection.case"]._read_group(
            [("agency_id", "in", self.ids)], ["agency_id", "state"], ["__count"]
        ):
            counts.setdefault(agency, {})[state] = count
        quarantined = dict(
            self.env["nordic.collection.case.change"]._read_group(
                [("agency_id", "in", self.ids), ("state", "=", "quarantined")], ["agency_id"], ["__count"]
            )
        )
        closed = {
            agency: (count, days, paid, principal)
            for agency, count, days, paid, principal in self.env["nordic.collection.case"]._read_group(
                [("agency_id", "in", self.ids), ("state", "in", CLOSED_STATES), ("submitted_date", "!=", False)],
                ["agency_id"],
                ["__count", "handling_days:avg", "amount_paid:sum", "amount_principal:sum"],
            )
        }
        for agency in self:
            count, days, paid, principal = closed.get(agency, (0, 0.0, 0.0, 0.0))
            agency.avg_handling_days = days if count else 0.0
            agency.recovery_rate = paid / principal * 100.0 if principal else 0.0
            by_state = counts.get(agency, {})
            agency.case_count = sum(by_state.values())
            agency.open_case_count = sum(n for s, n in by_state.items() if s not in CLOSED_STATES)
            agency.quarantined_count = quarantined.get(agency, 0)

    def action_view_cases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "nordic_dunning_collection.action_nordic_collection_case"
        )
        action["domain"] = [("agency_id", "=", self.id)]
        action["context"] = {"default_agency_id": self.id}
        return action

    def action_view_quarantine(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Quarantined changes of %s", self.name),
            "res_model": "nordic.collection.case.change",
            "view_mode": "list,form",
            "domain": [("agency_id", "=", self.id), ("state", "=", "quarantined")],
        }

    # ------------------------------------------------------------------
    # Routing and guards
    # ------------------------------------------------------------------

    @api.model
    def _agency_by_move(self, moves):
        """{move: agency} for the invoices some active agency serves (journal match first, then company)."""
        agencies = self.search([])
        result = {}
        for move in moves:
            best = None
            for agency in agencies:
                if agency.company_ids and move.company_id not in agency.company_ids:
                    continue
                if agency.journal_ids and move.journal_id not in agency.journal_ids:
                    continue
                score = (bool(agency.journal_ids), bool(agency.company_ids))
                if best is None or score > best[0]:
                    best = (score, agency)
            if best:
                result[move] = best[1]
        return result

    @api.model
    def _database_is_neutralized(self):
        return bool(self.env["ir.config_parameter"].sudo().get_param("database.is_neutralized"))

    def _environment_error(self):
        """Why this agency must not be used from this database, or False."""
        self.ensure_one()
        neutralized = self._database_is_neutralized()
        if self.environment == "production" and neutralized:
            return _(
                "Agency %s is a production agency and this database is a neutralized (test) copy: "
                "nothing is sent to it from here.",
                self.name,
            )
        if self.environment == "test" and not neutralized and not self.allow_test_from_production:
            return _(
                "Agency %s is a test agency and this is a production database: enable 'Allow from a production "
                "database' on the agency if this is really intended.",
                self.name,
            )
        return False

    def _check_environment(self):
        for agency in self:
            error = agency._environment_error()
            if error:
                raise UserError(error)

    @api.model
    def _sidecar_provision_user(self, login="nordic_sidecar", name="Collection sidecar", key_name="nordic-sidecar"):
        """(user, API key): the sidecar's technical user, created if missing, with a new RPC API key.

        For administrators' scripts (odoo shell, the demo): the user belongs to the sidecar group only,
        so the key opens nothing but the sidecar methods.
        """
        if not (self.env.su or self.env.user.has_group("base.group_system")):
            raise AccessError(_("Only an administrator can provision the sidecar user."))
        group = self.env.ref("nordic_dunning_collection.group_nordic_dunning_sidecar")
        users = self.env["res.users"].sudo().with_context(no_reset_password=True, active_test=False)
        user = users.search([("login", "=", login)], limit=1)
        if not user:
            # One company is enough: the sidecar methods work as superuser across companies.
            company = self.env["res.company"].sudo().search([], limit=1)
            user = users.create(
                {
                    "name": name,
                    "login": login,
                    "company_id": company.id,
                    "company_ids": [Command.set(company.ids)],
                    "groups_id": [Command.set(group.ids)],
                }
            )
        # Several companies imply the (access-free) multi-company group; anything else is too much.
        if user.groups_id - group - self.env.ref("base.group_multi_company"):
            raise UserError(_("User %s exists with other groups: the sidecar user must have only its own.", login))
        key = self.env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", key_name, None)
        return user, key
