from datetime import date, timedelta

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.nordic_dunning.tools.system import as_system

from .common import NordicDunningCommon


@tagged("post_install", "-at_install")
class TestSafetyGuards(NordicDunningCommon):
    """Seeds 000 and 003: no demand without proof of sending, out-of-line runs held, test databases silent."""

    def _straight_to_collection(self):
        """The policy of seed 000: no reminder at all, hand-over 14 days after the due date."""
        self.levels[:2].unlink()
        self.levels[2].write({"delay": 14, "delay_unit": "days", "delay_base": "due"})
        self.policy.min_invoice_age = 14
        return self.levels[2]

    def test_seed_000_zero_reminders_needs_proof_of_sending(self):
        """A policy with zero reminders is allowed, but invoices never sent get no demand, and forcing one fails."""
        handover = self._straight_to_collection()
        unsent = self.env["account.move"]
        for _i in range(3):
            unsent |= self.make_invoice(700.0, due=date(2026, 4, 1), sent=False)
        sent = self.make_invoice(900.0, due=date(2026, 4, 1))
        self.assertEqual(sent.nordic_dunning_next_level_id, handover)
        self.assertEqual(sent.nordic_next_dunning_date, date(2026, 4, 15))

        run = self.build_run(date(2026, 4, 15))
        self.assertEqual(run.line_ids.move_id, sent)
        self.assertEqual(run.unsent_move_ids, unsent)
        self.confirm(run)
        self.assertEqual(sent.nordic_dunning_state, "handed_over")
        self.assertFalse(unsent.nordic_dunning_event_ids, "zero demands for invoices never sent")

        forced = self.env["nordic.dunning.run"].create({"policy_id": self.policy.id, "date": date(2026, 4, 15)})
        as_system(self.env["nordic.dunning.run.line"]).sudo().create(
            [
                {
                    "run_id": forced.id,
                    "company_id": self.company.id,
                    "move_id": move.id,
                    "partner_id": move.partner_id.id,
                    "currency_id": move.currency_id.id,
                    "level_id": handover.id,
                    "amount_residual": move.amount_residual,
                }
                for move in unsent
            ]
        )
        with self.assertRaisesRegex(UserError, unsent[0].name):
            forced.action_confirm()
        self.assertFalse(unsent.nordic_dunning_event_ids)
        self.assertEqual(forced.state, "draft")
        with self.assertRaisesRegex(ValidationError, "without any reminder"):
            self.policy.min_invoice_age = 0

    def test_zero_reminders_respects_minimum_age(self):
        """Even with proof of sending, no hand-over before the policy's minimum number of days after due."""
        handover = self._straight_to_collection()
        invoice = self.make_invoice(900.0, due=date(2026, 4, 10))
        forced = self.env["nordic.dunning.run"].create({"policy_id": self.policy.id, "date": date(2026, 4, 15)})
        as_system(self.env["nordic.dunning.run.line"]).sudo().create(
            {
                "run_id": forced.id,
                "company_id": self.company.id,
                "move_id": invoice.id,
                "partner_id": invoice.partner_id.id,
                "currency_id": invoice.currency_id.id,
                "level_id": handover.id,
            }
        )
        with self.assertRaisesRegex(UserError, "not yet 14 days"):
            forced.action_confirm()
        self.assertFalse(invoice.nordic_dunning_event_ids)

    def test_seed_003_run_out_of_line_is_held(self):
        """A run several times larger than the policy's usual runs is held; a manager approves it, then it runs."""
        self.company.write({"nordic_anomaly_min_lines": 5, "nordic_anomaly_median_factor": 3.0})
        for due in (date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)):
            batch = self.make_invoice(1000.0, due=due) | self.make_invoice(1000.0, due=due)
            run = self.build_run(due + timedelta(days=7))
            self.assertEqual(run.state, "draft")
            self.confirm(run)
            # Keep the history runs at two lines each: these invoices go no further.
            batch.write({"nordic_dunning_excluded": True, "nordic_dunning_exclude_reason": "Settled by phone"})
        for _i in range(10):
            self.make_invoice(1000.0, due=date(2026, 4, 1))
        run = self.build_run(date(2026, 4, 10))
        self.assertEqual(run.state, "to_approve")
        self.assertIn("3.0 times the usual 2", run.anomaly_note)
        with self.assertRaisesRegex(UserError, "held for approval"):
            run.action_confirm()
        self.assertFalse(run.event_ids)

        run.action_approve()
        self.assertEqual((run.state, run.approved_user_id), ("draft", self.env.user))
        self.assertEqual(len(self.confirm(run)), 10)

    def test_unusual_share_of_first_measures_is_held(self):
        """A run made only of invoices never dunned before is held when the policy's runs usually are not."""
        self.company.nordic_anomaly_min_lines = 3
        self.make_invoice(1000.0, due=date(2026, 3, 2))
        self.make_invoice(1000.0, due=date(2026, 3, 2))
        # Levels 1, 2 and 3 of the same two invoices (reminder 2 waits for Monday the 16th, reminder 1's last
        # day to pay moved from Sunday).
        for day in (date(2026, 3, 9), date(2026, 3, 17), date(2026, 3, 24)):
            self.confirm(self.build_run(day))
        for _i in range(4):
            self.make_invoice(1000.0, due=date(2026, 4, 1))
        run = self.build_run(date(2026, 4, 10))
        self.assertEqual(run.state, "to_approve")
        self.assertEqual(run.anomaly_note, "100% of the invoices never had a measure before (usually 33%).")

    def test_future_dated_and_outlier_amount_are_held(self):
        """An invoice dated after the run date, or far larger than the company's usual invoice, holds the run."""
        for _i in range(10):
            self.make_invoice(1000.0, due=date(2026, 4, 1))
        self.make_invoice(5000.0, due=date(2026, 3, 31), invoice_date=date(2026, 4, 20))
        run = self.build_run(date(2026, 4, 10))
        self.assertEqual(run.state, "to_approve")
        self.assertIn("dated after the run date", run.anomaly_note)
        self.assertNotIn("times the usual", run.anomaly_note)
        run.action_open_cancel_wizard()
        wizard = self.env["nordic.dunning.cancel"].create({"run_id": run.id, "reason": "Test file"})
        wizard.action_cancel()
        self.assertEqual((run.state, run.cancel_reason), ("cancelled", "Test file"))

        self.make_invoice(900000.0, due=date(2026, 4, 1))
        run = self.build_run(date(2026, 4, 10))
        self.assertEqual(run.state, "to_approve")
        self.assertIn("times the usual 1000", run.anomaly_note)

    def test_seed_003_neutralized_database_sends_nothing(self):
        """In a neutralized database a confirmed run records its measures but e-mails and prints nothing."""
        self.env["ir.config_parameter"].sudo().set_param("database.is_neutralized", True)
        invoice = self.make_invoice(800.0, due=date(2026, 4, 1))
        run = self.build_run(date(2026, 4, 10))
        self.confirm_and_send(run, letters=True)
        event = run.event_ids
        self.assertEqual(event.move_id, invoice)
        self.assertFalse(event.mail_message_id)
        self.assertFalse(event.letter_attachment_id or run.letter_attachment_id)
        self.assertIn("1 e-mail(s) and 1 letter(s) were withheld", run.withheld_note)
        self.assertFalse(event.notice_id, "no notice was written for a customer who hears nothing")
        self.assertFalse(
            self.env["mail.mail"].search([("model", "in", ("nordic.dunning.event", "nordic.dunning.notice"))])
        )

    def test_holds_lifted_by_cron(self):
        """An expired hold is lifted by the daily cron and logged; a running hold stays; held invoices never run."""
        today = fields.Date.today()
        invoice = self.make_invoice(800.0, due=date(2026, 4, 1))
        invoice.write(
            {
                "nordic_dunning_excluded": True,
                "nordic_dunning_exclude_reason": "Payment plan",
                "nordic_dunning_hold_until": today - timedelta(days=1),
            }
        )
        partner = self.customer.copy(
            {
                "name": "Held",
                "nordic_dunning_excluded": True,
                "nordic_dunning_exclude_reason": "Bankruptcy check",
                "nordic_dunning_hold_until": today + timedelta(days=30),
            }
        )
        held = self.make_invoice(800.0, due=date(2026, 4, 1), partner=partner)
        self.assertFalse(self.build_run(date(2026, 4, 10)))

        self.env["account.move"]._cron_nordic_lift_holds()
        self.assertFalse(invoice.nordic_dunning_excluded or invoice.nordic_dunning_hold_until)
        self.assertTrue(any("Payment plan" in (message.body or "") for message in invoice.message_ids))
        self.assertTrue(partner.nordic_dunning_excluded)
        self.assertEqual(self.build_run(date(2026, 4, 10)).line_ids.move_id, invoice)
        self.assertFalse(held.nordic_dunning_event_ids)
