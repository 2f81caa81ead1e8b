"""BgMax files end to end on a Swedish company: imported, matched by OCR, booked, reconciled, not reminded."""

import base64
from datetime import date

from odoo.exceptions import UserError

from . import writers
from .common import PaymentCommon


class TestImportBgMax(PaymentCommon):
    """Bankgirot's BgMax: each case of the issue, from the invoice sent to the next dunning run."""

    def test_paid_invoice_is_not_reminded(self):
        """An OCR payment of the whole amount pays the invoice; the next run proposes only the unpaid one."""
        paid = self.make_invoice(1000.0)
        unpaid = self.make_invoice(700.0)
        self.assertTrue(paid.payment_reference.isdigit())
        record = self.import_file(
            writers.bgmax([{"reference": paid.payment_reference, "amount": 1000}], day=date(2026, 4, 9))
        )
        self.assertEqual(record.state, "done")
        self.assertEqual((record.line_count, record.matched_count, record.to_check_count), (1, 1, 0))
        self.assertEqual(record.line_ids.state, "matched")
        self.assertEqual(record.line_ids.move_ids, paid)
        self.assertIn(paid.payment_state, ("paid", "in_payment"))
        self.assertEqual(record.move_ids.state, "posted")
        self.assertEqual(record.move_ids.date, date(2026, 4, 9))
        self.assertEqual(self.proposed().move_id, unpaid)

    def test_upload_wizard(self):
        """The wizard on the bank journal imports the uploaded file (the accountant's path)."""
        invoice = self.make_invoice(300.0)
        data = writers.bgmax([{"reference": invoice.payment_reference, "amount": 300}])
        action = self.bank_journal.action_nordic_payment_upload()
        wizard = (
            self.env["nordic.payment.upload"]
            .with_user(self.accountant)
            .with_context(**action["context"])
            .create({"data": base64.b64encode(data), "filename": "bgmax.txt"})
        )
        result = wizard.action_import()
        record = self.env["nordic.payment.import"].browse(result["res_id"])
        self.assertEqual(
            (record.name, record.journal_id, record.file_format), ("bgmax.txt", self.bank_journal, "bgmax")
        )
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_wrong_check_digit(self):
        """A reference that fails its check digit pays nothing and waits for a person, with the raw record."""
        invoice = self.make_invoice(1000.0)
        wrong = self.bad_digit(invoice.payment_reference)
        record = self.import_file(writers.bgmax([{"reference": wrong, "amount": 1000}]))
        line = record.line_ids
        self.assertEqual((record.state, line.state), ("to_check", "bad_check_digit"))
        self.assertIn(wrong, line.raw_line)
        self.assertIn("check digit", line.message)
        self.assertFalse(line.move_line_ids)
        self.assertEqual(invoice.payment_state, "not_paid")
        action = self.env["ir.actions.act_window"]._for_xml_id("nordic_dunning_payment.action_nordic_payment_to_check")
        self.assertEqual(action["res_model"], "nordic.payment.import.line")
        self.assertIn(
            line, self.env["nordic.payment.import.line"].search([("state", "in", ("unmatched", "bad_check_digit"))])
        )
        line.action_mark_handled()
        self.assertEqual((line.state, record.state), ("handled", "done"))

    def test_unknown_reference(self):
        """A well-formed reference that no invoice has is unmatched, nothing is booked."""
        self.make_invoice(1000.0)
        record = self.import_file(writers.bgmax([{"reference": "1234567897", "amount": 1000}]))
        self.assertEqual(record.line_ids.state, "unmatched")
        self.assertIn("1234567897", record.line_ids.message)
        self.assertFalse(record.move_ids)

    def test_duplicate_file(self):
        """The same file twice is refused; so is another file with the same bank reference."""
        invoice = self.make_invoice(1000.0)
        data = writers.bgmax([{"reference": invoice.payment_reference, "amount": 400}])
        self.import_file(data, name="first.txt")
        with self.assertRaises(UserError) as cm:
            self.import_file(data, name="again.txt")
        self.assertIn("already imported", str(cm.exception))
        other_bytes = writers.bgmax([{"reference": invoice.payment_reference, "amount": 100}])
        with self.assertRaises(UserError) as cm:
            self.import_file(other_bytes, name="other.txt")
        self.assertIn("20260415083000123456", str(cm.exception))
        self.assertEqual(invoice.amount_residual, 600.0)

    def test_partial_payment(self):
        """A partial payment keeps the invoice in dunning at the open amount left."""
        invoice = self.make_invoice(1000.0)
        self.import_file(writers.bgmax([{"reference": invoice.payment_reference, "amount": 400}], day=date(2026, 4, 9)))
        self.assertEqual(invoice.payment_state, "partial")
        line = self.proposed()
        self.assertEqual(line.move_id, invoice)
        self.assertEqual(line.amount_residual, 600.0)

    def test_hostile_file_imports_nothing(self):
        """A file whose totals do not add up, or with a garbage line, is refused whole: no import, no entry."""
        invoice = self.make_invoice(1000.0)
        moves_before = self.env["account.move"].search_count([])
        with self.assertRaises(UserError) as cm:
            self.import_file(writers.bgmax([{"reference": invoice.payment_reference, "amount": 1000}], deposit=5))
        self.assertIn("Line 4", str(cm.exception))
        lines = writers.bgmax([{"reference": invoice.payment_reference, "amount": 1000}]).split(b"\r\n")
        with self.assertRaises(UserError) as cm:
            self.import_file(b"\r\n".join([*lines[:3], b"20 garbage", *lines[3:]]))
        self.assertIn("Line 4", str(cm.exception))
        self.assertFalse(self.env["nordic.payment.import"].search([]))
        self.assertEqual(self.env["account.move"].search_count([]), moves_before)
        self.assertEqual(invoice.payment_state, "not_paid")

    def test_amount_and_customer(self):
        """Without a reference, the payer's single open invoice of exactly that amount is paid."""
        invoice = self.make_invoice(850.0)
        self.make_invoice(900.0)
        record = self.import_file(writers.bgmax([{"reference": "", "amount": 850, "name": "Patient Ada"}]))
        self.assertEqual((record.line_ids.state, record.line_ids.match_method), ("matched", "amount"))
        self.assertEqual(record.line_ids.move_ids, invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

    def test_overpayment_feeds_refunds(self):
        """Paying more than the open amount pays the invoice and proposes the rest as a refund; paying a paid
        invoice again is a double payment, refunded whole."""
        invoice = self.make_invoice(1000.0)
        data = writers.bgmax(
            [
                {"reference": invoice.payment_reference, "amount": 1200},
                {"reference": invoice.payment_reference, "amount": 300},
            ]
        )
        record = self.import_file(data)
        self.assertEqual(record.line_ids.mapped("state"), ["overpaid", "overpaid"])
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        refunds = self.env["nordic.dunning.refund"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(sorted(refunds.mapped("amount")), [200.0, 300.0])
        self.assertEqual(set(refunds.mapped("source")), {"overpayment"})

    def test_extra_references_pay_several_invoices(self):
        """A payment with extra reference records (22) pays each invoice it names, oldest due first."""
        first = self.make_invoice(100.0, due=date(2026, 4, 1))
        second = self.make_invoice(200.0, due=date(2026, 4, 5))
        data = writers.bgmax(
            [{"reference": first.payment_reference, "amount": 300, "extra": [second.payment_reference]}]
        )
        record = self.import_file(data)
        self.assertEqual(record.line_ids.state, "matched")
        self.assertEqual(record.line_ids.move_ids, first | second)
        self.assertTrue(all(inv.payment_state in ("paid", "in_payment") for inv in first | second))
