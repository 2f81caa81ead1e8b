"""Attacks on the engine's guarantees, made as a user would make them over RPC: the ORM with that user's
rights and any context they like. Each attack is refused, and nothing it aimed at has changed."""

from datetime import date

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.nordic_dunning.tools.system import as_system
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import NordicDunningCommon

# Context keys an attacker may try: switches that once existed or look as if they might.
FORGED_CONTEXT = {
    "nordic_dunning_event_init": True,
    "nordic_dunning_system": True,
    "nordic_dunning_no_send": True,
    "nordic_dunning_no_letters": True,
    "tracking_disable": True,
}


@tagged("post_install", "-at_install")
class TestEngineAttacks(NordicDunningCommon):
    """A Dunning user (and a Dunning manager) trying to rewrite the audit trail, a run's amounts or its
    outcome, or to make a run record documents it never sent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.company_user("nd_attacker", "nordic_dunning.group_nordic_dunning_user")
        cls.manager = cls.company_user("nd_attacker_manager", "nordic_dunning.group_nordic_dunning_manager")
        cls.invoice = cls.make_invoice(1000.0, due=date(2026, 4, 1))

    def as_attacker(self, records, user=None):
        """``records`` as the attacker sees them over RPC: their own rights, their own context."""
        return records.browse(records.ids).with_user(user or self.user).with_context(**FORGED_CONTEXT)

    def snapshot(self, records, names):
        records.invalidate_recordset()
        return [tuple(record[name] for name in names) for record in records]

    # ------------------------------------------------------------------
    # The audit trail
    # ------------------------------------------------------------------

    def test_event_fields_cannot_be_rewritten(self):
        """Attack: rewrite an event's amounts, date or reference, with the old "init" context key set.
        Refused for a user and a manager alike; the event reads as it was recorded."""
        event = self.confirm(self.build_run(date(2026, 4, 10)))
        names = ["date", "fee_amount", "amount_total", "payment_reference", "state"]
        before = self.snapshot(event, names)
        for user in (self.user, self.manager):
            for vals in ({"fee_amount": 0.0}, {"date": date(2026, 5, 1)}, {"payment_reference": "X"}):
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    self.as_attacker(event, user).write(vals)
        self.assertEqual(self.snapshot(event, names), before)

    def test_event_cannot_be_cancelled_by_hand(self):
        """Attack: "cancel" a measure by writing its state and a forged canceller, bypassing the manager-only
        mass cancellation (which reverses the fee and proposes refunds). Refused; the event stays done."""
        event = self.confirm(self.build_run(date(2026, 4, 10)))
        for user in (self.user, self.manager):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                self.as_attacker(event, user).write(
                    {"state": "cancelled", "cancel_reason": "x", "cancel_user_id": self.manager.id}
                )
        event.invalidate_recordset()
        self.assertEqual(
            (event.state, event.cancel_user_id, event.cancel_reason), ("done", self.env["res.users"], False)
        )

    def test_events_cannot_be_created_or_deleted(self):
        """Attack: record a measure that was never taken, or delete one that was. Both refused."""
        event = self.confirm(self.build_run(date(2026, 4, 10)))
        vals = {"move_id": self.invoice.id, "line_id": event.line_id.id, "date": date(2026, 4, 11)}
        for user in (self.user, self.manager):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                self.as_attacker(self.env["nordic.dunning.event"], user).create(vals)
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                self.as_attacker(event, user).unlink()
        self.assertEqual(self.invoice.nordic_dunning_event_ids, event)

    def test_document_and_cancellation_are_written_once(self):
        """Even the product's own path cannot replace a document recorded on an event, nor bring a cancelled
        event back: the trail only grows."""
        event = as_system(self.confirm(self.build_run(date(2026, 4, 10)))).sudo()
        attachment = self.env["ir.attachment"].create({"name": "a.pdf", "raw": b"%PDF"})
        event.letter_attachment_id = attachment
        other = self.env["ir.attachment"].create({"name": "b.pdf", "raw": b"%PDF"})
        with self.assertRaises(AccessError):
            event.letter_attachment_id = other
        event.write({"state": "cancelled", "cancel_reason": "wrong customer"})
        with self.assertRaises(AccessError):
            event.write({"state": "done"})
        with self.assertRaises(AccessError):
            event.write({"cancel_reason": "rewritten"})
        self.assertEqual((event.letter_attachment_id, event.cancel_reason), (attachment, "wrong customer"))

    # ------------------------------------------------------------------
    # A run's lines: amounts the law caps
    # ------------------------------------------------------------------

    def test_line_amounts_cannot_be_raised(self):
        """Attack: raise the fee and interest of a proposed line past the legal cap before confirming.
        Refused; confirmation books the fee the run computed."""
        run = self.build_run(date(2026, 4, 10))
        line = run.line_ids
        fee = line.fee_amount
        for vals in ({"fee_amount": 5000.0}, {"interest_amount": 999.0}, {"amount_residual": 99999.0}):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                self.as_attacker(line).write(vals)
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_attacker(run).write({"line_ids": [(1, line.id, {"fee_amount": 5000.0})]})
        self.as_attacker(run).action_confirm()
        self.assertEqual(self.invoice.nordic_dunning_event_ids.fee_amount, fee)

    def test_lines_cannot_be_added_removed_or_marked_skipped(self):
        """Attack: add a line for an invoice the run did not propose (an unsent one, say), delete a proposed
        line without a trace, or mark it "skipped" as if the run had decided so. All refused; a reviewer
        stops a line, and the note says who."""
        unsent = self.make_invoice(700.0, due=date(2026, 4, 1), sent=False)
        run = self.build_run(date(2026, 4, 10))
        line = run.line_ids
        vals = {"run_id": run.id, "move_id": unsent.id, "level_id": line.level_id.id}
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_attacker(self.env["nordic.dunning.run.line"]).create(vals)
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_attacker(line).unlink()
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_attacker(line).write({"decision": "skipped"})
        self.assertEqual(run.line_ids, line)
        self.as_attacker(line).action_stop()
        self.assertEqual(line.decision, "stopped")
        self.assertIn(self.user.name, line.note)

    # ------------------------------------------------------------------
    # A run's outcome
    # ------------------------------------------------------------------

    def test_held_run_cannot_be_released_by_writing_its_state(self):
        """Attack: a Dunning user releases a run held for a manager's approval (seed 003) by writing its
        state, or forges the approval. Refused; the run stays held and unapproved."""
        run = self.build_run(date(2026, 4, 10))
        as_system(run).write({"state": "to_approve", "anomaly_note": "Ten times the usual run"})
        for vals in (
            {"state": "draft"},
            {"approved_user_id": self.manager.id},
            {"anomaly_note": False},
            {"confirm_user_id": self.manager.id},
        ):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                self.as_attacker(run).write(vals)
        run.invalidate_recordset()
        self.assertEqual((run.state, run.approved_user_id), ("to_approve", self.env["res.users"]))
        with self.assertRaises(UserError):
            self.as_attacker(run).action_confirm()

    def test_run_cannot_be_created_executed_or_rebased(self):
        """Attack: create a run that is already "done" (or confirmed by someone else), or move a confirmed
        run to another policy or date. Refused."""
        Run = self.as_attacker(self.env["nordic.dunning.run"])
        for extra in ({"state": "done"}, {"confirm_user_id": self.manager.id}, {"name": "RUN/FAKE"}):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                Run.create({"policy_id": self.policy.id, "date": date(2026, 4, 10), **extra})
        run = self.build_run(date(2026, 4, 10))
        self.confirm(run)
        with self.assertRaises(UserError), self.env.cr.savepoint():
            self.as_attacker(run).write({"date": date(2026, 6, 1)})
        self.assertEqual(run.date, date(2026, 4, 10))

    def test_context_cannot_make_a_run_record_unsent_documents(self):
        """Attack: confirm a run with the context switches that once skipped e-mails and letters, so the
        events would claim reminders that were never sent. The switches do nothing: the e-mail is queued and
        linked to the event as proof of sending."""
        level = self.levels[0]
        self.assertTrue(level.channel_email, "the first Swedish level e-mails the reminder")
        run = self.build_run(date(2026, 4, 10))
        with trap_jobs() as trap:
            self.as_attacker(run).action_confirm()
            trap.perform_enqueued_jobs()
        event = self.invoice.nordic_dunning_event_ids
        self.assertTrue(event.channel_email)
        self.assertTrue(event.mail_message_id, "the e-mail the event records was sent")
