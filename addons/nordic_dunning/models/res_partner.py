from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResPartner(models.Model):
    _inherit = "res.partner"

    nordic_dunning_excluded = fields.Boolean(
        "Excluded from dunning", tracking=True, help="No reminder, fee or hand-over for this customer's invoices."
    )
    nordic_dunning_exclude_reason = fields.Char("Exclusion reason", tracking=True)
    nordic_dunning_hold_until = fields.Date(
        "Held until", tracking=True, help="The exclusion is lifted automatically after this date."
    )
    nordic_fee_agreed = fields.Boolean(
        "Reminder fee agreed",
        tracking=True,
        help="The customer agreed to pay reminder fees. In Sweden a reminder fee may only be charged "
        "when agreed no later than when the debt arose (lag (1981:739) 2 §).",
    )
    nordic_fee_agreed_date = fields.Date("Fee agreed on", tracking=True)

    @api.constrains("nordic_fee_agreed", "nordic_fee_agreed_date")
    def _check_fee_agreement(self):
        for partner in self:
            if partner.nordic_fee_agreed and not partner.nordic_fee_agreed_date:
                raise ValidationError(_("Give the date on which %s agreed to reminder fees.", partner.display_name))

    @api.model
    def _commercial_fields(self):
        return super()._commercial_fields() + [
            "nordic_dunning_excluded",
            "nordic_dunning_exclude_reason",
            "nordic_dunning_hold_until",
            "nordic_fee_agreed",
            "nordic_fee_agreed_date",
        ]
