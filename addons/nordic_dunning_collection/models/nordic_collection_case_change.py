from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.nordic_dunning.tools.system import as_system

from .nordic_collection_case import AGENCY_STATES, STATES


class NordicCollectionCaseChange(models.Model):
    """A change reported by an agency, applied once (its id is unique per agency) or quarantined."""

    _name = "nordic.collection.case.change"
    _inherit = ["nordic.collection.system.record"]
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
    amount_excess = fields.Float(
        "Held above the claim", readonly=True, help="Part of a payment above the case's open claim, held for review."
    )
    currency = fields.Char()
    occurred_at = fields.Datetime()
    state = fields.Selection(
        [("applied", "Applied"), ("quarantined", "Quarantined"), ("dismissed", "Dismissed")],
        required=True,
        index=True,
    )
    error = fields.Text()
    payload = fields.Json(help="The change as the sidecar reported it, with the agency's details.")
    payment_id = fields.Many2one("account.payment", readonly=True, ondelete="set null")
    resolved_uid = fields.Many2one("res.users", "Re-applied or dismissed by", readonly=True)
    resolved_date = fields.Datetime("Re-applied or dismissed on", readonly=True)

    _sql_constraints = [
        ("agency_change_uniq", "unique(agency_id, change_id)", "An agency change is recorded only once."),
    ]

    def _check_resolver(self):
        """Quarantined changes are money or evidence someone must decide on: a Dunning manager does."""
        if not (self.env.su or self.env.user.has_group("nordic_dunning.group_nordic_dunning_manager")):
            raise AccessError(_("Only a Dunning manager can re-apply or dismiss quarantined changes."))
        self.check_access("read")
        if any(change.state != "quarantined" for change in self):
            raise UserError(_("Only quarantined changes can be re-applied or dismissed."))
        return as_system(self.sudo())

    def action_reapply(self):
        """Apply quarantined changes again (after their case or the agency's configuration was fixed)."""
        changes = self._check_resolver()
        problems = changes.env["nordic.collection.case"]._sidecar_reapply(changes)
        changes.filtered(lambda c: c.state == "applied").write(
            {"resolved_uid": self.env.uid, "resolved_date": fields.Datetime.now()}
        )
        if problems:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "warning",
                    "sticky": True,
                    "message": _("Still quarantined:\n%s", "\n".join(f"{cid}: {error}" for cid, error in problems)),
                },
            }
        return True

    def action_dismiss(self):
        """Dismiss quarantined changes: never applied, kept as evidence with who dismissed them and when."""
        self._check_resolver().write(
            {"state": "dismissed", "resolved_uid": self.env.uid, "resolved_date": fields.Datetime.now()}
        )
        return True
