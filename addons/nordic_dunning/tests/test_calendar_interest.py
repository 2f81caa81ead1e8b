from datetime import date
from decimal import Decimal

from odoo.tests import BaseCase, tagged

from ..tools.calendar import add_business_days, add_delay, nth_business_day_of_month
from ..tools.interest import interest_segments, late_interest


@tagged("post_install", "-at_install")
class TestCalendarInterest(BaseCase):
    """Pure calendar and interest arithmetic, no database."""

    def test_business_days_skip_easter_and_weekend(self):
        """Swedish Good Friday, Easter Monday and the weekend between never count as business days."""
        self.assertEqual(add_business_days(date(2026, 4, 1), 5, "SE"), date(2026, 4, 10))

    def test_business_days_skip_midsummer(self):
        """Midsummer Eve (a bank holiday, banks closed) is skipped; the half day before it counts."""
        # Midsummer Eve 2026 is Friday 19 June; 18 June + 1 business day is Monday 22 June.
        self.assertEqual(add_business_days(date(2026, 6, 18), 1, "SE"), date(2026, 6, 22))

    def test_weekday_snap(self):
        """A level moved to Tuesdays lands on the first Tuesday on or after its date."""
        self.assertEqual(add_delay(date(2025, 12, 24), 0, "days", "NO", "1"), date(2025, 12, 30))
        self.assertEqual(add_delay(date(2025, 12, 30), 0, "days", "NO", "1"), date(2025, 12, 30))

    def test_third_business_day(self):
        """The third business day of January 2026 in Sweden skips New Year's Day and Epiphany."""
        # 1 Jan holiday (Thu), 2 Jan Fri (1), 5 Jan Mon (2), 6 Jan Epiphany, 7 Jan Wed (3).
        self.assertEqual(nth_business_day_of_month(2026, 1, 3, "SE"), date(2026, 1, 7))

    def test_interest_split_rate_change_and_partial_payment(self):
        """Interest is split exactly at the half-year rate change and at a partial payment."""
        periods = [(date(2025, 1, 1), Decimal("11")), (date(2025, 7, 1), Decimal("10"))]
        payments = [(date(2025, 8, 1), Decimal("4000"))]
        segments = interest_segments(Decimal("10000"), date(2025, 6, 15), date(2025, 9, 30), periods, payments)
        self.assertEqual(
            [(s[0], s[1], s[2], s[4]) for s in segments],
            [
                (date(2025, 6, 15), date(2025, 7, 1), Decimal("10000"), 16),
                (date(2025, 7, 1), date(2025, 8, 1), Decimal("10000"), 31),
                (date(2025, 8, 1), date(2025, 9, 30), Decimal("6000"), 60),
            ],
        )
        # 10000*11%*16/365 + 10000*10%*31/365 + 6000*10%*60/365 = 48.219 + 84.932 + 98.630
        self.assertEqual(
            late_interest(Decimal("10000"), date(2025, 6, 15), date(2025, 9, 30), periods, payments), Decimal("231.78")
        )

    def test_no_interest_before_due(self):
        """Nothing accrues on or before the due date."""
        periods = [(date(2025, 1, 1), Decimal("12.5"))]
        self.assertEqual(late_interest(Decimal("1000"), date(2025, 3, 1), date(2025, 3, 1), periods), Decimal("0.00"))
