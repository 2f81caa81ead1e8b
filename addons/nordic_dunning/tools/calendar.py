"""Business-day arithmetic on a country's public-holiday calendar (the ``holidays`` package)."""

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _country_holidays(country_code, year):
    """Public holidays plus whole-day bank holidays (Midsummer, Christmas and New Year's Eve in Sweden).

    ``holidays`` files the half days ("from 2pm") under the bank category too; those stay business days.
    """
    if not country_code:
        return frozenset()
    try:
        cls = holidays.country_holidays(country_code.upper()).__class__
    except NotImplementedError:
        return frozenset()
    days = set(cls(years=year, language="en_US"))
    if "bank" in getattr(cls, "supported_categories", ()):
        bank = cls(years=year, categories=("bank",), language="en_US")
        days.update(day for day, name in bank.items() if "2pm" not in name)
    return frozenset(days)


def is_business_day(day, country_code):
    """Weekends and the country's public holidays never count as business days."""
    return day.weekday() < 5 and day not in _country_holidays(country_code, day.year)


def next_business_day(day, country_code):
    """``day`` itself when it is a business day, else the first business day after it.

    A last day to pay that falls on a Saturday, Sunday or holiday moves to the next business day: Lag
    (1930:173) om beräkning av lagstadgad tid 2 § in Sweden (midsommarafton, julafton and nyårsafton count as
    holidays); in Norway the rule for time limits of domstolloven § 149; in Finland laki säädettyjen
    määräaikain laskemisesta (150/1930) 5 §. Denmark has no general statute; the same courtesy is applied.
    """
    while not is_business_day(day, country_code):
        day += timedelta(days=1)
    return day


def level_deadline(day, payment_term_days, country_code):
    """The last day to pay printed on a measure sent on ``day``: ``payment_term_days`` later, moved to the
    next business day (:func:`next_business_day`); ``day`` itself for a measure that gives no deadline."""
    if not payment_term_days:
        return day
    return next_business_day(day + timedelta(days=payment_term_days), country_code)


def add_business_days(start, count, country_code):
    """The date ``count`` business days after ``start`` (``start`` itself never counts)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_business_day(day, country_code):
            remaining -= 1
    return day


def nth_business_day_of_month(year, month, n, country_code):
    """The n-th business day of a month (n >= 1)."""
    return add_business_days(date(year, month, 1) - timedelta(days=1), n, country_code)


def next_weekday(day, weekday):
    """The first date on or after ``day`` that falls on ``weekday`` (0 = Monday)."""
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def add_delay(start, delay, unit, country_code, weekday=None):
    """``start`` plus ``delay`` calendar or business days, then moved to ``weekday`` if set."""
    if unit == "business_days":
        result = add_business_days(start, delay, country_code)
    else:
        result = start + timedelta(days=delay)
    if weekday is not None and weekday is not False and weekday != "":
        result = next_weekday(result, int(weekday))
    return result
