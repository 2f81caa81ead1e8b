from odoo import fields, models


class NordicDunningPolicy(models.Model):
    _inherit = "nordic.dunning.policy"

    payment_journal_ids = fields.Many2many(
        "account.journal",
        "nordic_dunning_policy_payment_journal_rel",
        "policy_id",
        "journal_id",
        string="Payment files required",
        domain=[("type", "=", "bank")],
        check_company=True,
        help="Bank journals whose payment files must be imported up to the previous bank day before a run of "
        "this policy goes out; a run without them is held for a manager, so nobody is reminded of what was "
        "paid yesterday.",
    )
