from odoo import models


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def retrieve_attachment(self, record):
        """A dunning notice's letter is the PDF the notice records (the evidence), read without a search per
        notice and never re-rendered; one that has none yet is rendered."""
        if self.model == "nordic.dunning.notice":
            return record.attachment_id or None
        return super().retrieve_attachment(record)
