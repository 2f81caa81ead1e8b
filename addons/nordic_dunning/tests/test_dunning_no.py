from datetime import date, datetime

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import freeze_time, tagged

from .common import NordicDunningCommon


@tagged("post_install", "-at_install")
class TestDunningNO(NordicDunningCommon):
    """The Norwegian AutoCollect-like routine of seed 004 and the fee rules of inkassoforskriften."""

    country_code = "NO"

    def test_notice_timing_and_fee_2025(self):
        """Collection notice at the earliest 14 days after due, fee 1/20 of the 2025 inkassosats (35 kr), 14 days."""
        invoice = self.make_invoice(2000.0, due=date(2025, 12, 1))
        self.assertEqual(invoice.nordic_next_dunning_date, date(2025, 12, 15))
        self.assertFalse(self.build_run(date(2025, 12, 14)))
        run = self.build_run(date(2025, 12, 15))
        self.assertEqual(run.line_ids.fee_amount, 35.0)
        event = self.confirm(run)
        self.assertEqual(
            (event.kind, event.fee_amount, event.deadline_date), ("collection_notice", 35.0, date(2025, 12, 29))
        )
        self.assertTrue(event.fee_charged)
        # Hand-over on the first Tuesday after the notice's deadline has passed.
        self.assertEqual(invoice.nordic_next_dunning_date, date(2025, 12, 30))
        self.assertEqual(invoice.nordic_next_dunning_date.weekday(), 1)

    def test_fee_2026(self):
        """From 2026 the inkassosats is 750 kr, so the reminder fee is 37.50."""
        self.make_invoice(2000.0, due=date(2026, 1, 5))
        self.assertEqual(self.confirm(self.build_run(date(2026, 1, 19))).fee_amount, 37.5)

    def test_fee_cap(self):
        """Four reminders, each 14 days after the previous one: each waits until the day after the previous
        deadline, the second charges because the first one's 14 days were overrun, and never more than two
        fees (§ 1-3)."""
        policy = self.env["nordic.dunning.policy"].create(
            {
                "name": "Four reminders",
                "company_id": self.company.id,
                "country_code": "NO",
                "journal_ids": [Command.set(self.sale_journal.ids)],
                "min_invoice_age": 14,
                "level_ids": [
                    Command.create(
                        {
                            "sequence": 1,
                            "name": "R1",
                            "kind": "reminder",
                            "delay": 14,
                            "delay_base": "due",
                            "fee_rule": "no_reminder",
                            "payment_term_days": 14,
                        }
                    ),
                    Command.create(
                        {
                            "sequence": 2,
                            "name": "R2",
                            "kind": "reminder",
                            "delay": 14,
                            "fee_rule": "no_reminder",
                            "payment_term_days": 14,
                        }
                    ),
                    Command.create(
                        {
                            "sequence": 3,
                            "name": "R3",
                            "kind": "reminder",
                            "delay": 14,
                            "fee_rule": "no_reminder",
                            "payment_term_days": 14,
                        }
                    ),
                    Command.create(
                        {
                            "sequence": 4,
                            "name": "R4",
                            "kind": "reminder",
                            "delay": 14,
                            "fee_rule": "no_reminder",
                            "payment_term_days": 14,
                        }
                    ),
                ],
            }
        )
        invoice = self.make_invoice(2000.0, due=date(2026, 2, 2))
        self.assertEqual(invoice.nordic_dunning_policy_id, policy, "a journal policy wins over the company default")
        fees = []
        for day in (date(2026, 2, 16), date(2026, 3, 3), date(2026, 3, 18), date(2026, 4, 2)):
            fees.append(self.confirm(self.build_run(day, policy)).fee_amount)
        self.assertEqual(fees, [37.5, 37.5, 0.0, 0.0])

    def test_tuesday_list_thursday_confirmation(self):
        """The hand-over list built on Tuesday confirms itself on Thursday 08:00 Oslo time unless an item is stopped."""
        keep = self.make_invoice(2000.0, due=date(2025, 12, 1))
        stop = self.make_invoice(3000.0, due=date(2025, 12, 1))
        self.confirm(self.build_run(date(2025, 12, 15)))
        with freeze_time(datetime(2025, 12, 30, 9, 0)):
            run = self.build_run(date(2025, 12, 30))
            self.assertEqual(run.line_ids.move_id, keep | stop)
            self.assertEqual(
                run.scheduled_confirm_at, datetime(2026, 1, 1, 7, 0), "Thursday 08:00 in Oslo is 07:00 UTC"
            )
            self.assertEqual(run.activity_ids.user_id, self.policy.user_id, "the responsible is told to review")
            run.line_ids.filtered(lambda line: line.move_id == stop).action_stop()
            self.assertFalse(self.env["nordic.dunning.run"]._cron_confirm_scheduled(), "not yet Thursday")
        with freeze_time(datetime(2026, 1, 1, 7, 1)):
            self.assertEqual(self.env["nordic.dunning.run"]._cron_confirm_scheduled(), run)
        self.assertEqual(run.state, "done")
        self.assertFalse(run.activity_ids)
        self.assertEqual(keep.nordic_dunning_state, "handed_over")
        self.assertEqual(stop.nordic_dunning_state, "in_dunning")

    def test_illegal_levels_refused(self):
        """A Norwegian notice 10 days after due, or with a 10-day deadline, is refused citing the rule."""
        notice = self.levels[0]
        with self.assertRaisesRegex(ValidationError, "1-2"):
            notice.delay = 10
        with self.assertRaisesRegex(ValidationError, "§ 9"):
            notice.write({"delay": 14, "payment_term_days": 10})
        with self.assertRaisesRegex(ValidationError, "1/20"):
            notice.write({"delay": 14, "payment_term_days": 14, "fee_rule": "fixed", "fee_amount": 100.0})

    def test_interest_norwegian_rate(self):
        """Norwegian late interest uses the published rate directly (12.25 % in 2025-H2, 12 % from 2026)."""
        invoice = self.make_invoice(10000.0, due=date(2025, 12, 1))
        line = self.build_run(date(2025, 12, 15)).line_ids
        # 14 days at 12.25 %: 10000 * 0.1225 * 14 / 365 = 46.99
        self.assertEqual(line.interest_amount, 46.99)
        self.assertEqual(line.move_id, invoice)

    def test_business_standard_compensation(self):
        """Forsinkelsesrenteloven § 3a: a business debtor owes the standardkompensasjon set by regulation
        (470 kr from 2025-01-01, FOR-2024-12-19-3279 § 2) once per late invoice, when the policy charges it,
        and the reminder fee is set off against it (§ 3a, directive 2011/7/EU art. 6(3)); a consumer never."""
        self.policy.b2b_compensation = True
        company = self.customer.copy({"name": "Fjordbygg AS", "is_company": True})
        business = self.make_invoice(2000.0, due=date(2026, 1, 5), partner=company)
        consumer = self.make_invoice(2000.0, due=date(2026, 1, 5))
        run = self.build_run(date(2026, 1, 19))
        self.assertEqual(
            {line.move_id: line.compensation_amount for line in run.line_ids}, {business: 470.0, consumer: 0.0}
        )
        events = {event.move_id: event for event in self.confirm(run)}
        # The consumer pays the 37.50 reminder fee; the company the compensation, against which the fee is set off.
        self.assertEqual((events[consumer].fee_amount, events[consumer].compensation_amount), (37.5, 0.0))
        self.assertEqual((events[business].fee_amount, events[business].compensation_amount), (0.0, 470.0))
        self.assertEqual(events[business].fee_move_line_id.debit, 470.0)
