from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools.system import check_system_fields, is_system

# What a reviewer decides on a line; everything else (invoice, level, amounts) the run computed, within the
# law's caps, and confirmation books and prints it as it is.
REVIEW_FIELDS = {"decision", "note"}


class NordicDunningRunLine(models.Model):
    """One invoice proposed for its next dunning level in a run."""

    _name = "nordic.dunning.run.line"
    _description = "Dunning run line"
    _order = "run_id, partner_id, move_id"
    _check_company_auto = True
    # Lines are written in bulk by the run (a run may hold 100k of them) and only ever changed by a
    # reviewer stopping or restoring one, which the line's note records. Company, customer and currency
    # are the invoice's (read through it), so a line row holds only what the run decided.
    _log_access = False

    run_id = fields.Many2one("nordic.dunning.run", required=True, ondelete="cascade")
    move_id = fields.Many2one("account.move", "Invoice", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="move_id.company_id")
    partner_id = fields.Many2one(related="move_id.commercial_partner_id", string="Customer")
    currency_id = fields.Many2one(related="move_id.currency_id")
    level_id = fields.Many2one("nordic.dunning.level", required=True)
    invoice_date_due = fields.Date(related="move_id.invoice_date_due")
    amount_residual = fields.Monetary("Open amount")
    fee_amount = fields.Monetary("Fee")
    interest_amount = fields.Monetary("Late interest")
    compensation_amount = fields.Monetary("Late-payment compensation")
    amount_total = fields.Monetary("Total due", compute="_compute_amount_total")
    first_measure = fields.Boolean(help="The invoice has never been dunned before.")
    # What the review decided; a proposed line of a confirmed run is done (see ``state``). Confirming a
    # run of 100k lines thus writes no line at all.
    decision = fields.Selection(
        [("proposed", "Proposed"), ("stopped", "Stopped"), ("skipped", "Skipped")],
        default="proposed",
        required=True,
    )
    state = fields.Selection(
        [("proposed", "Proposed"), ("stopped", "Stopped"), ("skipped", "Skipped"), ("done", "Done")],
        compute="_compute_state",
        search="_search_state",
    )
    note = fields.Char(help="Why the line was stopped or skipped.")
    event_id = fields.Many2one(
        "nordic.dunning.event", compute="_compute_event_id", help="The measure this line became."
    )

    _sql_constraints = [
        # Also the index by run: a run's lines are always read through it.
        ("run_move_unique", "UNIQUE(run_id, move_id)", "An invoice is proposed once per run."),
    ]

    @api.depends("decision", "run_id.confirm_date")
    def _compute_state(self):
        # Executed once its run was confirmed, also after a mass cancellation of that run.
        for line in self:
            done = line.decision == "proposed" and line.run_id.confirm_date
            line.state = "done" if done else line.decision

    def _search_state(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(_("Unsupported search on the line status: %s", operator))
        values = {value} if operator in ("=", "!=") else set(value)
        domain = ["|"] * (len(values) - 1) if values else [(0, "=", 1)]
        for state in values:
            if state == "done":
                domain += ["&", ("decision", "=", "proposed"), ("run_id.confirm_date", "!=", False)]
            elif state == "proposed":
                domain += ["&", ("decision", "=", "proposed"), ("run_id.confirm_date", "=", False)]
            else:
                domain += [("decision", "=", state)]
        return ["!", *domain] if operator in ("!=", "not in") else domain

    @api.depends("amount_residual", "fee_amount", "interest_amount", "compensation_amount")
    def _compute_amount_total(self):
        for line in self:
            line.amount_total = line.amount_residual + line.fee_amount + line.interest_amount + line.compensation_amount

    def _compute_event_id(self):
        """The event of a done line (one per line)."""
        events = self.env["nordic.dunning.event"].search([("line_id", "in", self.ids)])
        by_line = {event.line_id.id: event for event in events}
        for line in self:
            line.event_id = by_line.get(line.id, False)

    def _check_run_open(self):
        if any(line.run_id.state not in ("draft", "to_approve") for line in self):
            raise UserError(_("Lines of a confirmed or cancelled run cannot be changed."))

    @api.model_create_multi
    def create(self, vals_list):
        if not is_system(self.env):
            raise AccessError(_("Dunning run lines are proposed by the run itself, never added by hand."))
        return super().create(vals_list)

    def write(self, vals):
        # Only a run under review has changeable lines (stop, restore); an executed line is what its event
        # executed (the event reads its run and level through it). A reviewer stops or restores a line; the
        # amounts, invoice and level are the run's (a fee above the legal cap would be booked as written).
        self._check_run_open()
        check_system_fields(self, vals, set(self._fields) - REVIEW_FIELDS)
        if not is_system(self.env) and vals.get("decision", "stopped") not in ("stopped", "proposed"):
            raise AccessError(_("A reviewer stops or restores a line; the run skips lines itself."))
        return super().write(vals)

    def action_stop(self):
        """Stop these invoices from going on to the proposed level (seed 004's opt-out)."""
        self.write(
            {
                "decision": "stopped",
                "note": self.env.context.get("nordic_stop_reason") or _("Stopped by %s", self.env.user.name),
            }
        )
        return True

    def action_restore(self):
        self._check_run_open()  # also when none of them is stopped
        self.filtered(lambda line: line.decision == "stopped").write({"decision": "proposed", "note": False})
        return True

    @api.ondelete(at_uninstall=False)
    def _unlink_only_open(self):
        self._check_run_open()
        if not is_system(self.env):
            raise AccessError(_("A proposed line is stopped, not deleted: the review keeps why."))
