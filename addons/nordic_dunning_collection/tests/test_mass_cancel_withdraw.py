from odoo.tests import tagged

from .collection_common import NordicCollectionCommon


@tagged("post_install", "-at_install")
class TestMassCancelWithdraw(NordicCollectionCommon):
    """Cancelling measures stops them at the agency too (seed 000: demands already handed over had to be
    withdrawn by hand): the engine's ``_on_measures_cancelled`` hook withdraws the cases they opened."""

    def cancel(self, events, reason="Invoices were never sent"):
        wizard = self.env["nordic.dunning.cancel"].create({"event_ids": [(6, 0, events.ids)], "reason": reason})
        wizard.action_cancel()

    def test_cancelled_handover_withdraws_submitted_case_and_cancels_unsent_one(self):
        """A case the agency holds gets one withdraw command with the reason; a case still in the outbox is
        cancelled in Odoo and never reaches the agency; cases of other invoices are left alone."""
        first, second, other = (self.make_invoice(1000.0 + i) for i in range(3))
        cases = self.hand_over(first, second, other)
        self.assertEqual(len(cases), 3)
        at_agency = cases.filtered(lambda c: c.move_id == first)
        unsent = cases.filtered(lambda c: c.move_id == second)
        untouched = cases - at_agency - unsent
        unsent.action_notify_agency()  # held back in the outbox: the sidecar does not submit it
        self.submit(at_agency | untouched)
        self.assertTrue(at_agency.external_id)
        self.assertEqual((unsent.state, unsent.external_id), ("paused", False))
        handovers = (at_agency | unsent).event_id
        self.assertEqual(set(handovers.mapped("kind")), {"handover"})

        self.cancel(handovers)

        command = at_agency.command_ids
        self.assertEqual((len(command), command.action, command.state), (1, "withdraw", "pending"))
        self.assertIn("Invoices were never sent", command.reason)
        self.assertEqual(unsent.state, "cancelled")
        self.assertFalse(unsent.command_ids, "the agency never saw it: nothing to tell")
        self.assertEqual(untouched.state, "submitted")
        self.assertFalse(untouched.command_ids)
        self.assertEqual((first.nordic_dunning_state, second.nordic_dunning_state), ("in_dunning", "in_dunning"))

    def test_cancelling_a_reminder_of_a_handed_over_invoice_keeps_its_case(self):
        """Only the measures that opened a case withdraw it: cancelling an earlier reminder while the
        hand-over stands leaves the case at the agency."""
        invoice = self.make_invoice(1000.0)
        case = self.hand_over(invoice)
        self.submit(case)
        reminder = invoice.nordic_dunning_event_ids.filtered(lambda e: e.kind == "reminder")[:1]
        self.cancel(reminder, reason="Fee charged in error")
        self.assertEqual(invoice.nordic_dunning_state, "handed_over")
        self.assertFalse(case.command_ids)
        self.assertEqual(case.state, "submitted")
