"""Deadlines, the order of steps and the Norwegian fee rules, day by day on frozen dates."""

from datetime import date, datetime

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import freeze_time, tagged

from odoo.addons.nordic_dunning.tools.calendar import level_deadline
from odoo.addons.queue_job.tests.common import trap_jobs

from .common import NordicDunningCommon


@tagged("post_install", "-at_install")
class TestSwedishOrderOfSteps(NordicDunningCommon):
    """Sweden: printed last days to pay and the steps that may only follow once they have passed."""

    country_code = "SE"

    def confirm_on(self, day):
        """Build and confirm the run of ``day`` on that very day."""
        with freeze_time(datetime.combine(day, datetime.min.time()).replace(hour=9)):
            return self.confirm(self.build_run(day))

    def test_pay_by_moves_to_next_business_day(self):
        """Lag (1930:173) 2 §: a last day to pay on a Saturday, Sunday, julafton or nyårsafton is the next
        business day; a weekday stays as it is."""
        self.assertEqual(level_deadline(date(2026, 12, 14), 6, "SE"), date(2026, 12, 21), "Sunday → Monday")
        self.assertEqual(level_deadline(date(2026, 12, 18), 6, "SE"), date(2026, 12, 28), "julafton → after Christmas")
        self.assertEqual(level_deadline(date(2026, 12, 29), 2, "SE"), date(2027, 1, 4), "nyårsafton → 4 January")
        self.assertEqual(level_deadline(date(2026, 4, 10), 6, "SE"), date(2026, 4, 16), "a Thursday stays")
        self.assertEqual(level_deadline(date(2026, 4, 10), 0, "SE"), date(2026, 4, 10), "no deadline given")

    def test_no_reminder_before_previous_deadline_around_christmas(self):
        """Good collection practice (seed 002's order of steps): reminder 2 never on or before the first
        reminder's printed last day to pay, which Lag (1930:173) moved from Sunday to Monday; the hand-over
        never on or before the second reminder's last day to pay either, even when the policy's delay would
        end on it."""
        # The hand-over five calendar days after reminder 2, whose deadline is five days: the form allows it
        # (not shorter), the run postpones it past the deadline moved over Christmas.
        self.levels[2].write({"delay": 5, "delay_unit": "days"})
        invoice = self.make_invoice(1000.0, due=date(2026, 12, 7))
        self.assertEqual(invoice.nordic_next_dunning_date, date(2026, 12, 14))
        first = self.confirm_on(date(2026, 12, 14))
        self.assertEqual(first.deadline_date, date(2026, 12, 21), "Sunday 20 December moves to Monday")
        # Five business days after 14 December is the 21st: the customer's last day to pay.
        self.assertEqual(invoice.nordic_next_dunning_date, date(2026, 12, 22))
        self.assertFalse(self.build_run(date(2026, 12, 21)), "nothing on the first reminder's last day to pay")
        second = self.confirm_on(date(2026, 12, 22))
        self.assertEqual(second.level_id, self.levels[1])
        self.assertEqual(second.deadline_date, date(2026, 12, 28), "Sunday 27 December moves to Monday")
        self.assertEqual(invoice.nordic_next_dunning_date, date(2026, 12, 29), "not on Sunday the 27th")
        self.assertFalse(self.build_run(date(2026, 12, 28)), "no hand-over on the last day to pay")
        self.confirm_on(date(2026, 12, 29))
        self.assertEqual(invoice.nordic_dunning_state, "handed_over")

    def test_shipped_profile_is_consistent(self):
        """The shipped Swedish routine keeps seed 002's rhythm of five business days and gives deadlines that
        end before each next step: every pair of levels passes the order check."""
        self.levels._check_after_previous_deadline()
        reminder_1, reminder_2, handover = self.levels
        self.assertLess(reminder_1.payment_term_days, reminder_2._min_calendar_span())
        self.assertLess(reminder_2.payment_term_days, handover._min_calendar_span())

    def test_form_refuses_level_before_previous_deadline(self):
        """A level whose delay is shorter than the previous level's deadline is refused, citing the rule."""
        self.levels[1].write({"delay": 6, "payment_term_days": 5})
        with self.assertRaises(ValidationError) as refused:
            self.levels[1].write({"delay": 3})
        self.assertIn("last day to pay has passed", str(refused.exception))
        with self.assertRaises(ValidationError) as refused:
            self.levels[0].write({"payment_term_days": 12})
        self.assertIn("last day to pay has passed", str(refused.exception))

    def test_run_confirmed_later_sends_as_of_confirmation(self):
        """A Swedish run built on Friday and confirmed on Monday dates its reminders Monday, and their last day
        to pay counts from Monday: the customer gets the full deadline."""
        self.make_invoice(1000.0, due=date(2026, 4, 1))
        with freeze_time(datetime(2026, 4, 10, 9, 0)):
            run = self.build_run(date(2026, 4, 10))
        with freeze_time(datetime(2026, 4, 13, 9, 0)):
            event = self.confirm(run)
        self.assertEqual((event.date, event.deadline_date), (date(2026, 4, 13), date(2026, 4, 20)))


@tagged("post_install", "-at_install")
class TestNorwegianFeeRules(NordicDunningCommon):
    """Norway: inkassoforskriften §§ 1-2 and 1-3, and inkassoloven § 9's deadline counted from the sending."""

    country_code = "NO"

    def _policy(self, levels):
        return self.env["nordic.dunning.policy"].create(
            {
                "name": "Reminders and demand",
                "company_id": self.company.id,
                "country_code": "NO",
                "journal_ids": [Command.set(self.sale_journal.ids)],
                "min_invoice_age": 14,
                "level_ids": [
                    Command.create({"sequence": number, "name": f"L{number}", "payment_term_days": 14, **vals})
                    for number, vals in enumerate(levels, 1)
                ],
            }
        )

    def _prior(self, sent, deadline, fee=37.5, kind="reminder"):
        return {"date": sent, "deadline": deadline, "fee": fee, "kind": kind, "interest_charged": False}

    def test_second_fee_not_on_deadline_day(self):
        """§ 1-3 with § 1-2: the second fee only once the debtor has overrun the first reminder's deadline; a
        payment handed to the bank on the last day is on time, so a reminder dated that day carries none."""
        Run = self.env["nordic.dunning.run"]
        row = {"due": date(2026, 2, 2)}
        prior = [self._prior(date(2026, 2, 16), date(2026, 3, 2))]
        self.assertFalse(Run._no_fee_allowed("reminder", row, date(2026, 3, 2), prior), "the deadline day itself")
        self.assertTrue(Run._no_fee_allowed("reminder", row, date(2026, 3, 3), prior), "the day after")

    def test_second_fee_needs_fourteen_day_first_deadline(self):
        """§ 1-3 first paragraph: a second fee only if the first reminder gave at least 14 days to pay; a first
        reminder with a 10-day deadline lets no later reminder charge, however late it comes."""
        Run = self.env["nordic.dunning.run"]
        row = {"due": date(2026, 2, 2)}
        short = [self._prior(date(2026, 2, 16), date(2026, 2, 26))]
        self.assertFalse(Run._no_fee_allowed("reminder", row, date(2026, 4, 1), short))
        full = [self._prior(date(2026, 2, 16), date(2026, 3, 2))]
        self.assertTrue(Run._no_fee_allowed("reminder", row, date(2026, 4, 1), full))
        two = full + [self._prior(date(2026, 3, 3), date(2026, 3, 17))]
        self.assertFalse(Run._no_fee_allowed("reminder", row, date(2026, 4, 1), two), "never a third")

    def test_payment_demand_fee_after_two_reminders(self):
        """§ 1-2 third paragraph and § 1-3: the creditor's own payment demand after two reminders carries 3/20
        of the inkassosats (112.50 kr in 2026) on top of the two reminder fees; once only."""
        policy = self._policy(
            [
                {"kind": "reminder", "delay": 14, "delay_base": "due", "fee_rule": "no_reminder"},
                {"kind": "reminder", "delay": 15, "fee_rule": "no_reminder"},
                {"kind": "payment_demand", "delay": 15, "fee_rule": "no_reminder"},
            ]
        )
        invoice = self.make_invoice(2000.0, due=date(2026, 1, 5))
        fees = []
        for day in (date(2026, 1, 19), date(2026, 2, 3), date(2026, 2, 18)):
            fees.append(self.confirm(self.build_run(day, policy)).fee_amount)
        self.assertEqual(fees, [37.5, 37.5, 112.5])
        self.assertEqual(invoice.nordic_dunning_level_id.kind, "payment_demand")

    def test_payment_demand_fixed_fee_cap(self):
        """A fixed fee on a payment demand level may be up to 3/20 of the inkassosats, not more; a reminder
        stays at 1/20."""
        policy = self._policy(
            [
                {"kind": "reminder", "delay": 14, "delay_base": "due", "fee_rule": "no_reminder"},
                {"kind": "payment_demand", "delay": 15, "fee_rule": "fixed", "fee_amount": 112.5},
            ]
        )
        demand = policy.level_ids.filtered(lambda level: level.kind == "payment_demand")
        with self.assertRaises(ValidationError) as refused:
            demand.fee_amount = 112.51
        self.assertIn("3/20", str(refused.exception))
        with self.assertRaises(ValidationError) as refused:
            policy.level_ids[0].write({"fee_rule": "fixed", "fee_amount": 37.51})
        self.assertIn("1/20", str(refused.exception))

    def test_second_reminder_waits_for_first_deadline(self):
        """A second reminder whose delay ends on the first one's deadline goes out the day after, and charges."""
        policy = self._policy(
            [
                {"kind": "reminder", "delay": 14, "delay_base": "due", "fee_rule": "no_reminder"},
                {"kind": "reminder", "delay": 14, "fee_rule": "no_reminder"},
            ]
        )
        invoice = self.make_invoice(2000.0, due=date(2026, 2, 2))
        first = self.confirm(self.build_run(date(2026, 2, 16), policy))
        self.assertEqual(first.deadline_date, date(2026, 3, 2))
        self.assertEqual(invoice.nordic_next_dunning_date, date(2026, 3, 3))
        self.assertFalse(self.build_run(date(2026, 3, 2), policy))
        self.assertEqual(self.confirm(self.build_run(date(2026, 3, 3), policy)).fee_amount, 37.5)

    def test_notice_counts_from_sending_day(self):
        """Inkassoloven § 9 and forskriften § 1-2: a notice built on Tuesday 30 December 2025 and sent on
        Thursday 1 January 2026 is dated the 1st, gives 14 days from then and carries the 2026 fee (37.50, not
        35), with interest to the sending day."""
        invoice = self.make_invoice(2000.0, due=date(2025, 12, 16))
        with freeze_time(datetime(2025, 12, 30, 9, 0)):
            run = self.build_run(date(2025, 12, 30))
            line = run.line_ids
            self.assertEqual((line.move_id, line.fee_amount), (invoice, 35.0))
        with trap_jobs() as trap:
            with freeze_time(datetime(2026, 1, 1, 7, 1)):
                self.assertEqual(self.env["nordic.dunning.run"]._cron_confirm_scheduled(), run)
            trap.perform_enqueued_jobs()  # days later: the jobs still book as of the sending day
        event = run.event_ids
        self.assertEqual(event.date, date(2026, 1, 1))
        self.assertEqual(event.deadline_date, date(2026, 1, 15))
        self.assertEqual(event.fee_amount, 37.5)
        self.assertGreater(event.interest_amount, line.interest_amount)
        self.assertEqual(event.fee_move_line_id.date, date(2026, 1, 1), "the fee is booked on the sending day")


@tagged("post_install", "-at_install")
class TestHalfYearRates(NordicDunningCommon):
    """Rates set per half-year: a run that needs one not yet recorded says so, and so does the rates list."""

    country_code = "SE"

    def test_missing_half_year_is_warned(self):
        """Räntelagen 9 §: Riksbanken sets the reference rate for each half-year. A run dated in a half-year
        without a recorded rate carries a warning (and a chatter note) naming it; the legal-rates list marks
        the value still in use; recording the rate clears both."""
        Rate = self.env["nordic.dunning.rate"]
        Rate.search(
            [("country_code", "=", "SE"), ("rate_type", "=", "reference"), ("date_from", ">=", "2026-07-01")]
        ).unlink()
        self.make_invoice(1000.0, due=date(2026, 8, 3))
        with freeze_time(datetime(2026, 8, 10, 9, 0)):
            run = self.build_run(date(2026, 8, 10))
            self.assertIn("2026-H2", run.rate_warning)
            self.assertIn("Missing legal rates", run.message_ids[:1].body)
            h1 = Rate.search([("country_code", "=", "SE"), ("rate_type", "=", "reference")], limit=1)
            self.assertEqual(h1.date_from, date(2026, 1, 1))
            self.assertIn("2026-H2", h1.outdated_warning)
            Rate.create(
                {
                    "country_code": "SE",
                    "rate_type": "reference",
                    "date_from": date(2026, 7, 1),
                    "value": 2.0,
                    "source": "test",
                    "certainty": "unverified",
                }
            )
            h1.invalidate_recordset(["outdated_warning"])
            self.assertFalse(h1.outdated_warning)
            run.action_generate()
            self.assertFalse(run.rate_warning)
