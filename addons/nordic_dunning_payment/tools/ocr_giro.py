"""Nets (Mastercard Payment Services) OCR giro files, read with the ``netsgiro`` package.

Each 80-character record is parsed on its own by ``netsgiro.records`` (so that an error names its line),
then the transmission is built by ``netsgiro.Transmission.from_records``. On top of netsgiro's own checks
(record patterns, digits, lengths) the counts and totals of each assignment end record (88) and of the
transmission end record (89) must match the transactions. Amounts of the end records are unsigned øre.

The file's reference is the transmission number with the data transmitter's Nets id.
"""

from decimal import Decimal

import netsgiro
from netsgiro import records as nets_records

from odoo import _

from .rows import PaymentFile, PaymentFileError, PaymentRow

REVERSALS = (netsgiro.TransactionType.REVERSING_WITH_KID, netsgiro.TransactionType.REVERSING_WITH_TEXT)


def _records(lines):
    records = []
    for line_no, line in enumerate(lines, 1):
        try:
            (record,) = nets_records.parse(line)
        except (ValueError, TypeError, KeyError) as err:
            raise PaymentFileError.at(line_no, _("not an OCR giro record (%s).", err), line) from None
        records.append((line_no, line, record))
    return records


def _check_end(line_no, line, end, transactions, records, amount):
    found = (len(transactions), records, amount)
    expected = (end.num_transactions, end.num_records, end.total_amount)
    if found != expected:
        raise PaymentFileError.at(
            line_no,
            _(
                "the end record counts %(expected)s (transactions, records, amount in øre); the file has %(found)s.",
                expected=expected,
                found=found,
            ),
            line,
        )


def parse(data):
    """Parse OCR giro bytes into a :class:`PaymentFile`; raise :class:`PaymentFileError` on anything wrong."""
    lines = [line for line in data.decode("iso-8859-1").splitlines() if line.strip()]
    if len(lines) < 2:
        raise PaymentFileError(_("The OCR giro file has fewer than two records."))
    parsed = _records(lines)
    if not isinstance(parsed[0][2], nets_records.TransmissionStart):
        raise PaymentFileError.at(1, _("an OCR giro file starts with a transmission start record (10)."), lines[0])
    last_no, last_line, last = parsed[-1]
    if not isinstance(last, nets_records.TransmissionEnd):
        raise PaymentFileError.at(last_no, _("an OCR giro file ends with a transmission end record (89)."), last_line)
    # Per assignment: its records and the raw lines of each transaction, to check its end record.
    raw_by_number, assignment, index = {}, None, 0
    all_transactions, total = 0, 0
    for line_no, line, record in parsed[1:-1]:
        if isinstance(record, nets_records.AssignmentStart):
            if assignment is not None:
                raise PaymentFileError.at(line_no, _("an assignment starts inside another."), line)
            assignment = {"records": 1, "numbers": [], "amount": 0}
            index += 1
            continue
        if assignment is None:
            raise PaymentFileError.at(line_no, _("a record outside an assignment."), line)
        assignment["records"] += 1
        if isinstance(record, nets_records.AssignmentEnd):
            _check_end(line_no, line, record, assignment["numbers"], assignment["records"], assignment["amount"])
            all_transactions += len(assignment["numbers"])
            total += assignment["amount"]
            assignment = None
            continue
        if record.service_code != netsgiro.ServiceCode.OCR_GIRO:
            raise PaymentFileError.at(line_no, _("not an OCR giro transaction (service code 09)."), line)
        key = (index, record.transaction_number)
        if isinstance(record, nets_records.TransactionAmountItem1):
            assignment["numbers"].append(record.transaction_number)
            assignment["amount"] += record.amount
            raw_by_number[key] = (line_no, [line])
        else:
            entry = raw_by_number.get(key)
            if entry is None:
                raise PaymentFileError.at(line_no, _("a transaction record without its amount record (30)."), line)
            entry[1].append(line)
    if assignment is not None:
        raise PaymentFileError.at(last_no, _("the last assignment has no end record (88)."), last_line)
    _check_end(last_no, last_line, last, range(all_transactions), len(parsed), total)
    try:
        transmission = netsgiro.Transmission.from_records([record for _no, _line, record in parsed])
    except (ValueError, TypeError, AssertionError) as err:
        raise PaymentFileError(_("The OCR giro file is not consistent: %s", err)) from None
    rows = []
    raws = iter(raw_by_number.values())
    for nets_assignment in transmission.assignments:
        for transaction in nets_assignment.transactions:
            line_no, raw_lines = next(raws)
            sign = -1 if transaction.type in REVERSALS or transaction.sign == "-" else 1
            rows.append(
                PaymentRow(
                    date=transaction.date,
                    amount=sign * Decimal(transaction.amount),
                    currency="NOK",
                    reference=(transaction.kid or "").strip(),
                    payer_name="",
                    raw="\n".join(raw_lines),
                    line_no=line_no,
                )
            )
    reference = f"{transmission.data_transmitter}-{transmission.number}"
    return PaymentFile("ocr_giro", reference, "NOK", rows)
