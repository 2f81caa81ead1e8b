import base64

from odoo import fields, models


class NordicPaymentUpload(models.TransientModel):
    _name = "nordic.payment.upload"
    _description = "Import a payment file"

    journal_id = fields.Many2one("account.journal", required=True, domain=[("type", "=", "bank")])
    data = fields.Binary("File", required=True)
    filename = fields.Char()

    def action_import(self):
        """Import the uploaded file and show what came of it."""
        self.ensure_one()
        record = self.env["nordic.payment.import"]._import_file(
            self.journal_id, self.filename or "payment-file", base64.b64decode(self.data)
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "nordic.payment.import",
            "res_id": record.id,
            "view_mode": "form",
        }
