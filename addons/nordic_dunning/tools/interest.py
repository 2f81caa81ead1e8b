"""Statutory late interest, split exactly across rate periods and partial payments.

Pure functions on ``Decimal`` so the arithmetic is exact until the final rounding to the
currency: interest = sum over periods of open amount x annual rate x days / 365.
"""

from decimal import ROUND_HALF_UP, Decimal


def rate_on(periods, day):
    """The rate (percent) in force on ``day``; ``periods`` is a sorted list of (date_from, rate)."""
    rate = None
    for date_from, value in periods:
        if date_from <= day:
            rate = value
        else:
            break
    return rate


def interest_segments(amount, date_from, date_to, periods, payments=()):
    """Split [date_from, date_to) where the rate or the open amount changes.

    :param amount: the claim at ``date_from`` (Decimal)
    :param periods: sorted [(valid_from, annual_rate_percent)]
    :param payments: [(date, amount)] that lower the claim from their date on
    :return: [(start, end, open_amount, rate, days)] with end exclusive
    """
    if date_to <= date_from:
        return []
    cuts = {date_from, date_to}
    cuts.update(d for d, _r in periods if date_from < d < date_to)
    cuts.update(d for d, _a in payments if date_from < d < date_to)
    ordered = sorted(cuts)
    segments = []
    for start, end in zip(ordered, ordered[1:]):
        paid = sum((Decimal(a) for d, a in payments if d <= start), Decimal(0))
        open_amount = max(Decimal(amount) - paid, Decimal(0))
        rate = rate_on(periods, start)
        if rate is None or not open_amount:
            continue
        segments.append((start, end, open_amount, Decimal(rate), (end - start).days))
    return segments


def rate_days(date_from, date_to, periods):
    """Sum of rate x days over [date_from, date_to): exact, so that the interest on a constant
    amount is ``amount * rate_days / 36500``, the same number ``late_interest`` gives."""
    return sum(
        (rate * days for _s, _e, _a, rate, days in interest_segments(Decimal(1), date_from, date_to, periods)),
        Decimal(0),
    )


def late_interest(amount, date_from, date_to, periods, payments=(), precision=Decimal("0.01")):
    """Interest accrued from ``date_from`` (the due date) up to ``date_to``, rounded once.

    The products are exact in Decimal; the one division by 365 x 100 comes last.
    """
    total = Decimal(0)
    for _s, _e, open_amount, rate, days in interest_segments(amount, date_from, date_to, periods, payments):
        total += open_amount * rate * days
    return (total / Decimal(36500)).quantize(precision, rounding=ROUND_HALF_UP)


def quantize_interest(amount, rate_days_sum, precision=Decimal("0.01")):
    """``late_interest`` of a constant amount from its ``rate_days`` sum."""
    return (Decimal(amount) * rate_days_sum / Decimal(36500)).quantize(precision, rounding=ROUND_HALF_UP)
