from werkzeug.exceptions import Forbidden, NotFound

from odoo import http
from odoo.exceptions import AccessError
from odoo.http import content_disposition, request

from ..models.res_partner_statement import XLSX_MIMETYPE


class NordicDunningStatement(http.Controller):
    @http.route("/nordic_dunning/statement/<int:partner_id>.xlsx", type="http", auth="user", methods=["GET"])
    def statement_xlsx(self, partner_id, **kwargs):
        """The customer statement as XLSX, for a dunning user who may read the customer, in the current
        company (the rights are checked by the statement itself, as for the PDF)."""
        partner = request.env["res.partner"].browse(partner_id)
        try:
            if not partner.exists():
                raise NotFound()
            content = partner._nordic_statement_xlsx()
        except AccessError as error:
            raise Forbidden(str(error)) from error
        return request.make_response(
            content,
            headers=[
                ("Content-Type", XLSX_MIMETYPE),
                ("Content-Length", len(content)),
                ("Content-Disposition", content_disposition(partner._nordic_statement_filename("xlsx"))),
            ],
        )
