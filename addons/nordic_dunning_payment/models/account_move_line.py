from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    nordic_payment_line_id = fields.Many2one(
        "nordic.payment.import.line",
        "Payment file line",
        readonly=True,
        index="btree_not_null",
        copy=False,
        help="The line of the bank's payment file this receivable credit books.",
    )
