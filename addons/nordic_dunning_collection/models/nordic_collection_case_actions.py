"""What people and the product do with a collection case: the buttons (each checks who acts), the hooks of
the engine, and the commands queued for the agency."""

from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.nordic_dunning.tools.system import as_system

from .nordic_collection_agency import CLOSED_STATES


# The case's behaviour is split from its fields and records to keep each file short.
# pylint: disable=consider-merging-classes-inherited
class NordicCollectionCase(models.Model):
    _inherit = "nordic.collection.case"

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def _as_dunning_user(self):
        """These cases as the product writes them for a button, after checking the caller is a Dunning user.

        A button is a public method any reader of a case can call over RPC; the fields it writes are the
        product's (see nordic_collection_case_guard.py), so the check of who acts is here, not in the view.
        """
        if not (self.env.su or self.env.user.has_group("nordic_dunning.group_nordic_dunning_user")):
            raise AccessError(_("Only a Dunning user can act on collection cases."))
        self.check_access("read")
        return as_system(self.sudo())

    def action_notify_agency(self):
        """The debtor disputed the claim with us: ask the agency to pause the case.

        A case still in the outbox is simply held back: the agency never sees it until resumed.
        """
        self._as_dunning_user()._hold_or_tell(
            "to_submit", "paused", "pause", _("The debtor disputes the claim with the creditor.")
        )
        return True

    def action_resume(self):
        cases = self._as_dunning_user()
        if any(case.dispute_at_agency and not case.dispute_answer for case in cases):
            raise UserError(_("The agency waits for the answer to the debtor's dispute: uphold or drop the claim."))
        cases._hold_or_tell("paused", "to_submit", "resume", _("Resumed by the creditor."))
        return True

    def action_excess_reviewed(self):
        """A Dunning manager has settled what the agency paid above the claim (refunded the debtor, or agreed
        with the agency): the flag goes, the amount stays on the case as a record."""
        if not (self.env.su or self.env.user.has_group("nordic_dunning.group_nordic_dunning_manager")):
            raise AccessError(_("Only a Dunning manager can close the review of a payment above the claim."))
        cases = self._as_dunning_user().filtered("excess_review")
        cases.write({"excess_review": False})
        cases.activity_feedback(["mail.mail_activity_data_todo"], feedback=_("Payment above the claim reviewed."))
        return True

    def _hold_or_tell(self, state, target, action, reason):
        """Cases in ``state`` the agency never received simply move to ``target``; the agency is told ``action``
        for the others."""
        outbox = self.filtered(lambda c: c.state == state and not c.external_id)
        outbox.write({"state": target})
        if self - outbox:
            (self - outbox)._queue_commands(action, reason=reason)

    def action_withdraw(self):
        self._as_dunning_user()._queue_commands("withdraw", reason=_("Withdrawn by the creditor."))
        return True

    def action_dispute_uphold(self):
        """Answer the agency's dispute question: the claim stands."""
        self._as_dunning_user()._answer_dispute("uphold")
        return True

    def action_dispute_withdraw(self):
        """Answer the agency's dispute question: the claim is dropped."""
        self._as_dunning_user()._answer_dispute("withdraw")
        return True

    def action_cancel(self):
        """Cancel a case the agency has not received yet."""
        cases = self._as_dunning_user()
        if any(case.state not in ("to_submit", "failed") or case.external_id for case in cases):
            raise UserError(_("Only a case not yet submitted can be cancelled; withdraw it at the agency instead."))
        cases.write({"state": "cancelled"})
        return True

    def action_retry(self):
        """Put a case that failed to submit back in the outbox."""
        cases = self._as_dunning_user()
        if any(
            case.state != "to_submit" and not (case.state == "submitting" and not case.external_id) for case in cases
        ):
            raise UserError(_("Only cases waiting for submission can be retried."))
        cases.write({"state": "to_submit", "claimed_by": False, "claimed_at": False, "last_error": False})
        return True

    def action_view_invoice(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "view_mode": "form",
            "res_id": self.move_id.id,
        }

    # ------------------------------------------------------------------
    # Hooks
    # ------------------------------------------------------------------

    @api.model
    def _on_cases_failed(self, cases):
        """Hook: the agency reported these cases as failed (a confirmed loss). Nothing to do here; the
        approval addon (nordic_dunning_approval) proposes the write-off."""

    @api.model
    def _withdraw_for_events(self, events, reason):
        """The measures ``events`` were cancelled: stop every open case of their invoices that no standing
        measure supports any more (the case came from a cancelled hand-over, or the invoice is no longer handed
        over). A case the agency has not received is cancelled here; the agency is told to withdraw the others.
        Returns the cases stopped."""
        cases = as_system(self.sudo()).search(
            [("move_id", "in", events.move_id.ids), ("state", "not in", CLOSED_STATES)]
        )
        cases = cases.filtered(lambda c: c.event_id in events or c.move_id.nordic_dunning_state != "handed_over")
        unsent = cases.filtered(lambda c: not c.external_id and c.state in ("to_submit", "paused"))
        unsent.write({"state": "cancelled", "claimed_by": False, "claimed_at": False})
        note = _("Dunning measures cancelled: %s", reason)
        unsent._message_log_batch(bodies={case.id: note for case in unsent})
        if cases - unsent:
            (cases - unsent)._queue_commands("withdraw", reason=note)
        return cases

    # ------------------------------------------------------------------
    # Commands and disputes
    # ------------------------------------------------------------------

    def _queue_commands(self, action, reason=False, data=None):
        """Queue ``action`` for the cases that have no such command pending yet (idempotent)."""
        cases = self.filtered(lambda c: c.state not in ("withdrawn", "cancelled", "paid"))
        if not cases:
            raise UserError(_("These cases are closed: there is nothing to tell the agency."))
        if any(not case.agency_id for case in cases):
            raise UserError(_("Choose a collection agency on the case first."))
        pending = (
            self.env["nordic.collection.case.command"]
            .search([("case_id", "in", cases.ids), ("action", "=", action), ("state", "=", "pending")])
            .case_id
        )
        todo = cases - pending
        commands = as_system(self.env["nordic.collection.case.command"].sudo()).create(
            [
                {"case_id": case.id, "action": action, "reason": reason, "data": dict(data or {}, reason=reason or "")}
                for case in todo
            ]
        )
        for case in todo:
            case.message_post(
                body=_("Queued for the agency: %(action)s. %(reason)s", action=action, reason=reason or "")
            )
        return commands

    def _answer_dispute(self, answer):
        cases = self.filtered("dispute_at_agency")
        if not cases or cases != self:
            raise UserError(_("Only a dispute reported by the agency can be answered here."))
        if any(case.dispute_answer for case in cases):
            raise UserError(_("This dispute was already answered."))
        cases._queue_commands("dispute_answer", data={"answer": answer, "text": ""})
        cases.write({"dispute_answer": answer})
        cases.activity_feedback(["nordic_dunning_collection.mail_activity_type_collection_dispute"])
        return True

    @api.model
    def _cron_dispute_deadlines(self):
        """Remind the responsible user of unanswered agency disputes; withdraw at the deadline."""
        today = fields.Date.context_today(self)
        open_disputes = as_system(self.sudo()).search(
            [
                ("dispute_at_agency", "=", True),
                ("dispute_answer", "=", False),
                ("dispute_reply_by", "!=", False),
                ("state", "not in", ("withdrawn", "cancelled", "paid")),
            ]
        )
        due = open_disputes.filtered(lambda c: c.dispute_reply_by <= today)
        to_remind = (open_disputes - due).filtered(
            lambda c: (
                not c.dispute_reminded
                and c.dispute_reply_by - timedelta(days=c.agency_id.dispute_reminder_days or 0) <= today
            )
        )
        template = self.env.ref(
            "nordic_dunning_collection.mail_template_collection_dispute_reminder", raise_if_not_found=False
        )
        if template and to_remind:
            template.send_mail_batch(to_remind.ids)
        to_remind.write({"dispute_reminded": True})
        if due:
            # Seed 004: an unanswered dispute ends the case at the agency; we withdraw it ourselves first.
            due._queue_commands("withdraw", reason=_("Dispute not answered by the deadline."))
            due.write({"dispute_answer": "withdraw"})
        return to_remind, due

    def _plan_activities(self, xmlid, entries):
        """One automated activity of type ``xmlid`` per (case, summary, note, deadline) of ``entries``, for the
        case's responsible (else the agency's, else the administrator). No assignment e-mail from the technical
        user: the activity itself is the notification."""
        if not entries:
            return self.env["mail.activity"]
        # One per case: two reports of one page (two disputes of one debtor) are one thing to do, the latest.
        entries = list({case: (case, summary, note, deadline) for case, summary, note, deadline in entries}.values())
        activity_type = self.env.ref(xmlid)
        model_id = self.env["ir.model"]._get_id(self._name)
        admin = self.env.ref("base.user_admin")
        return (
            self.env["mail.activity"]
            .with_context(mail_activity_quick_update=True)
            .create(
                [
                    {
                        "res_model_id": model_id,
                        "res_id": case.id,
                        "activity_type_id": activity_type.id,
                        "summary": summary,
                        "note": note,
                        "user_id": (case.user_id or case.agency_id.user_id or admin).id,
                        "date_deadline": deadline or fields.Date.context_today(self),
                        "automated": True,
                    }
                    for case, summary, note, deadline in entries
                ]
            )
        )
