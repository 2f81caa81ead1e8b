from datetime import date

from odoo.tests import HttpCase, tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from .common import NordicDunningCommon


@tagged("post_install", "-at_install")
class TestSendingTour(NordicDunningCommon, HttpCase):
    """What the reviewer sees in a real browser once a run is confirmed: its sending progress, then the
    customer's one combined reminder."""

    def test_progress_then_combined_letter(self):
        """A customer with three overdue invoices: after confirming, the run's form shows it sending in the
        background (fees, letters, e-mails 0/3); once the jobs ran, everything is done and the run's one notice
        lists the three invoices with the letter's PDF and the e-mail."""
        invoices = self.make_invoice(800.0) | self.make_invoice(700.0) | self.make_invoice(600.0)
        self.customer.write({"nordic_fee_agreed": True, "nordic_fee_agreed_date": date(2026, 1, 1)})
        run = self.build_run(date(2026, 4, 10))
        url = f"/odoo/action-nordic_dunning.action_nordic_dunning_run/{run.id}"
        with trap_jobs() as trap:
            run._confirm()
            self.assertEqual(run.sending_state, "sending")
            self.start_tour(url, "nordic_dunning_sending_progress_tour", login=self.env.user.login)
            trap.perform_enqueued_jobs()
        run.invalidate_recordset()
        self.assertEqual(run.sending_state, "sent")
        self.assertEqual(len(run.notice_ids), 1)
        self.assertEqual(run.notice_ids.event_ids.move_id, invoices)
        self.start_tour(url, "nordic_dunning_sent_notice_tour", login=self.env.user.login)
