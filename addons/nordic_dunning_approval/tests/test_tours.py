from odoo.tests import HttpCase, tagged

from .approval_common import NordicApprovalCommon


@tagged("post_install", "-at_install")
class TestNordicTours(NordicApprovalCommon, HttpCase):
    """Browser tours: a clinic manager approves a credit note; the CFO writes off a lost invoice."""

    def test_manager_approves_credit_note_tour(self):
        """The manager of clinic A approves a 4 999 credit note with a comment in the form."""
        credit = self.make_credit_note(4999.0)
        self.as_user(credit, self.clerk).request_validation()
        self.start_tour(f"/odoo/account.move/{credit.id}", "nordic_credit_approval_tour", login="manager_a")
        self.assertEqual(credit.validation_status, "validated")
        self.assertEqual(credit.review_ids.done_by, self.manager_a)
        self.assertEqual(credit.review_ids.comment, "Agreed with the patient after the complaint")

    def test_writeoff_wizard_tour(self):
        """The CFO proposes a write-off from the invoice; the entry waits for the clinic manager."""
        self.env["account.account"].create(
            {
                "code": "6351",
                "name": "Konstaterade kundförluster",
                "account_type": "expense",
                "company_ids": [(6, 0, self.company.ids)],
            }
        )
        invoice = self.make_clinic_invoice(800.0)
        self.cfo.company_id = self.clinic_a  # the browser opens in the clinic, as after switching company
        self.start_tour(f"/odoo/account.move/{invoice.id}", "nordic_writeoff_tour", login="cfo")
        entry = invoice.nordic_writeoff_move_id
        self.assertEqual(entry.state, "draft")
        self.assertEqual(invoice.nordic_writeoff_override_reason, "Patient emigrated; no assets")
        self.assertEqual(entry.review_ids.reviewer_ids, self.manager_a | self.ceo)
