from odoo import api, models


class NordicDunningEvent(models.Model):
    _inherit = "nordic.dunning.event"

    @api.model
    def _on_measures_cancelled(self, events, reason):
        """Cancelled measures stop at the agency too: their open collection cases are withdrawn."""
        result = super()._on_measures_cancelled(events, reason)
        self.env["nordic.collection.case"]._withdraw_for_events(events, reason)
        return result
