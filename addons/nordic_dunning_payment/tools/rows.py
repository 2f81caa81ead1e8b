"""What every payment-file parser returns: plain rows, and the error that names the bad line."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from odoo import _
from odoo.exceptions import UserError


class PaymentFileError(UserError):
    """A payment file that cannot be imported as it is; the message names the line. Nothing is imported."""

    @classmethod
    def at(cls, line_no, message, raw=None):
        text = _("Line %(line)s: %(message)s", line=line_no, message=message)
        if raw is not None:
            text += "\n" + raw.rstrip("\r\n")
        return cls(text)


@dataclass
class PaymentRow:
    """One incoming payment as the bank reported it (``amount`` in the file's currency, negative for a
    deduction or reversal)."""

    date: date
    amount: Decimal
    currency: str
    reference: str = ""
    extra_references: list = field(default_factory=list)
    payer_name: str = ""
    payer_org_no: str = ""
    raw: str = ""
    line_no: int = 0

    @property
    def references(self):
        return [ref for ref in [self.reference, *self.extra_references] if ref]


@dataclass
class PaymentFile:
    """A parsed file: its format, the bank's reference of the file (unique per journal) and its rows."""

    file_format: str
    bank_reference: str
    currency: str
    rows: list

    @property
    def total(self):
        return sum((row.amount for row in self.rows), Decimal(0))
