import threading

from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools.system import as_system, check_system_fields

# What the run decided and who did what: set by its buttons, never written by a caller.
SYSTEM_FIELDS = (
    "state",
    "line_ids",
    "unsent_move_ids",
    "fee_move_ids",
    "notice_ids",
    "letter_attachment_id",
    "confirm_user_id",
    "confirm_date",
    "anomaly_note",
    "approved_user_id",
    "approved_date",
    "cancel_reason",
    "withheld_note",
    "built_on",
    "rate_warning",
    # The background sending (nordic_dunning_run_sending.py): its state, what it sends, its progress, failures.
    "sending_state",
    "send_letters",
    "send_emails",
    "send_failure_ids",
    "fees_done",
    "fees_total",
    "letters_done",
    "letters_total",
    "mails_done",
    "mails_total",
    "sending_progress",
)
# Once a run is reviewed or executed, what it was built for stays as it was.
BUILT_FIELDS = ("company_id", "policy_id", "date")


class NordicDunningRun(models.Model):
    """A reviewable batch of dunning measures for one policy, built from one selection query."""

    _name = "nordic.dunning.run"
    _description = "Dunning run"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, default="/", copy=False)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    policy_id = fields.Many2one("nordic.dunning.policy", required=True, check_company=True, tracking=True)
    date = fields.Date(
        "Dunning date",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
        help="Invoices whose next dunning date is on or before this date are proposed. The measures are dated, "
        "and their deadlines, fees and interest counted, on the day they are sent: a run confirmed days after it "
        "was built (a Tuesday list confirmed on Thursday) sends them as of its confirmation day.",
    )
    built_on = fields.Date("Built on", readonly=True, copy=False, help="The day the proposal was (re)built.")
    rate_warning = fields.Text(
        "Missing legal rates",
        readonly=True,
        copy=False,
        help="Half-yearly rates the run needed that have no value for the half-year of its date yet: the last "
        "recorded value was used.",
    )
    state = fields.Selection(
        [
            ("draft", "To review"),
            ("to_approve", "Needs approval"),
            ("done", "Confirmed"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        tracking=True,
        index=True,
    )
    scheduled_confirm_at = fields.Datetime(
        "Confirms automatically at", tracking=True, help="Unless stopped, the run is confirmed at this moment."
    )
    line_ids = fields.One2many("nordic.dunning.run.line", "run_id", string="Lines")
    event_ids = fields.Many2many("nordic.dunning.event", string="Events", compute="_compute_event_ids")
    unsent_move_ids = fields.Many2many(
        "account.move",
        "nordic_dunning_run_unsent_rel",
        "run_id",
        "move_id",
        string="Overdue but never sent",
        help="Overdue invoices left out because nothing proves the invoice itself reached the customer.",
    )
    fee_move_ids = fields.Many2many(
        "account.move",
        "nordic_dunning_run_fee_move_rel",
        "run_id",
        "move_id",
        string="Fee entries",
        readonly=True,
        copy=False,
    )
    letter_attachment_id = fields.Many2one(
        "ir.attachment", "Letters (PDF)", readonly=True, copy=False, help="The print batch: every letter of the run."
    )
    notice_ids = fields.One2many("nordic.dunning.notice", "run_id", "Notices", readonly=True)
    confirm_user_id = fields.Many2one("res.users", "Confirmed by", readonly=True, copy=False)
    confirm_date = fields.Datetime("Confirmed on", readonly=True, copy=False)
    anomaly_note = fields.Text("Why it needs approval", readonly=True, copy=False)
    approved_user_id = fields.Many2one("res.users", "Approved by", readonly=True, copy=False, tracking=True)
    approved_date = fields.Datetime("Approved on", readonly=True, copy=False)
    cancel_reason = fields.Char(readonly=True, copy=False, tracking=True)
    withheld_note = fields.Text(
        "Withheld (test database)",
        readonly=True,
        copy=False,
        help="What a neutralized database did not send to customers.",
    )
    line_count = fields.Integer(compute="_compute_counts")
    event_count = fields.Integer(compute="_compute_counts")
    unsent_count = fields.Integer(compute="_compute_counts")
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_residual = fields.Monetary("Open amount", compute="_compute_counts")
    fee_total = fields.Monetary("Fees", compute="_compute_counts")

    def _compute_counts(self):
        lines = {
            (run, state): (count, residual, fee)
            for run, state, count, residual, fee in self.env["nordic.dunning.run.line"]._read_group(
                [("run_id", "in", self.ids)],
                ["run_id", "decision"],
                ["__count", "amount_residual:sum", "fee_amount:sum"],
            )
        }
        events = self._events_by_run("COUNT(*)")
        for run in self:
            # Proposed lines: still to execute, or executed once the run is confirmed.
            run.line_count, run.amount_residual, run.fee_total = lines.get((run, "proposed"), (0, 0.0, 0.0))
            run.event_count = events.get(run._origin.id, 0)
            run.unsent_count = len(run.unsent_move_ids)

    def _compute_event_ids(self):
        by_run = self._events_by_run("ARRAY_AGG(e.id ORDER BY e.id)")
        for run in self:
            run.event_ids = self.env["nordic.dunning.event"].browse(by_run.get(run._origin.id, []))

    def _events_by_run(self, aggregate):
        """{run id: ``aggregate`` of its events} (``COUNT(*)``, ``ARRAY_AGG(e.id ...)``), through the lines."""
        run_ids = [run_id for run_id in self._origin.ids if run_id]
        if not run_ids:
            return {}
        self.env["nordic.dunning.event"].flush_model(["line_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT l.run_id, %s
                  FROM nordic_dunning_event e
                  JOIN nordic_dunning_run_line l ON l.id = e.line_id
                 WHERE l.run_id = ANY(%s)
                 GROUP BY l.run_id
                """,
                SQL(aggregate),  # a constant of the callers
                run_ids,
            )
        )
        return dict(self.env.cr.fetchall())

    @api.ondelete(at_uninstall=False)
    def _unlink_except_confirmed(self):
        if any(run.confirm_date for run in self):
            raise UserError(_("A confirmed run is part of the audit trail; cancel its measures instead."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # A new run is a draft with nothing decided yet: the form sends those defaults, a caller nothing else.
            decided = {
                key: value
                for key, value in vals.items()
                if value
                and not (key == "state" and value == "draft")
                and not (key == "sending_state" and value == "none")
                and not (key == "name" and value == "/")
            }
            check_system_fields(self, decided, (*SYSTEM_FIELDS, "name"))
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("nordic.dunning.run") or "/"
        return super().create(vals_list)

    def write(self, vals):
        check_system_fields(self, vals, (*SYSTEM_FIELDS, "name"))
        if set(vals) & set(BUILT_FIELDS) and any(run.state != "draft" or run.confirm_date for run in self):
            raise UserError(_("The policy, company and date of a held, confirmed or cancelled run cannot change."))
        return super().write(vals)

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_generate(self):
        """(Re)build the proposal of draft runs."""
        for run in as_system(self):
            if run.state != "draft":
                raise UserError(_("Only a run under review can be rebuilt."))
            run._lock()
            run.line_ids.sudo().unlink()
            run.unsent_move_ids = [(5,)]
            run._generate_lines()
            run._guard()
        return True

    def action_confirm(self):
        """Execute the run: events and next dates now; fees, letters and e-mails enqueued as jobs."""
        return self._confirm()

    def _confirm(self, send=True, letters=True):
        """Confirm these runs; ``send``/``letters`` False (benchmarks, demo data, tests) skip the documents."""
        for run in as_system(self):
            run._lock()
            if run.state == "to_approve":
                raise UserError(_("Run %s is held for approval: a Dunning manager must approve it first.", run.name))
            if run.state != "draft":
                raise UserError(_("Run %s is not waiting for confirmation.", run.name))
            run._execute(send=send, letters=letters)
        return True

    def action_approve(self):
        """A Dunning manager accepts a held run: it goes back to review and can then be confirmed."""
        if not self.env.user.has_group("nordic_dunning.group_nordic_dunning_manager"):
            raise UserError(_("Only a Dunning manager can approve a held run."))
        for run in as_system(self):
            if run.state != "to_approve":
                raise UserError(_("Run %s is not waiting for approval.", run.name))
            run.write(
                {
                    "state": "draft",
                    "approved_user_id": self.env.uid,
                    "approved_date": fields.Datetime.now(),
                    "scheduled_confirm_at": run._next_confirm_moment(),
                }
            )
            run.message_post(body=_("Approved despite: %s", run.anomaly_note or "-"))
        return True

    def action_open_cancel_wizard(self):
        """Cancel with a reason: a run under review is dropped, a confirmed one is mass-cancelled."""
        return {
            "type": "ir.actions.act_window",
            "name": _("Cancel dunning"),
            "res_model": "nordic.dunning.cancel",
            "view_mode": "form",
            "target": "new",
            "context": {"default_run_id": self.id if len(self) == 1 else False},
        }

    def action_cancel(self):
        for run in self:
            if run.state not in ("draft", "to_approve"):
                raise UserError(_("A confirmed run is cancelled with the mass cancellation, not here."))
        as_system(self).write({"state": "cancelled", "scheduled_confirm_at": False})
        return True

    @api.model
    def action_build_now(self):
        """Menu button: build today's runs for the selected companies and open them."""
        policies = self.env["nordic.dunning.policy"].search([("company_id", "in", self.env.companies.ids)])
        runs = self.browse()
        for company in policies.company_id:
            own = policies.filtered(lambda p, company=company: p.company_id == company)
            runs |= as_system(self.with_company(company))._build_for_policies(own)
        action = self.env["ir.actions.act_window"]._for_xml_id("nordic_dunning.action_nordic_dunning_run")
        action["domain"] = [("id", "in", runs.ids)]
        action["context"] = {}
        if not runs:
            action["help"] = _("<p>No invoice is due for a dunning level today.</p>")
        return action

    def action_view_lines(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Lines of %s", self.name),
            "res_model": "nordic.dunning.run.line",
            "view_mode": "list,form",
            "domain": [("run_id", "=", self.id)],
        }

    def action_view_events(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Events of %s", self.name),
            "res_model": "nordic.dunning.event",
            "view_mode": "list,form",
            "domain": [("run_id", "=", self.id)],
        }

    def action_print_letters(self):
        """The run's print batch: its letters' stored PDFs merged into one."""
        self.ensure_one()
        return as_system(self)._letters_batch_action()

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _lock(self):
        """Row lock so two users (or a user and the cron) never execute the same run."""
        try:
            self.env.cr.execute("SELECT id FROM nordic_dunning_run WHERE id = %s FOR UPDATE NOWAIT", [self.id])
        except pg_errors.LockNotAvailable as err:
            raise UserError(_("Run %s is being processed by someone else; try again in a moment.", self.name)) from err
        self.invalidate_recordset(["state"])

    # ------------------------------------------------------------------
    # Crons
    # ------------------------------------------------------------------

    @api.model
    def _cron_build_runs(self):
        """Daily: a run per active policy with invoices due for a level."""
        policies = self.env["nordic.dunning.policy"].search([])
        for company in policies.company_id:
            own = policies.filtered(lambda p, company=company: p.company_id == company)
            as_system(self.with_company(company))._build_for_policies(own)
            if not getattr(threading.current_thread(), "testing", False):
                self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _cron_confirm_scheduled(self):
        """Confirm the runs whose review window has closed (seed 004: Thursday morning)."""
        runs = self.search([("state", "=", "draft"), ("scheduled_confirm_at", "<=", fields.Datetime.now())])
        for run in runs:
            run.with_company(run.company_id).action_confirm()
        return runs
