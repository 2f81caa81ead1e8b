"""One payment of a bank's file: its raw record, its reference, what it matched and how it was booked."""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.nordic_dunning.tools.system import as_system, is_system

LINE_STATES = [
    ("matched", "Matched"),
    ("overpaid", "Overpaid"),
    ("unmatched", "Unmatched"),
    ("bad_check_digit", "Bad check digit"),
    ("handled", "Handled by hand"),
]
TO_CHECK = ("unmatched", "bad_check_digit")


class NordicPaymentImportLine(models.Model):
    _name = "nordic.payment.import.line"
    _description = "Payment file line"
    _order = "import_id desc, sequence, id"
    _check_company_auto = True

    import_id = fields.Many2one("nordic.payment.import", "Payment file", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="import_id.company_id", store=True, index=True)
    journal_id = fields.Many2one(related="import_id.journal_id")
    sequence = fields.Integer("Line", help="The line of the file where the payment starts.")
    date = fields.Date()
    amount = fields.Monetary()
    currency_id = fields.Many2one("res.currency", required=True)
    reference = fields.Char(index="btree_not_null")
    extra_references = fields.Char()
    payer_name = fields.Char()
    payer_org_no = fields.Char("Payer's organisation number")
    raw_line = fields.Text("Raw record")
    state = fields.Selection(LINE_STATES, required=True, index=True)
    match_method = fields.Selection([("reference", "Reference"), ("amount", "Amount and customer")])
    partner_id = fields.Many2one("res.partner", "Customer", index="btree_not_null")
    move_ids = fields.Many2many("account.move", string="Invoices")
    move_line_ids = fields.One2many("account.move.line", "nordic_payment_line_id", "Booked", readonly=True)
    message = fields.Char()
    handled_user_id = fields.Many2one("res.users", "Handled by", readonly=True)
    note = fields.Char(help="What the person who handled the payment did with it.")

    @api.model_create_multi
    def create(self, vals_list):
        self._check_system()
        return super().create(vals_list)

    def write(self, vals):
        if set(vals) - {"note"}:
            self._check_system()
        return super().write(vals)

    def unlink(self):
        if not is_system(self.env):
            raise UserError(_("The lines of a payment file are kept with the file."))
        return super().unlink()

    def _check_system(self):
        if not is_system(self.env):
            raise AccessError(_("%s: only the import of a payment file writes these records.") % self._description)

    def action_mark_handled(self):
        """A person dealt with payments the import could not match (registered them by hand, or returned them)."""
        self.check_access("write")
        if any(line.state not in TO_CHECK for line in self):
            raise UserError(_("Only unmatched payments and payments with a bad check digit are handled by hand."))
        as_system(self).write({"state": "handled", "handled_user_id": self.env.uid})
        for file in self.import_id:
            if not file.line_ids.filtered(lambda line: line.state in TO_CHECK):
                as_system(file).write({"state": "done", "to_check_count": 0})
        return True
