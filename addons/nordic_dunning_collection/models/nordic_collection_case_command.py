from odoo import fields, models


class NordicCollectionCaseCommand(models.Model):
    """An instruction to the agency about one case, queued in Odoo and carried out by the sidecar."""

    _name = "nordic.collection.case.command"
    _inherit = ["nordic.collection.system.record"]
    _description = "Collection agency command"
    _order = "id"

    case_id = fields.Many2one("nordic.collection.case", required=True, ondelete="cascade", index=True)
    agency_id = fields.Many2one(related="case_id.agency_id", store=True, index=True)
    company_id = fields.Many2one(related="case_id.company_id", store=True)
    action = fields.Selection(
        [
            ("pause", "Pause"),
            ("resume", "Resume"),
            ("withdraw", "Withdraw"),
            ("dispute_answer", "Answer a dispute"),
            ("creditor_payment", "Report a payment made to us"),
        ],
        required=True,
    )
    data = fields.Json()
    reason = fields.Char()
    state = fields.Selection(
        [("pending", "Pending"), ("done", "Done"), ("failed", "Failed")], default="pending", required=True, index=True
    )
    partial_id = fields.Many2one(
        "account.partial.reconcile",
        "Reconciliation reported",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The payment or credit note set against the invoice that this command reports to the agency.",
    )
    attempts = fields.Integer(readonly=True)
    error = fields.Text(readonly=True)
    done_date = fields.Datetime(readonly=True)
    user_id = fields.Many2one("res.users", "Requested by", default=lambda self: self.env.uid, readonly=True)

    # A reconciliation is reported to the agency once, whoever reconciles and however often the hook runs.
    _sql_constraints = [("partial_uniq", "unique(partial_id)", "A reconciliation is reported to the agency only once.")]
