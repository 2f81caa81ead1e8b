from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        """Every reconciliation passes here (register payment, bank statement, credit note, manual matching): a
        payment or credit note set against a handed-over invoice lowers the claim at the agency."""
        partials = super().create(vals_list)
        self.env["nordic.collection.case"]._queue_claim_reductions(partials)
        return partials

    def unlink(self):
        """A payment or credit note taken off the invoice again: a report the agency has not received yet is
        dropped; one it has received is flagged on the case, since the agency's claim is now too low."""
        self.env["nordic.collection.case"]._undo_claim_reductions(self)
        return super().unlink()
