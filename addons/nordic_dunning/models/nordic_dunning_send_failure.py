from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from ..tools.system import is_system


class NordicDunningSendFailure(models.Model):
    """What a run's background sending could not produce, per invoice: written by the sending jobs only."""

    _name = "nordic.dunning.send.failure"
    _description = "Dunning sending failure"
    _order = "id"

    run_id = fields.Many2one("nordic.dunning.run", required=True, index=True, readonly=True, ondelete="cascade")
    company_id = fields.Many2one(related="run_id.company_id", store=True)
    event_id = fields.Many2one("nordic.dunning.event", readonly=True, ondelete="cascade")
    move_id = fields.Many2one("account.move", "Invoice", readonly=True, ondelete="cascade")
    partner_id = fields.Many2one(related="move_id.commercial_partner_id", string="Customer")
    kind = fields.Selection(
        [("fees", "Fee booking"), ("letters", "Letter"), ("mails", "E-mail")], required=True, readonly=True
    )
    message = fields.Text(readonly=True)

    @api.model_create_multi
    def create(self, vals_list):
        self._check_product()
        return super().create(vals_list)

    def write(self, vals):
        self._check_product()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_by_product_only(self):
        self._check_product()

    def _check_product(self):
        # Failures are what the jobs saw; a manager clears them by retrying, never by editing them.
        if not is_system(self.env):
            raise AccessError(_("Sending failures are recorded by the sending jobs and cleared by a retry."))
