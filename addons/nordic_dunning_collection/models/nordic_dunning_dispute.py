from odoo import api, models

# Fields of a dispute whose change may open or close it.
DISPUTE_FIELDS = ("state", "move_id")


class NordicDunningDispute(models.Model):
    _inherit = "nordic.dunning.dispute"

    @api.model_create_multi
    def create(self, vals_list):
        """A dispute of a handed-over invoice pauses its case at the agency."""
        disputes = super().create(vals_list)
        self.env["nordic.collection.case"]._sync_agency_holds(disputes.move_id)
        return disputes

    def write(self, vals):
        """A dispute closed (or reopened) resumes (or pauses) the invoice's case at the agency."""
        moves = self.move_id
        result = super().write(vals)
        if any(name in vals for name in DISPUTE_FIELDS):
            self.env["nordic.collection.case"]._sync_agency_holds(moves | self.move_id)
        return result

    def unlink(self):
        moves = self.move_id
        result = super().unlink()
        self.env["nordic.collection.case"]._sync_agency_holds(moves)
        return result
