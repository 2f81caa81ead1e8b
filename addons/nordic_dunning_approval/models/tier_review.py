"""The reviews of journal entries (credit notes and write-offs among them) are decided only by the product's
own approve and reject path, as the acting user, who must be allowed to decide that review.

base_tier_validation gives every internal user full access to ``tier.review`` so that its own code can
write a decision in the reviewer's name; these checks keep that access from being a way around the
approval (a review written to "approved" over RPC, with a forged approver or date)."""

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from odoo.addons.nordic_dunning.tools.system import is_system

GUARDED_MODELS = ("account.move",)
OPEN = ("waiting", "pending")
DECISIONS = ("approved", "rejected")
# What base_tier_validation's own code writes in the caller's name outside a decision (can_review is its
# display flag, recomputed by hand; the approval never trusts it).
CALLER_FIELDS = {"comment", "last_reminder_date", "status", "can_review"}


class TierReview(models.Model):
    _inherit = "tier.review"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("model") in GUARDED_MODELS:
                self._nordic_check_create(vals)
        return super().create(vals_list)

    def write(self, vals):
        guarded = self if vals.get("model") in GUARDED_MODELS else self.filtered(lambda r: r.model in GUARDED_MODELS)
        if guarded:
            guarded._nordic_check_write(vals)
            if vals.get("status") in DECISIONS:
                vals = dict(vals, reviewed_date=fields.Datetime.now())
        return super().write(vals)

    def unlink(self):
        if not is_system(self.env) and self.filtered(lambda r: r.model in GUARDED_MODELS):
            raise AccessError(_("Reviews are dropped only by restarting the validation of their document."))
        return super().unlink()

    # ------------------------------------------------------------------

    @api.model
    def _nordic_check_create(self, vals):
        """A review is requested by the product (request_validation), open and undecided."""
        if not is_system(self.env):
            raise AccessError(_("Reviews are created only by requesting the validation of their document."))
        if vals.get("status", "waiting") not in OPEN or vals.get("done_by") or vals.get("reviewed_date"):
            raise AccessError(_("A review starts open: nobody has decided it yet."))

    def _nordic_check_write(self, vals):
        """A caller may comment on a review it is to decide, and open a waiting review; a decision is written
        only by the product's approve or reject path, in the name of the acting user, who must be allowed to
        decide it (for a credit note: an eligible approver for its amount who is none of its authors)."""
        if not is_system(self.env):
            reopens = "status" in vals and (
                vals["status"] != "pending" or self.filtered(lambda r: r.status not in OPEN)
            )
            if set(vals) - CALLER_FIELDS or reopens:
                raise AccessError(_("A review's decision is made with its Approve or Reject button, by a reviewer."))
            if "comment" in vals:
                self._nordic_check_decider()
            return
        if vals.get("status") in DECISIONS:
            if vals.get("done_by") != self.env.uid:
                raise AccessError(_("A review is decided in the name of the user who decides it."))
            self._nordic_check_decider()
        elif "done_by" in vals or "reviewed_date" in vals:
            raise AccessError(_("Only a decision records who decided a review and when."))

    def _nordic_check_decider(self):
        """The acting user is a reviewer of these open reviews and may decide on their documents."""
        user = self.env.user
        for review in self:
            if review.status not in OPEN or user not in review.reviewer_ids:
                raise AccessError(_("You are not a reviewer of this open review: %s.", review.name or review.id))
            refusal = self.env[review.model].browse(review.res_id)._nordic_review_refusal(user)
            if refusal:
                raise AccessError(refusal)
