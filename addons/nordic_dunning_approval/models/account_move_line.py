"""Changing the lines of a draft credit note or write-off makes the user one of its authors and starts its
approval again, on whichever path the lines are changed (the move's form, or the lines written directly)."""

from odoo import api, models

# Line fields that make the amount of the document.
LINE_AMOUNT_FIELDS = {
    "price_unit",
    "quantity",
    "discount",
    "tax_ids",
    "balance",
    "amount_currency",
    "debit",
    "credit",
    "currency_id",
    "account_id",
    "display_type",
    "move_id",
}


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.move_id._nordic_lines_edited()
        return lines

    def write(self, vals):
        moves = self.move_id if LINE_AMOUNT_FIELDS & set(vals) else self.env["account.move"]
        result = super().write(vals)
        (moves | self.move_id if "move_id" in vals else moves)._nordic_lines_edited()
        return result

    def unlink(self):
        moves = self.move_id
        result = super().unlink()
        moves._nordic_lines_edited()
        return result
