"""Bankgirot's BgMax file ("Bankgiro Inbetalningar", layout BgMax, version 01).

Every record is 80 characters (ISO 8859-1), its type in positions 1-2. The positions implemented here
(1-based, inclusive; N = digits right-aligned zero-filled, A = text left-aligned blank-filled), after
Bankgirot's technical manual "Bankgiro Inbetalningar, Layout BgMax":

====  =========================================================================================
01    Start: 3-22 layout name ``BGMAX`` (A), 23-24 version (N), 25-44 timestamp YYYYMMDDHHMMSSffffff (N),
      45 test mark ``T``/``P``
05    Opening (one per deposit section): 3-12 payee bankgiro number (N), 13-22 plusgiro number (N),
      23-25 currency (``SEK``)
20    Payment: 3-12 payer bankgiro (N), 13-37 reference (A), 38-55 amount in öre (N), 56 reference code,
      57 payment channel, 58-69 Bankgirot serial number (N), 70 image mark
21    Deduction: as 20, 71 deduction code; the amount is taken off the deposit
22/23 Extra reference (positive/negative): as 20; it names a further invoice of the payment before it,
      whose amount stays in that payment (record 22/23 amounts are informative)
25    Information: 3-52 free text
26    Name: 3-37 payer's name, 38-72 extra name
27    Address 1: 3-37 address, 38-46 postcode
28    Address 2: 3-37 town, 38-72 country, 73-74 country code
29    Organisation number: 3-14 payer's organisation or personal number (N)
15    Deposit (closes a section): 3-37 payee bank account (N), 38-45 payment date YYYYMMDD, 46-50 deposit serial
      number (N), 51-68 deposit amount in öre (N), 69-71 currency, 72-79 number of payments (N), 80 type
70    End: 3-10 number of payment records (20), 11-18 deduction records (21), 19-26 extra reference records
      (22 and 23), 27-34 deposit records (15)
====  =========================================================================================

Checks, each naming the line: length, record order, digits where the layout has digits, a section's deposit
amount (payments minus deductions) and count (20 and 21 records), the end record's counts.
"""

from datetime import datetime
from decimal import Decimal

from odoo import _
from odoo.tools.translate import LazyTranslate

from .rows import PaymentFile, PaymentFileError, PaymentRow

_lt = LazyTranslate(__name__)
RECORD_LENGTH = 80
# Field labels, translated only when a record is refused (a 10,000-payment file reads them 30,000 times).
PAYEE = _lt("The payee's bankgiro number")
PAYER = _lt("The payer's bankgiro number")
AMOUNT = _lt("The amount")
SERIAL = _lt("The serial number")
ORG_NO = _lt("The organisation number")
DEPOSIT = _lt("The deposit amount")
PAYMENTS = _lt("The number of payments")
DEDUCTIONS = _lt("The number of deductions")
EXTRAS = _lt("The number of extra references")
DEPOSITS = _lt("The number of deposits")


def _field(line, start, end):
    return line[start - 1 : end]


def _number(line, start, end, line_no, label):
    text = _field(line, start, end)
    if not text.isdigit():
        raise PaymentFileError.at(line_no, _("%(field)s is not a number: %(text)r", field=str(label), text=text), line)
    return int(text)


def _date(text, line_no, line):
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise PaymentFileError.at(line_no, _("%s is not a date (YYYYMMDD).", text), line) from None


def parse(data):
    """Parse BgMax bytes into a :class:`PaymentFile`; raise :class:`PaymentFileError` on anything wrong."""
    text = data.decode("iso-8859-1")
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise PaymentFileError(_("The BgMax file is empty."))
    rows, section, bank_reference, currency = [], None, "", "SEK"
    counts = {"20": 0, "21": 0, "22": 0, "15": 0}
    ended = False
    for line_no, line in enumerate(lines, 1):
        if len(line) != RECORD_LENGTH:
            raise PaymentFileError.at(line_no, _("a BgMax record has 80 characters, this one %s.", len(line)), line)
        kind = line[:2]
        if ended:
            raise PaymentFileError.at(line_no, _("a record after the end record (70)."), line)
        if line_no == 1:
            if kind != "01" or _field(line, 3, 22).strip() != "BGMAX":
                raise PaymentFileError.at(line_no, _("a BgMax file starts with the start record 01 BGMAX."), line)
            stamp = _field(line, 25, 44)
            if not stamp.isdigit():
                raise PaymentFileError.at(line_no, _("the timestamp is not a number: %r", stamp), line)
            bank_reference = stamp
            continue
        if kind == "05":
            if section is not None:
                raise PaymentFileError.at(line_no, _("an opening record (05) inside an open section."), line)
            payee = _number(line, 3, 12, line_no, PAYEE)
            currency = _field(line, 23, 25).strip() or "SEK"
            if not counts["15"] and not rows:  # the file's reference: its timestamp and the first payee
                bank_reference = f"{bank_reference}-{payee:010d}"
            section = {"rows": [], "payments": 0, "amount": 0}
        elif kind in ("20", "21", "22", "23", "25", "26", "27", "28", "29", "15"):
            if section is None:
                raise PaymentFileError.at(line_no, _("record %s outside a section (05 ... 15).", kind), line)
            if kind in ("20", "21"):
                _number(line, 3, 12, line_no, PAYER)
                amount = _number(line, 38, 55, line_no, AMOUNT)
                _number(line, 58, 69, line_no, SERIAL)
                sign = -1 if kind == "21" else 1
                section["payments"] += 1
                section["amount"] += sign * amount
                counts[kind] += 1
                section["rows"].append(
                    PaymentRow(
                        date=None,
                        amount=sign * Decimal(amount) / 100,
                        currency=currency,
                        reference=_field(line, 13, 37).strip(),
                        raw=line,
                        line_no=line_no,
                    )
                )
            elif kind in ("22", "23"):
                if not section["rows"]:
                    raise PaymentFileError.at(line_no, _("an extra reference before any payment."), line)
                _number(line, 38, 55, line_no, AMOUNT)
                counts["22"] += 1
                current = section["rows"][-1]
                current.extra_references.append(_field(line, 13, 37).strip())
                current.raw += "\n" + line
            elif kind in ("25", "26", "27", "28", "29"):
                if not section["rows"]:
                    raise PaymentFileError.at(line_no, _("payer details before any payment."), line)
                current = section["rows"][-1]
                current.raw += "\n" + line
                if kind == "26":
                    current.payer_name = _field(line, 3, 37).strip()
                elif kind == "29":
                    current.payer_org_no = str(_number(line, 3, 14, line_no, ORG_NO))
            else:  # 15: the deposit closes the section
                day = _date(_field(line, 38, 45), line_no, line)
                amount = _number(line, 51, 68, line_no, DEPOSIT)
                number = _number(line, 72, 79, line_no, PAYMENTS)
                if amount != section["amount"] or number != section["payments"]:
                    raise PaymentFileError.at(
                        line_no,
                        _(
                            "the deposit says %(number)s payments of %(amount)s öre; the section has "
                            "%(found)s payments of %(sum)s öre.",
                            number=number,
                            amount=amount,
                            found=section["payments"],
                            sum=section["amount"],
                        ),
                        line,
                    )
                for row in section["rows"]:
                    row.date = day
                rows += section["rows"]
                counts["15"] += 1
                section = None
        elif kind == "70":
            if section is not None:
                raise PaymentFileError.at(line_no, _("the end record (70) inside an open section."), line)
            expected = {
                "20": _number(line, 3, 10, line_no, PAYMENTS),
                "21": _number(line, 11, 18, line_no, DEDUCTIONS),
                "22": _number(line, 19, 26, line_no, EXTRAS),
                "15": _number(line, 27, 34, line_no, DEPOSITS),
            }
            if expected != counts:
                raise PaymentFileError.at(
                    line_no,
                    _(
                        "the end record counts %(expected)s; the file has %(found)s.",
                        expected=expected,
                        found=counts,
                    ),
                    line,
                )
            ended = True
        else:
            raise PaymentFileError.at(line_no, _("unknown BgMax record type %r.", kind), line)
    if not ended:
        raise PaymentFileError(_("The BgMax file has no end record (70): it is incomplete."))
    return PaymentFile("bgmax", bank_reference, currency, rows)
