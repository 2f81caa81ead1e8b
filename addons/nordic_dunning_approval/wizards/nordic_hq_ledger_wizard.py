from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError


class NordicHqLedgerWizard(models.TransientModel):
    _name = "nordic.hq.ledger.wizard"
    _description = "Receivables ledger for head office"

    company_ids = fields.Many2many(
        "res.company", string="Clinics", required=True, default=lambda self: self.env.companies
    )
    date = fields.Date("At", required=True, default=fields.Date.context_today)
    attachment_id = fields.Many2one("ir.attachment", readonly=True)

    def _check_companies(self):
        """The ledger of a clinic is for its own users: a company outside the user's is refused."""
        foreign = self.company_ids - self.env.user.company_ids
        if foreign:
            raise AccessError(_("You may only report on the clinics you have access to."))

    def action_download(self):
        """The aged receivables of the chosen clinics as one XLSX."""
        self.ensure_one()
        self._check_companies()
        self.attachment_id = self.company_ids._nordic_hq_ledger_attachment(self.date)
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "self",
        }

    def action_send(self):
        """Mail each chosen clinic's ledger to its head-office address now."""
        self.ensure_one()
        self._check_companies()
        missing = self.company_ids.filtered(lambda c: not c._nordic_get_hq_email())
        if missing:
            raise UserError(_("No head-office e-mail for: %s", ", ".join(missing.mapped("name"))))
        for company in self.company_ids:
            company._nordic_send_hq_ledger(self.date)
        return {"type": "ir.actions.act_window_close"}
