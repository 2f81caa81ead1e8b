from odoo import models

from .account_move_holds import HOLD_FIELDS


class ResPartner(models.Model):
    _inherit = "res.partner"

    def write(self, vals):
        """A customer held from dunning (or released) is held (or released) at the agency too."""
        result = super().write(vals)
        if any(name in vals for name in HOLD_FIELDS):
            cases = (
                self.env["nordic.collection.case"].sudo().search([("partner_id", "in", self.commercial_partner_id.ids)])
            )
            self.env["nordic.collection.case"]._sync_agency_holds(cases.move_id)
        return result
