from odoo.tests import tagged

from .approval_common import NordicApprovalCommon


@tagged("post_install", "-at_install")
class TestReversalFlows(NordicApprovalCommon):
    """Odoo's own ways of making a credit note (the reversal wizard's "Reverse" and "Reverse and create
    invoice") end in a clear state: the credit note in draft with its approval requested and a note naming
    who must approve, the invoice untouched until the credit note is approved and posted."""

    def reverse(self, invoice, modify):
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"reason": "Wrong patient", "journal_id": invoice.journal_id.id, "date": invoice.date})
        )
        wizard.modify_moves() if modify else wizard.refund_moves()
        return invoice.reversal_move_ids

    def assertWaitsForApproval(self, credit, approver):
        self.assertEqual((credit.move_type, credit.state), ("out_refund", "draft"))
        self.assertTrue(credit.review_ids, "the approval is requested")
        self.assertIn(approver, credit.review_ids.reviewer_ids)
        note = credit.message_ids.filtered(lambda m: "waits for the approval" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn(approver.name, note.body)

    def test_reverse_and_create_invoice_waits_for_approval(self):
        """The full refund with a new draft invoice: the credit note waits, the invoice stays open, the new
        draft invoice is there; once the manager approves, posting reconciles the credit note with the invoice."""
        invoice = self.make_clinic_invoice(1200.0)
        credit = self.reverse(invoice, modify=True)
        self.assertWaitsForApproval(credit, self.manager_a)
        self.assertEqual(
            (invoice.state, invoice.payment_state, invoice.amount_residual), ("posted", "not_paid", 1200.0)
        )
        redo = self.env["account.move"].search(
            [("move_type", "=", "out_invoice"), ("state", "=", "draft"), ("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(redo.amount_total, 1200.0)
        self.approve(credit, self.manager_a)
        credit.action_post()
        self.assertEqual(credit.state, "posted")
        self.assertEqual(invoice.payment_state, "reversed")

    def test_reverse_above_threshold_names_the_executives(self):
        """ "Reverse" gives a draft credit note; posting 7 000 of it holds it for the CFO or CEO, and says so."""
        invoice = self.make_clinic_invoice(7000.0)
        credit = self.reverse(invoice, modify=False)
        self.assertTrue(credit.nordic_over_threshold)
        self.as_user(credit, self.clerk).action_post()
        self.assertWaitsForApproval(credit, self.cfo)
        self.assertEqual(invoice.amount_residual, 7000.0)
