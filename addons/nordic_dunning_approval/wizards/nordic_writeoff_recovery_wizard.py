from odoo import api, fields, models


class NordicWriteoffRecoveryWizard(models.TransientModel):
    _name = "nordic.writeoff.recovery.wizard"
    _description = "Recovery after a write-off"

    move_id = fields.Many2one("account.move", "Invoice", required=True, readonly=True, ondelete="cascade")
    company_id = fields.Many2one(related="move_id.company_id")
    currency_id = fields.Many2one(related="move_id.company_currency_id")
    open_amount = fields.Monetary("Not recovered yet", compute="_compute_open_amount")
    amount = fields.Monetary("Amount received", required=True)
    date = fields.Date(required=True, default=fields.Date.context_today)

    @api.depends("move_id")
    def _compute_open_amount(self):
        for wizard in self:
            wizard.open_amount = (
                wizard.move_id._nordic_recoverable_amount()[1] if wizard.move_id.nordic_written_off else 0.0
            )

    def action_confirm(self):
        """Book the recovery entry and show it."""
        self.ensure_one()
        recovery = self.move_id._nordic_book_recovery(self.amount, self.date)
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": recovery.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
