"""Nets OCR giro files end to end on a Norwegian company: KID references of l10n_no."""

from datetime import date

from odoo.exceptions import UserError

from . import writers
from .common import PaymentCommon


class TestImportOcrGiro(PaymentCommon):
    """Nets OCR giro, read by netsgiro: paid, partial, wrong KID, unknown KID, hostile totals."""

    country_code = "NO"
    reference_model = "no"

    def test_paid_invoice_is_not_reminded(self):
        """A KID payment of the whole amount pays the invoice; the collection notice run skips it."""
        paid = self.make_invoice(2000.0)
        unpaid = self.make_invoice(500.0)
        day = paid.nordic_next_dunning_date
        record = self.import_file(
            writers.ocr_giro([{"kid": paid.payment_reference, "amount": 2000}], day=date(2026, 4, 9))
        )
        self.assertEqual((record.file_format, record.line_ids.state), ("ocr_giro", "matched"))
        self.assertIn(paid.payment_state, ("paid", "in_payment"))
        self.assertEqual(self.proposed(day).move_id, unpaid)

    def test_partial_and_wrong_kid(self):
        """A partial KID payment leaves the right open amount in dunning; a KID with a wrong check digit and an
        unknown KID wait for a person; a second file with the same transmission number is refused."""
        invoice = self.make_invoice(2000.0)
        other = self.make_invoice(300.0)
        day = invoice.nordic_next_dunning_date
        data = writers.ocr_giro(
            [
                {"kid": invoice.payment_reference, "amount": 1500},
                {"kid": self.bad_digit(other.payment_reference), "amount": 300},
                {"kid": "12345678903", "amount": 50},
            ],
            day=date(2026, 4, 9),
        )
        record = self.import_file(data)
        self.assertEqual(record.line_ids.mapped("state"), ["matched", "bad_check_digit", "unmatched"])
        self.assertEqual(record.to_check_count, 2)
        self.assertEqual(invoice.amount_residual, 500.0)
        lines = self.proposed(day)
        self.assertEqual(lines.filtered(lambda line: line.move_id == invoice).amount_residual, 500.0)
        self.assertIn(other, lines.move_id)
        again = writers.ocr_giro([{"kid": other.payment_reference, "amount": 300}])
        with self.assertRaises(UserError) as cm:
            self.import_file(again)
        self.assertIn("55555555-1000081", str(cm.exception))

    def test_hostile_totals(self):
        """An end record whose total disagrees with the transactions: nothing imported."""
        invoice = self.make_invoice(2000.0)
        lines = writers.ocr_giro([{"kid": invoice.payment_reference, "amount": 2000}]).decode().splitlines()
        lines[-1] = lines[-1][:24] + "00000000000000001" + lines[-1][41:]
        with self.assertRaises(UserError) as cm:
            self.import_file("\n".join(lines).encode())
        self.assertIn(f"Line {len(lines)}", str(cm.exception))
        self.assertFalse(self.env["nordic.payment.import"].search([]))
        self.assertEqual(invoice.payment_state, "not_paid")
