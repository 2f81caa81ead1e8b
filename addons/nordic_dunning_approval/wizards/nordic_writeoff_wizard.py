from odoo import _, api, fields, models
from odoo.exceptions import UserError


class NordicWriteoffWizard(models.TransientModel):
    _name = "nordic.writeoff.wizard"
    _description = "Write off a confirmed customer loss"

    move_id = fields.Many2one("account.move", "Invoice", required=True, readonly=True, ondelete="cascade")
    company_id = fields.Many2one(related="move_id.company_id")
    currency_id = fields.Many2one(related="move_id.currency_id")
    partner_id = fields.Many2one(related="move_id.partner_id", string="Patient")
    amount_residual = fields.Monetary(related="move_id.amount_residual", string="Amount to write off")
    date = fields.Date(required=True, default=fields.Date.context_today)
    reason = fields.Char(required=True, help="E.g. the agency's report that collection failed.")
    vat_relief = fields.Boolean(
        "Reverse output VAT",
        compute="_compute_vat_relief",
        store=True,
        readonly=False,
        help="The loss is confirmed (not merely feared or disputed): the VAT share is corrected.",
    )
    blockers = fields.Char("Not a confirmed loss", compute="_compute_blockers")
    is_cfo = fields.Boolean(compute="_compute_blockers")
    override_reason = fields.Char("CFO override reason")

    @api.depends("move_id")
    def _compute_vat_relief(self):
        for wizard in self:
            wizard.vat_relief = wizard.move_id.company_id.nordic_writeoff_vat_relief

    @api.depends("move_id")
    def _compute_blockers(self):
        is_cfo = self.env.user.has_group("nordic_dunning_approval.group_nordic_cfo")
        for wizard in self:
            wizard.blockers = "; ".join(wizard.move_id._nordic_writeoff_blockers()) if wizard.move_id else False
            wizard.is_cfo = is_cfo

    def action_confirm(self):
        """Propose the write-off entry; it is posted once approved."""
        self.ensure_one()
        if self.blockers and not self.override_reason:
            raise UserError(_("%(move)s is no confirmed loss: %(why)s.", move=self.move_id.name, why=self.blockers))
        entry = self.move_id._nordic_create_writeoff(
            self.reason,
            date=self.date,
            override_reason=self.blockers and self.override_reason,
            vat_relief=self.vat_relief,
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "account.move",
            "res_id": entry.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
