"""What only the product writes on a collection case, and for which invoices a case may exist at all.

A case is the creditor's claim at the agency: its identity (the idempotency key), its amounts, its state and
what the agency reported are evidence and money. Any caller of the ORM (RPC with any context) is refused
these; the product's own paths (the hand-over of a dunning run, the sidecar API, the buttons after their own
checks) write them through :func:`~odoo.addons.nordic_dunning.tools.system.as_system`.
"""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import float_compare

from odoo.addons.nordic_dunning.tools.system import check_system_fields, is_system

# Identity, amounts, state, the agency's reports and the sync bookkeeping: the product's alone.
SYSTEM_FIELDS = (
    "name",
    "uuid",
    "move_id",
    "event_id",
    "company_id",
    "partner_id",
    "currency_id",
    "state",
    "agency_status",
    "external_id",
    "ocr",
    "amount_principal",
    "amount_fees",
    "amount_interest",
    "agency_fees",
    "agency_interest",
    "amount_paid",
    "amount_remaining",
    "recovery_rate",
    "amount_excess",
    "excess_review",
    "payment_ids",
    "dispute_at_agency",
    "dispute_reply_by",
    "dispute_reminded",
    "dispute_answer",
    "claimed_by",
    "claimed_at",
    "submitted_date",
    "closed_date",
    "handling_days",
    "last_sync",
    "last_error",
    "history_ids",
    "change_ids",
    "command_ids",
)
# What a Dunning user may still correct while the agency has not received the case: it is sent as written.
BEFORE_SUBMISSION_FIELDS = (
    "agency_id",
    "debtor_name",
    "debtor_is_company",
    "debtor_street",
    "debtor_zip",
    "debtor_city",
    "debtor_country_id",
    "debtor_phone",
    "debtor_email",
    "debtor_id_number",
    "disputed",
    "dispute_text",
)


# The guards are split from the case's fields to keep each file short.
# pylint: disable=consider-merging-classes-inherited
class NordicCollectionCase(models.Model):
    _inherit = "nordic.collection.case"

    @api.model_create_multi
    def create(self, vals_list):
        if not is_system(self.env):
            raise AccessError(_("Collection cases are opened by the hand-over level of a dunning run, never by hand."))
        if any(not vals.get("move_id") for vals in vals_list):
            raise UserError(_("A collection case needs its invoice."))
        self._check_owed(self.env["account.move"].browse({vals["move_id"] for vals in vals_list}))
        return super().create(vals_list)

    def write(self, vals):
        if not is_system(self.env):
            self.check_access("write")  # who may write at all comes first (access rights)
            check_system_fields(self, vals, SYSTEM_FIELDS)
            late = sorted(set(vals) & set(BEFORE_SUBMISSION_FIELDS))
            if late and any(case.external_id or case.state not in ("to_submit", "paused") for case in self):
                raise AccessError(
                    _(
                        "The agency has this case already: %(fields)s can no longer be changed here.",
                        fields=", ".join(late),
                    )
                )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_unsent(self):
        """A case the agency knows is evidence of a collection measure: it is withdrawn, never deleted."""
        if any(case.external_id or case.state not in ("to_submit", "cancelled") for case in self):
            raise UserError(_("Only a case the agency never received can be deleted; withdraw the others."))

    @api.model
    def _check_owed(self, moves):
        """Seed 000 and the law: a claim goes to collection only for a posted customer invoice with an open,
        undisputed amount, sent to the customer and demanded by at least one dunning measure, not on hold.
        Checked for every creator of a case, the product included."""
        moves = moves.sudo()
        demanded = {
            move.id
            for [move] in self.env["nordic.dunning.event"]
            .sudo()
            ._read_group([("move_id", "in", moves.ids), ("state", "=", "done")], ["move_id"])
        }
        today = fields.Date.context_today(self)
        problems = []
        for move in moves:
            partner = move.commercial_partner_id
            undisputed = move.amount_residual - move.nordic_disputed_amount
            if move.move_type != "out_invoice" or move.state != "posted":
                problems.append(_("%s is not a posted customer invoice", move.display_name))
            elif float_compare(undisputed, 0.0, precision_rounding=move.currency_id.rounding) <= 0:
                problems.append(_("%s has no open undisputed amount", move.name))
            elif not move.nordic_is_sent:
                problems.append(_("%s has no proof of sending", move.name))
            elif move.id not in demanded:
                problems.append(_("%s was never demanded by a dunning measure", move.name))
            elif move.nordic_dunning_excluded or partner.nordic_dunning_excluded:
                problems.append(_("%s or its customer is excluded from dunning", move.name))
            elif move.nordic_dunning_hold_until and move.nordic_dunning_hold_until >= today:
                problems.append(_("%s is on hold", move.name))
        if problems:
            raise UserError(_("No collection case for these invoices:\n%s", "\n".join(problems)))
