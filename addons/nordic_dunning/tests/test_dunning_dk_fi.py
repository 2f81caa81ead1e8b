"""Denmark and Finland: the shipped profiles, their fee caps and counts, and their business days."""

from datetime import date

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import NordicDunningCommon


@tagged("post_install", "-at_install")
class TestDunningDK(NordicDunningCommon):
    """Renteloven: interest at Nationalbanken's lending rate + 8 pp (§ 5), at most three reminder fees of
    100 kr at least ten days apart (§ 9 b)."""

    # Odoo's Danish chart (l10n_dk) is not part of the test databases: a company on the generic chart
    # with the Danish legal profile.
    country_code = False
    profile_code = "DK"

    def test_three_fees_over_easter(self):
        """Three reminders of 100 kr, each after the previous one's last day to pay, which Danish Easter
        (skærtorsdag to 2. påskedag) moves to Tuesday 7 April; then the hand-over."""
        invoice = self.make_invoice(1000.0, due=date(2026, 3, 2))
        self.assertEqual(invoice.nordic_next_dunning_date, date(2026, 3, 12))
        first = self.confirm(self.build_run(date(2026, 3, 12)))
        self.assertEqual((first.fee_amount, first.deadline_date), (100.0, date(2026, 3, 23)))
        self.assertEqual(invoice.nordic_next_dunning_date, date(2026, 3, 24), "after Monday's last day to pay")
        second = self.confirm(self.build_run(date(2026, 3, 24)))
        self.assertEqual((second.fee_amount, second.deadline_date), (100.0, date(2026, 4, 7)))
        self.assertEqual(invoice.nordic_next_dunning_date, date(2026, 4, 8))
        third = self.confirm(self.build_run(date(2026, 4, 8)))
        self.assertEqual(third.fee_amount, 100.0)
        self.confirm(self.build_run(invoice.nordic_next_dunning_date))
        self.assertEqual(invoice.nordic_dunning_state, "handed_over")

    def test_fourth_fee_and_spacing_refused(self):
        """A fourth fee is never charged, a fee above 100 kr and reminders less than ten days apart are
        refused citing § 9 b."""
        run = self.env["nordic.dunning.run"]
        prior = [{"date": date(2026, 3, day), "fee": 100.0, "kind": "reminder"} for day in (1, 12, 23)]
        self.assertFalse(run._dk_fi_fee_allowed("DK", {"due": date(2026, 2, 1)}, date(2026, 4, 30), prior))
        self.assertFalse(run._dk_fi_fee_allowed("DK", {"due": date(2026, 2, 1)}, date(2026, 3, 10), prior[:1]))
        with self.assertRaises(ValidationError) as refused:
            self.levels[0].fee_amount = 101.0
        self.assertIn("9 b", str(refused.exception))
        self.levels[0].payment_term_days = 5
        with self.assertRaises(ValidationError) as refused:
            self.levels[1].delay = 9
        self.assertIn("10 days apart", str(refused.exception))

    def test_interest_rate_and_missing_half_years(self):
        """Interest is Nationalbanken's lending rate + 8 pp; with no rate recorded after 1 January 2024 the
        run says which half-year is missing instead of using the old one silently."""
        self.make_invoice(10000.0, due=date(2026, 3, 2))
        run = self.build_run(date(2026, 3, 12))
        self.assertEqual(run.line_ids.interest_amount, 32.19, "10 days at 3.75 + 8 = 11.75 %")
        self.assertIn("2026-H1", run.rate_warning)

    def test_letter_and_email_in_danish(self):
        """A Danish customer's letter and e-mail speak of rykker and rykkergebyr (da.po)."""
        self.env["res.lang"]._activate_lang("da_DK")
        self.env["ir.module.module"]._load_module_terms(["nordic_dunning"], ["da_DK"])
        self.customer.lang = "da_DK"
        self.make_invoice(1000.0, due=date(2026, 3, 2))
        run = self.build_run(date(2026, 3, 12))
        self.confirm_and_send(run, letters=False)
        event = run.event_ids
        html = self.env["ir.actions.report"]._render_qweb_html(
            "nordic_dunning.report_dunning_letter", event.notice_id.ids
        )[0]
        self.assertIn("Rykkergebyr", html.decode())
        self.assertIn("Betales senest", html.decode())
        self.assertIn("Rykkergebyr", event.mail_message_id.body)


@tagged("post_install", "-at_install")
class TestDunningFI(NordicDunningCommon):
    """Korkolaki 4 §: reference rate + 7 pp; perintälaki 10 e §: a consumer's reminder fee at most 5 €, at the
    earliest 14 days after the due date, for at most three reminders."""

    country_code = False
    profile_code = "FI"

    def test_profile_fees_and_interest(self):
        """Reminder 1 fourteen days after due with 5 € and interest at 2.5 + 7 = 9.5 % (2026-H1); reminder 2
        the day after its last day to pay, again 5 €."""
        invoice = self.make_invoice(1000.0, due=date(2026, 3, 2))
        run = self.build_run(date(2026, 3, 16))
        self.assertEqual((run.line_ids.fee_amount, run.line_ids.interest_amount), (5.0, 3.64))
        self.assertFalse(run.rate_warning)
        first = self.confirm(run)
        self.assertEqual(first.deadline_date, date(2026, 3, 30))
        self.assertEqual(invoice.nordic_next_dunning_date, date(2026, 3, 31))
        self.assertEqual(self.confirm(self.build_run(date(2026, 3, 31))).fee_amount, 5.0)

    def test_business_interest_margin(self):
        """Korkolaki 4 § 2 mom. (30/2013, from 16.3.2013): between businesses late interest is the reference
        rate + 8 pp, so a company customer's reminder shows 2.5 + 8 = 10.5 % while a consumer's in the same run
        shows 9.5 %; Sweden, which has one margin for all, is unchanged."""
        company = self.env["res.partner"].create({"name": "Oy Asiakas Ab", "is_company": True, "email": "a@b.fi"})
        business = self.make_invoice(1000.0, due=date(2026, 3, 2), partner=company)
        consumer = self.make_invoice(1000.0, due=date(2026, 3, 2))
        run = self.build_run(date(2026, 3, 16))
        lines = {line.move_id: line for line in run.line_ids}
        # 1000 × 10.5 % × 14 / 365 = 4.03; 1000 × 9.5 % × 14 / 365 = 3.64.
        self.assertEqual(lines[business].interest_amount, 4.03)
        self.assertEqual(lines[consumer].interest_amount, 3.64)
        events = {event.move_id: event for event in self.confirm(run)}
        self.assertEqual((events[business].interest_rate, events[business].interest_amount), (10.5, 4.03))
        self.assertEqual((events[consumer].interest_rate, events[consumer].interest_amount), (9.5, 3.64))
        rates = self.env["nordic.dunning.rate"]
        self.assertEqual(rates._late_interest_periods("FI", business=True)[-1], (date(2026, 1, 1), 10.5))
        self.assertEqual(rates._late_interest_periods("SE", business=True), rates._late_interest_periods("SE"))

    def test_limits_refused(self):
        """A fee above 5 €, or a fee-bearing reminder earlier than 14 days after due, is refused citing the law;
        no fee is charged before day 14 even by a run."""
        with self.assertRaises(ValidationError) as refused:
            self.levels[0].fee_amount = 5.01
        self.assertIn("10 e", str(refused.exception))
        with self.assertRaises(ValidationError) as refused:
            self.levels[0].delay = 10
        self.assertIn("14 days after the due", str(refused.exception))
        run = self.env["nordic.dunning.run"]
        self.assertFalse(run._dk_fi_fee_allowed("FI", {"due": date(2026, 3, 2)}, date(2026, 3, 15), []))
        self.assertTrue(run._dk_fi_fee_allowed("FI", {"due": date(2026, 3, 2)}, date(2026, 3, 16), []))

    def test_letter_in_finnish(self):
        """A Finnish customer's letter is a maksumuistutus with its muistutusmaksu (fi.po)."""
        self.env["res.lang"]._activate_lang("fi_FI")
        self.env["ir.module.module"]._load_module_terms(["nordic_dunning"], ["fi_FI"])
        self.customer.lang = "fi_FI"
        self.make_invoice(1000.0, due=date(2026, 3, 2))
        event = self.confirm(self.build_run(date(2026, 3, 16)))
        html = self.env["ir.actions.report"]._render_qweb_html(
            "nordic_dunning.report_dunning_letter", event.notice_id.ids
        )[0]
        self.assertIn("Muistutusmaksu", html.decode())
        self.assertIn("Maksumuistutus", html.decode())
