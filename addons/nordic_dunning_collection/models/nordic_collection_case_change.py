from odoo import fields, models


class NordicCollectionCaseChange(models.Model):
    """A change reported by an agency, applied once (its id is unique per agency) or quarantined."""

    _name = "nordic.collection.case.change"
    _description = "Collection agency change"
    _order = "id desc"

    agency_id = fields.Many2one("nordic.collection.agency", required=True, ondelete="cascade", index=True)
    change_id = fields.Char("Change id", index=True, help="The agency's id of the change: never applied twice.")
    case_id = fields.Many2one("nordic.collection.case", ondelete="set null", index="btree_not_null")
    company_id = fields.Many2one(related="case_id.company_id", store=True)
    type = fields.Char()
    status = fields.Char("Agency status")
    amount = fields.Float()
    currency = fields.Char()
    occurred_at = fields.Datetime()
    state = fields.Selection([("applied", "Applied"), ("quarantined", "Quarantined")], required=True, index=True)
    error = fields.Text()
    payload = fields.Json(help="The change as the agency sent it.")
    payment_id = fields.Many2one("account.payment", readonly=True, ondelete="set null")

    _sql_constraints = [
        ("agency_change_uniq", "unique(agency_id, change_id)", "An agency change is recorded only once."),
    ]
