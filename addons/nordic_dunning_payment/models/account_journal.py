from odoo import fields, models


class AccountJournal(models.Model):
    _inherit = "account.journal"

    nordic_payment_folder = fields.Char(
        "Payment files folder",
        groups="base.group_system",
        help="A folder on the server where the bank drops this journal's payment files (BgMax, OCR giro, "
        "camt.054). A scheduled action imports each new file and moves it to done/ (or failed/, with the "
        "error logged).",
    )
    nordic_payment_import_ids = fields.One2many("nordic.payment.import", "journal_id", "Payment files")

    def action_nordic_payment_upload(self):
        """Open the upload of a payment file for this bank journal."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Import payment file"),
            "res_model": "nordic.payment.upload",
            "view_mode": "form",
            "target": "new",
            "context": {"default_journal_id": self.id},
        }
