from datetime import timedelta

from odoo.tests import HttpCase, tagged

from .common import NordicDunningCommon


@tagged("post_install", "-at_install")
class TestDunningTour(NordicDunningCommon, HttpCase):
    """The dunning screens work in a real browser."""

    def test_run_from_ui(self):
        """An accountant opens an overdue invoice, builds a dunning run from the menu and confirms it."""
        invoice = self.make_invoice(1500.0, due=self.today() - timedelta(days=30))
        login = self.env.user.login
        self.start_tour(
            f"/odoo/action-account.action_move_out_invoice_type/{invoice.id}",
            "nordic_dunning_invoice_tour",
            login=login,
        )
        self.start_tour("/odoo/action-nordic_dunning.action_nordic_dunning_run", "nordic_dunning_run_tour", login=login)
        self.assertEqual(invoice.nordic_dunning_event_ids.level_id, self.levels[0])
        self.assertEqual(invoice.nordic_dunning_event_ids.run_id.state, "done")
