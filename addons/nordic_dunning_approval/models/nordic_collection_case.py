"""Writing off a confirmed loss from its collection case: the agency's outcome is the evidence and the reason."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

# Agency outcomes from which the invoice may be written off (see _write_off_blocker).
WRITE_OFF_STATES = ("failed", "surveillance")


class NordicCollectionCase(models.Model):
    _inherit = "nordic.collection.case"

    # Write-off of the confirmed loss: the invoice's own flow (wizard, approval, entry)
    writeoff_move_id = fields.Many2one(related="move_id.nordic_writeoff_move_id")
    written_off = fields.Boolean(related="move_id.nordic_written_off", tracking=False)
    can_write_off = fields.Boolean(
        "Can be written off",
        compute="_compute_can_write_off",
        help="The agency reported collection as failed or under surveillance, and the invoice is still open "
        "with no write-off proposed.",
    )

    @api.depends(
        "state",
        "move_id.state",
        "move_id.payment_state",
        "move_id.nordic_written_off",
        "move_id.nordic_writeoff_move_id.state",
    )
    def _compute_can_write_off(self):
        for case in self:
            case.can_write_off = not case._write_off_blocker()

    def action_write_off(self):
        """Open the invoice's write-off wizard with the agency's outcome as the reason (approval as usual)."""
        self.ensure_one()
        self._check_write_off()
        action = self.move_id.action_nordic_writeoff()
        action["context"] = dict(action.get("context") or {}, default_reason=self._write_off_reason())
        return action

    def _write_off_blocker(self):
        """Why the invoice of this case cannot be written off from it, or False.

        Failed is the confirmed loss; surveillance (the agency watches the debtor long-term) is offered too,
        the invoice's evidence rule then asks for a CFO override.
        """
        self.ensure_one()
        move = self.move_id
        if self.state not in WRITE_OFF_STATES:
            return _("Only a case the agency reported as failed or under surveillance can be written off.")
        if move.nordic_written_off or (move.nordic_writeoff_move_id and move.nordic_writeoff_move_id.state != "cancel"):
            return _("%(move)s is already written off or waiting for approval.", move=move.name)
        if move.state != "posted" or move.payment_state not in ("not_paid", "partial"):
            return _("%(move)s has nothing left to write off.", move=move.name)
        return False

    def _check_write_off(self):
        for case in self:
            blocker = case._write_off_blocker()
            if blocker:
                raise UserError(blocker)

    def _write_off_reason(self):
        """The agency's outcome in words: agency, outcome, closure code, date and case."""
        self.ensure_one()
        report = self.change_ids.filtered(
            lambda c: c.state == "applied" and c.type in ("state", "dispute") and c.status == self.agency_status
        ).sorted(lambda c: (c.occurred_at, c.id))[-1:]
        data = (report.payload or {}).get("data") if report else None
        code = data.get("closure_code") if isinstance(data, dict) else None
        entered = self.history_ids.filtered(lambda h: h.new_state == self.state).sorted(lambda h: (h.date, h.id))[-1:]
        outcome = dict(self._fields["state"]._description_selection(self.env))[self.state]
        return _(
            "%(agency)s reported %(outcome)s%(code)s on %(date)s, case %(case)s",
            agency=self.agency_id.name or _("The collection agency"),
            outcome=outcome,
            code=_(" (closure code %s)", code) if code else "",
            date=format_date(self.env, report.occurred_at or entered.date or self.write_date),
            case=" / ".join(filter(None, [self.name, self.external_id])),
        )

    def _write_off_posted(self):
        """The invoice of these cases is written off (entry posted): their write-off proposals are done."""
        self.activity_feedback(
            ["nordic_dunning_approval.mail_activity_type_collection_write_off"],
            feedback=_("The invoice is written off as a confirmed loss."),
        )

    @api.model
    def _on_cases_failed(self, cases):
        """Collection failed (a confirmed loss): ask the responsible accountant to write the invoice off."""
        result = super()._on_cases_failed(cases)
        if not cases:
            return result
        activity_type = self.env.ref("nordic_dunning_approval.mail_activity_type_collection_write_off")
        model_id = self.env["ir.model"]._get_id(self._name)
        self.env["mail.activity"].with_context(mail_activity_quick_update=True).create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": case.id,
                    "activity_type_id": activity_type.id,
                    "automated": True,
                    "summary": self.env._("Write off %s: collection failed", case.move_id.name),
                    "user_id": (case.user_id or case.agency_id.user_id or self.env.ref("base.user_admin")).id,
                    "date_deadline": fields.Date.context_today(self),
                }
                for case in cases
            ]
        )
        return result
