"""camt.054 notifications end to end: the structured creditor reference (OCR), else the unstructured text."""

from datetime import date

from odoo.exceptions import UserError

from . import writers
from .common import PaymentCommon


class TestImportCamt054(PaymentCommon):
    """ISO 20022 camt.054 through OCA's camt parser."""

    def test_paid_invoice_is_not_reminded(self):
        """A structured OCR reference pays the invoice; an unstructured one with the OCR too; the run skips both."""
        first = self.make_invoice(1000.0)
        second = self.make_invoice(250.0)
        unpaid = self.make_invoice(700.0)
        data = writers.camt054(
            [
                {"amount": 1000, "ref": first.payment_reference, "name": "Patient Ada"},
                {"amount": 250, "ustrd": second.payment_reference},
            ],
            day=date(2026, 4, 9),
        )
        record = self.import_file(data, name="camt054.xml")
        self.assertEqual((record.file_format, record.bank_reference), ("camt054", "MSG-20260415-1"))
        self.assertEqual(record.line_ids.mapped("state"), ["matched", "matched"])
        self.assertTrue(all(inv.payment_state in ("paid", "in_payment") for inv in first | second))
        self.assertEqual(self.proposed().move_id, unpaid)

    def test_check_digit_unknown_partial_duplicate(self):
        """Wrong check digit and unknown reference to check, a partial payment left in dunning, the same message
        id again refused."""
        invoice = self.make_invoice(1000.0)
        data = writers.camt054(
            [
                {"amount": 100, "ref": invoice.payment_reference},
                {"amount": 50, "ref": self.bad_digit(invoice.payment_reference)},
                {"amount": 60, "ustrd": "thanks for the treatment"},
            ],
            day=date(2026, 4, 9),
        )
        record = self.import_file(data)
        self.assertEqual(record.line_ids.mapped("state"), ["matched", "bad_check_digit", "unmatched"])
        self.assertIn("CdtrRefInf", record.line_ids[1].raw_line)
        self.assertEqual(self.proposed().amount_residual, 900.0)
        with self.assertRaises(UserError) as cm:
            self.import_file(writers.camt054([{"amount": 5, "ref": invoice.payment_reference}]))
        self.assertIn("MSG-20260415-1", str(cm.exception))

    def test_hostile(self):
        """A summary that disagrees with the entries, or XML that is not well-formed: nothing imported."""
        invoice = self.make_invoice(1000.0)
        for data in (
            writers.camt054([{"amount": 1000, "ref": invoice.payment_reference}], summary=(2, 1000)),
            writers.camt054([{"amount": 1000, "ref": invoice.payment_reference}])[:-40],
        ):
            with self.assertRaises(UserError):
                self.import_file(data)
        self.assertFalse(self.env["nordic.payment.import"].search([]))
        self.assertEqual(invoice.payment_state, "not_paid")
