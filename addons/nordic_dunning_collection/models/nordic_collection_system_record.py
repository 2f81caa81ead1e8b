from odoo import _, api, models
from odoo.exceptions import AccessError

from odoo.addons.nordic_dunning.tools.system import is_system


class NordicCollectionSystemRecord(models.AbstractModel):
    """A record only the product writes (a case's status history, the agency's changes, the commands to the
    agency): any other caller may read it, never create, change or delete it."""

    _name = "nordic.collection.system.record"
    _description = "Record written by the collection process only"

    def _check_system_write(self):
        if not is_system(self.env):
            raise AccessError(_("%s: written by the collection process only, never by hand.", self._description))

    @api.model_create_multi
    def create(self, vals_list):
        self._check_system_write()
        return super().create(vals_list)

    def write(self, vals):
        self._check_system_write()
        return super().write(vals)

    def unlink(self):
        self._check_system_write()
        return super().unlink()
