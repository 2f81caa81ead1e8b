from datetime import date

from odoo.tests import HttpCase, tagged

from .common import NordicDunningCommon


@tagged("post_install", "-at_install")
class TestDisputeTour(NordicDunningCommon, HttpCase):
    """Browser: a dispute is registered from the invoice form."""

    def test_register_dispute_from_invoice(self):
        """The tour registers a partial dispute; dunning then pauses for the disputed 400 only."""
        admin = self.env.ref("base.user_admin")
        admin.write({"company_ids": [(4, self.company.id)], "company_id": self.company.id})
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        self.start_tour(
            f"/odoo/action-account.action_move_out_invoice_type/{invoice.id}",
            "nordic_dunning_dispute_tour",
            login="admin",
        )
        dispute = invoice.nordic_dispute_ids
        self.assertEqual((dispute.scope, dispute.amount, dispute.state), ("partial", 400.0, "open"))
        self.assertEqual(dispute.customer_statement, "I cancelled the second appointment by phone.")
        self.assertEqual(invoice.nordic_disputed_amount, 400.0)
