from odoo import fields, models


class NordicCollectionCaseHistory(models.Model):
    """One state change of a collection case: when, from what, to what, and who or what caused it."""

    _name = "nordic.collection.case.history"
    _inherit = ["nordic.collection.system.record"]
    _description = "Collection case status history"
    _order = "date desc, id desc"

    case_id = fields.Many2one("nordic.collection.case", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="case_id.company_id", store=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    old_state = fields.Char("From")
    new_state = fields.Char("To", required=True)
    agency_status = fields.Char(help="The status the agency reported, when the change came from the agency.")
    source = fields.Selection(
        [("odoo", "Odoo"), ("agency", "Agency"), ("sidecar", "Sidecar")], default="odoo", required=True
    )
    note = fields.Char()
    user_id = fields.Many2one("res.users", default=lambda self: self.env.uid)
