"""Check digits of Nordic payment references: Swedish OCR (Luhn/MOD10, optionally with a length digit) and
Norwegian KID (MOD10 or MOD11), the ones Odoo's l10n_se and l10n_no generate and banks verify.

Sources: Bankgirot, "Bankgiro Inbetalningar, OCR-referenskontroll" (MOD10 check digit, level 3 adds a length
digit before it); Nets (Mastercard Payment Services), "OCR giro, systemspesifikasjon" (KID with MOD10 or MOD11
check digit; MOD11 remainder 10 gives the digit '-', which a KID may carry in its last position).
"""

from stdnum import luhn


def normalize(reference):
    """The reference without blanks (files pad with spaces; payers type spaces)."""
    return "".join((reference or "").split())


def is_digits(reference):
    return bool(reference) and reference.isdigit()


def mod10_ok(reference):
    return is_digits(reference) and len(reference) >= 2 and luhn.is_valid(reference)


def mod11_digit(body):
    """The MOD11 check digit of ``body`` (weights 2..7 from the right), '-' for remainder 10."""
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(body)))
    check = 11 - total % 11
    return "0" if check == 11 else "-" if check == 10 else str(check)


def mod11_ok(reference):
    if len(reference) < 2 or not reference[:-1].isdigit():
        return False
    return mod11_digit(reference[:-1]) == reference[-1]


def ocr_length_ok(reference):
    """Swedish OCR level 3: the digit before the check digit is the reference's length modulo 10."""
    return mod10_ok(reference) and len(reference) >= 3 and int(reference[-2]) == len(reference) % 10


def check_digit_ok(reference):
    """Whether ``reference`` is a well-formed OCR or KID number (MOD10, or MOD11 for a KID)."""
    return mod10_ok(reference) or mod11_ok(reference)
