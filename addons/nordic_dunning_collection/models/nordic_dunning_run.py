from odoo import models


class NordicDunningRun(models.Model):
    _inherit = "nordic.dunning.run"

    def _handover(self, events):
        """Hand-over level reached: one collection case per event, waiting in the agency's outbox."""
        result = super()._handover(events)
        self.env["nordic.collection.case"]._create_from_handover(events)
        return result
