"""Approval of customer credit notes and write-offs (OCA tier validation) and head-office notices."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

APPROVER_GROUPS = ("nordic_dunning.group_nordic_cfo", "nordic_dunning.group_nordic_ceo")


class AccountMove(models.Model):
    _inherit = "account.move"

    nordic_approval_kind = fields.Selection(
        [("credit_note", "Credit note"), ("write_off", "Write-off")],
        string="Approval kind",
        compute="_compute_nordic_approval_kind",
        store=True,
        help="Credit notes and write-offs of confirmed losses need an approval before posting.",
    )
    nordic_credit_amount_company = fields.Monetary(
        "Amount to approve",
        currency_field="company_currency_id",
        compute="_compute_nordic_credit_amount_company",
        store=True,
        help="Credit note total or written-off amount in the company currency, converted at the document's date.",
    )
    nordic_over_threshold = fields.Boolean(
        "Above approval threshold",
        compute="_compute_nordic_over_threshold",
        store=True,
        help="Above the company's threshold only the CFO or the CEO may approve.",
    )
    nordic_clinic_approver_ids = fields.Many2many(
        "res.users",
        string="Clinic approvers",
        compute="_compute_nordic_approver_ids",
        help="Managers of this clinic, plus CFO and CEO; never the document's creator.",
    )
    nordic_executive_approver_ids = fields.Many2many(
        "res.users",
        string="Executive approvers",
        compute="_compute_nordic_approver_ids",
        help="CFO and CEO with access to this company; never the document's creator.",
    )

    @api.depends("move_type", "nordic_writeoff_invoice_id")
    def _compute_nordic_approval_kind(self):
        for move in self:
            if move.move_type == "out_refund":
                move.nordic_approval_kind = "credit_note"
            elif move.nordic_writeoff_invoice_id:
                move.nordic_approval_kind = "write_off"
            else:
                move.nordic_approval_kind = False

    @api.depends("nordic_approval_kind", "amount_total", "currency_id", "invoice_date", "date", "line_ids.debit")
    def _compute_nordic_credit_amount_company(self):
        for move in self:
            if move.nordic_approval_kind == "credit_note":
                move.nordic_credit_amount_company = move.currency_id._convert(
                    move.amount_total,
                    move.company_currency_id,
                    move.company_id,
                    move.invoice_date or move.date or fields.Date.context_today(move),
                )
            elif move.nordic_approval_kind == "write_off":
                move.nordic_credit_amount_company = sum(move.line_ids.mapped("debit"))
            else:
                move.nordic_credit_amount_company = 0.0

    @api.depends("nordic_credit_amount_company", "company_id.nordic_credit_threshold")
    def _compute_nordic_over_threshold(self):
        for move in self:
            move.nordic_over_threshold = bool(move.nordic_approval_kind) and (
                move.company_currency_id.compare_amounts(
                    move.nordic_credit_amount_company, move.company_id.nordic_credit_threshold
                )
                > 0
            )

    @api.depends("company_id", "create_uid")
    def _compute_nordic_approver_ids(self):
        executives = self.env["res.users"].sudo()
        for xmlid in APPROVER_GROUPS:
            executives |= self.env.ref(xmlid).sudo().users
        for move in self:
            creator = move.create_uid or self.env.user
            company_executives = executives.filtered(lambda u, c=move.company_id: c in u.company_ids) - creator
            managers = move.company_id.sudo().nordic_clinic_manager_ids.filtered(
                lambda u: u.has_group("nordic_dunning.group_nordic_clinic_manager")
            )
            move.nordic_executive_approver_ids = company_executives
            move.nordic_clinic_approver_ids = (managers - creator) | company_executives

    # ------------------------------------------------------------------
    # Tier validation: nobody approves what they created, only reviewers act
    # ------------------------------------------------------------------

    def _nordic_check_can_review(self):
        """Refuse, with a reason, a review by the creator or by a user who is no reviewer of a pending tier."""
        for move in self.filtered("nordic_approval_kind"):
            if move.create_uid == self.env.user:
                raise UserError(_("You created %(move)s: another person must approve it.", move=move.display_name))
            pending = move.review_ids.filtered(lambda r: r.status in ("waiting", "pending"))
            if pending and not pending.filtered(lambda r: self.env.user in r.reviewer_ids):
                raise UserError(
                    _(
                        "You may not approve or reject %(move)s (%(amount)s): it is for %(todo)s.",
                        move=move.display_name,
                        amount=move.company_currency_id.format(move.nordic_credit_amount_company),
                        todo=", ".join(pending.mapped("todo_by")),
                    )
                )

    def validate_tier(self):
        self._nordic_check_can_review()
        return super().validate_tier()

    def reject_tier(self):
        self._nordic_check_can_review()
        return super().reject_tier()

    def _validate_tier(self, tiers=False):
        """Approve only with a comment, and never by the creator.

        base_tier_validation also approves on the way when a reviewer posts: for credit notes and
        write-offs that silent approval is skipped, so every approval goes through the comment wizard.
        """
        if self.nordic_approval_kind:
            if self.create_uid == self.env.user:
                return None
            tiers = (tiers or self.review_ids).filtered("comment")
            if not tiers:
                return None
        return super()._validate_tier(tiers)

    # ------------------------------------------------------------------
    # Head-office notice
    # ------------------------------------------------------------------

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted.filtered(lambda m: m.nordic_approval_kind == "credit_note")._nordic_notify_hq()
        return posted

    def _nordic_notify_hq(self):
        """Queue one e-mail per posted credit note or write-off to the clinic's head-office address."""
        template = self.env.ref("nordic_dunning.mail_template_nordic_hq_credit", raise_if_not_found=False)
        if not template:
            return
        for move in self:
            email = move.company_id._nordic_get_hq_email()
            if email:
                template.sudo().send_mail(move.id, email_values={"email_to": email})
