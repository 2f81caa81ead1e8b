"""Dunning holds of a handed-over invoice reach its collection agency (seed 004: a dispute after hand-over is
notified at once so the case stops)."""

from odoo import _, models

# Fields of an invoice or customer whose change may hold or release collection.
HOLD_FIELDS = ("nordic_dunning_excluded",)


# The invoice's extension is split by concern (cases and evidence, holds at the agency) to keep each file short.
# pylint: disable=consider-merging-classes-inherited
class AccountMove(models.Model):
    _inherit = "account.move"

    def write(self, vals):
        result = super().write(vals)
        if any(name in vals for name in HOLD_FIELDS):
            self.env["nordic.collection.case"]._sync_agency_holds(self)
        return result

    def _nordic_agency_hold(self):
        """(held, reason): must the agency stop collecting this invoice, and why (or why it may go on)."""
        self.ensure_one()
        if self.nordic_dispute_open:
            return True, _("The debtor disputes the invoice: %s", self._nordic_dispute_info()[1])
        if self.nordic_dunning_excluded:
            return True, _("The invoice is held from dunning: %s", self.nordic_dunning_exclude_reason or "-")
        partner = self.commercial_partner_id
        if partner.nordic_dunning_excluded:
            return True, _("The customer is held from dunning: %s", partner.nordic_dunning_exclude_reason or "-")
        return False, _("The dispute is closed and no hold remains: collection may go on.")
