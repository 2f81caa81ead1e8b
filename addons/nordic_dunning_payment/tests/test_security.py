"""Who may import payment files, and that nobody writes an import's records but the import itself."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user

from . import writers
from .common import PaymentCommon


class TestSecurity(PaymentCommon):
    """Accountants import; invoicing users only read; the records are the import's own; companies are apart."""

    def test_invoicing_user_cannot_import(self):
        """A user without accounting rights can neither use the wizard nor call the import."""
        billing = self.company_user("np_billing", "account.group_account_invoice")
        invoice = self.make_invoice(100.0)
        data = writers.bgmax([{"reference": invoice.payment_reference, "amount": 100}])
        with self.assertRaises(AccessError):
            self.env["nordic.payment.upload"].with_user(billing).create({"journal_id": self.bank_journal.id})
        with self.assertRaises(AccessError):
            self.import_file(data, user=billing)
        self.assertEqual(invoice.payment_state, "not_paid")
        record = self.import_file(data, user=self.accountant)
        self.assertEqual(record.with_user(billing).line_ids.state, "matched")

    def test_records_are_the_imports_own(self):
        """Even an accountant cannot create, change or delete an import or its lines over the ORM."""
        invoice = self.make_invoice(100.0)
        record = self.import_file(writers.bgmax([{"reference": "1234567897", "amount": 100}]), user=self.accountant)
        record = record.with_user(self.accountant)
        with self.assertRaises(AccessError):
            record.write({"state": "done"})
        with self.assertRaises(AccessError):
            record.line_ids.write({"state": "matched", "move_ids": [(6, 0, invoice.ids)]})
        with self.assertRaises(AccessError):
            self.env["nordic.payment.import"].with_user(self.accountant).create(
                {
                    "name": "forged",
                    "journal_id": self.bank_journal.id,
                    "file_format": "bgmax",
                    "checksum": "x",
                    "bank_reference": "y",
                    "state": "done",
                }
            )
        with self.assertRaises(UserError):
            record.unlink()
        record.line_ids.note = "called the payer"
        self.assertEqual(record.line_ids.note, "called the payer")

    def test_other_company_sees_nothing(self):
        """An accountant of another company sees no payment file of this one."""
        self.import_file(writers.bgmax([{"reference": "1234567897", "amount": 100}]))
        other_company = self.setup_other_company(name="Other AB")["company"]
        other = new_test_user(
            self.env,
            login="np_other",
            groups="account.group_account_user",
            company_id=other_company.id,
            company_ids=other_company.ids,
        )
        self.assertFalse(self.env["nordic.payment.import"].with_user(other).search([]))
        self.assertFalse(self.env["nordic.payment.import.line"].with_user(other).search([]))
