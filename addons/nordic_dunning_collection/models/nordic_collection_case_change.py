from odoo import fields, models

from .nordic_collection_case import AGENCY_STATES, STATES


class NordicCollectionCaseChange(models.Model):
    """A change reported by an agency, applied once (its id is unique per agency) or quarantined."""

    _name = "nordic.collection.case.change"
    _description = "Collection agency change"
    _order = "id desc"

    agency_id = fields.Many2one("nordic.collection.agency", required=True, ondelete="cascade", index=True)
    change_id = fields.Char("Change id", index=True, help="The agency's id of the change: never applied twice.")
    case_id = fields.Many2one("nordic.collection.case", ondelete="set null", index="btree_not_null")
    company_id = fields.Many2one(related="case_id.company_id", store=True)
    type = fields.Char(help="What changed: state, payment, fee, interest or dispute.")
    case_state = fields.Selection(
        [(state, label) for state, label in STATES if state in AGENCY_STATES],
        "Case state",
        help="The state the change puts the case in (state and dispute changes).",
    )
    status = fields.Char("Agency status", help="The agency's own word for the status, as it reported it.")
    amount = fields.Float()
    currency = fields.Char()
    occurred_at = fields.Datetime()
    state = fields.Selection([("applied", "Applied"), ("quarantined", "Quarantined")], required=True, index=True)
    error = fields.Text()
    payload = fields.Json(help="The change as the sidecar reported it, with the agency's details.")
    payment_id = fields.Many2one("account.payment", readonly=True, ondelete="set null")

    _sql_constraints = [
        ("agency_change_uniq", "unique(agency_id, change_id)", "An agency change is recorded only once."),
    ]
