from odoo import api, models
from odoo.tools.image import image_data_uri


class ReportCustomerStatement(models.AbstractModel):
    """The values of the customer statement PDF: one statement per customer, as the XLSX shows it."""

    _name = "report.nordic_dunning.report_customer_statement"
    _description = "Customer statement"

    @api.model
    def _get_report_values(self, docids, data=None):
        partners = self.env["res.partner"].browse(docids)
        return {
            "doc_ids": docids,
            "doc_model": "res.partner",
            "docs": partners,
            # Each statement checks the reader's rights (dunning users, readable customers).
            "statements": {
                partner.id: partner._nordic_statement_in_lang()._nordic_statement_data() for partner in partners
            },
            # The logo travels in the page (a data: URI): wkhtmltopdf fetches nothing.
            "image_data_uri": image_data_uri,
        }
