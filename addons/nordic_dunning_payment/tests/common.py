from datetime import date

from odoo.tests import tagged

from odoo.addons.nordic_dunning.tests.common import NordicDunningCommon


@tagged("post_install", "-at_install")
class PaymentCommon(NordicDunningCommon):
    """The engine's test company with OCR (or KID) references on its sales journal and a bank journal that
    receives payment files."""

    reference_model = "se_ocr2"
    RUN_DAY = date(2026, 4, 10)  # the first reminder of an invoice due on 1 April

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sale_journal.invoice_reference_model = cls.reference_model
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.accountant = cls.company_user("np_accountant", "account.group_account_user")

    def import_file(self, data, name="payments.txt", user=None):
        imports = self.env["nordic.payment.import"]
        if user:
            imports = imports.with_user(user)
        return imports._import_file(self.bank_journal, name, data)

    def proposed(self, day=None):
        """The invoices the run of ``day`` would remind."""
        run = self.build_run(day or self.RUN_DAY)
        return run.line_ids.filtered(lambda line: line.decision == "proposed")

    @staticmethod
    def bad_digit(reference):
        """``reference`` with its check digit changed."""
        return reference[:-1] + str((int(reference[-1]) + 1) % 10)
