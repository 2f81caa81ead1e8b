"""Customer credit notes and write-offs of confirmed losses are posted only after an approval (OCA tier
validation): up to the company threshold by a manager of the clinic, above it by the CFO or the CEO, and never
by one of the document's authors (its creator and everyone who changed its lines). The rule is checked where
the document is posted, whoever posts it and with whatever context."""

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.nordic_dunning.tools.system import as_system, check_system_fields

APPROVER_GROUPS = ("nordic_dunning_approval.group_nordic_cfo", "nordic_dunning_approval.group_nordic_ceo")
CLINIC_MANAGER_GROUP = "nordic_dunning_approval.group_nordic_clinic_manager"
# Who wrote the document and what amount was approved: recorded by the product, never by a caller.
APPROVAL_SYSTEM_FIELDS = ("nordic_author_ids", "nordic_approved_amount")
# Fields of a move that may change what was approved: the amount (the lines themselves are watched on the
# lines), the customer credited, the invoice credited and the clinic.
MOVE_APPROVED_FIELDS = (
    "line_ids",
    "invoice_line_ids",
    "currency_id",
    "invoice_date",
    "date",
    "move_type",
    "partner_id",
    "reversed_entry_id",
    "company_id",
)


# account.move is extended by concern, one file each (approval here; write-off and recovery in account_move.py),
# to keep every file short.
# pylint: disable=consider-merging-classes-inherited
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
    nordic_credit_cumulative_company = fields.Monetary(
        "Credited on the invoice",
        currency_field="company_currency_id",
        compute="_compute_nordic_credit_cumulative_company",
        store=True,
        help="This credit note and the posted credit notes of the same invoice together: a credit split in "
        "several notes is approved at the level of its total.",
    )
    nordic_over_threshold = fields.Boolean(
        "Above approval threshold",
        compute="_compute_nordic_over_threshold",
        store=True,
        help="Above the company's threshold only the CFO or the CEO may approve.",
    )
    nordic_author_ids = fields.Many2many(
        "res.users",
        "account_move_nordic_author_rel",
        "move_id",
        "user_id",
        string="Authors",
        readonly=True,
        copy=False,
        help="Who created the document or changed its lines: none of them may approve it.",
    )
    nordic_approved_amount = fields.Monetary(
        "Approved amount",
        currency_field="company_currency_id",
        readonly=True,
        copy=False,
        help="The amount the approvers approved; a document whose amount differs is approved again.",
    )
    nordic_clinic_approver_ids = fields.Many2many(
        "res.users",
        string="Clinic approvers",
        compute="_compute_nordic_approver_ids",
        help="Managers of this clinic, plus CFO and CEO; never one of the document's authors.",
    )
    nordic_executive_approver_ids = fields.Many2many(
        "res.users",
        string="Executive approvers",
        compute="_compute_nordic_approver_ids",
        help="CFO and CEO with access to this company; never one of the document's authors.",
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

    @api.depends(
        "nordic_credit_amount_company",
        "reversed_entry_id.reversal_move_ids.state",
        "reversed_entry_id.reversal_move_ids.nordic_credit_amount_company",
    )
    def _compute_nordic_credit_cumulative_company(self):
        for move in self:
            amount = move.nordic_credit_amount_company
            if move.nordic_approval_kind == "credit_note" and move.reversed_entry_id:
                # Every posted credit of the invoice counts, also those the user may not read.
                others = move.reversed_entry_id.sudo().reversal_move_ids.filtered(
                    lambda m, own=move: m.state == "posted" and m.move_type == "out_refund" and m.id != own.id
                )
                amount += sum(others.mapped("nordic_credit_amount_company"))
            move.nordic_credit_cumulative_company = amount

    @api.depends("nordic_credit_cumulative_company", "company_id.nordic_credit_threshold")
    def _compute_nordic_over_threshold(self):
        for move in self:
            move.nordic_over_threshold = bool(move.nordic_approval_kind) and (
                move.company_currency_id.compare_amounts(
                    move.nordic_credit_cumulative_company, move.company_id.nordic_credit_threshold
                )
                > 0
            )

    @api.depends("company_id", "create_uid", "nordic_author_ids")
    def _compute_nordic_approver_ids(self):
        executives = self.env["res.users"].sudo()
        for xmlid in APPROVER_GROUPS:
            executives |= self.env.ref(xmlid).sudo().users
        for move in self:
            authors = move._nordic_authors()
            company_executives = executives.filtered(lambda u, c=move.company_id: c in u.company_ids) - authors
            managers = move.company_id.sudo().nordic_clinic_manager_ids.filtered(
                lambda u: u.has_group(CLINIC_MANAGER_GROUP)
            )
            move.nordic_executive_approver_ids = company_executives
            move.nordic_clinic_approver_ids = (managers - authors) | company_executives

    def _nordic_authors(self):
        """Who wrote this document: its creator and everyone who changed its lines (the current user for a
        document being created)."""
        self.ensure_one()
        return (self.create_uid or self.env.user) | self.sudo().nordic_author_ids

    def _nordic_eligible_approvers(self):
        """Who may approve this document now: for its (cumulative) amount, and none of its authors."""
        self.ensure_one()
        if self.nordic_over_threshold:
            return self.nordic_executive_approver_ids
        return self.nordic_clinic_approver_ids

    # ------------------------------------------------------------------
    # Authors and amount changes
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_system_fields(self, vals, APPROVAL_SYSTEM_FIELDS)
        moves = super().create(vals_list)
        moves._nordic_record_author()
        return moves

    def write(self, vals):
        check_system_fields(self, vals, APPROVAL_SYSTEM_FIELDS)
        if vals.get("state") == "posted":
            self._nordic_check_may_post()
        watched = self.browse()
        if set(vals) & set(MOVE_APPROVED_FIELDS):
            watched = self.filtered(lambda m: m.state == "draft" and m.nordic_approval_kind)
        before = {move.id: move._nordic_approved_terms() for move in watched}
        result = super().write(vals)
        watched.filtered(lambda m: before[m.id] != m._nordic_approved_terms())._nordic_lines_edited()
        return result

    def _nordic_approved_terms(self):
        """What an approval of this move approves: the amount (rounded), the customer, the invoice, the clinic."""
        self.ensure_one()
        return (
            self.company_currency_id.round(self.nordic_credit_amount_company),
            self.commercial_partner_id.id,
            self.reversed_entry_id.id,
            self.company_id.id,
        )

    def _nordic_record_author(self):
        """The acting user becomes an author of these credit notes and write-offs (once)."""
        uid = self.env.uid
        new = self.filtered(lambda m: m.nordic_approval_kind and uid not in m.sudo().nordic_author_ids.ids)
        if new:
            as_system(new).write({"nordic_author_ids": [Command.link(uid)]})

    def _nordic_lines_edited(self):
        """The lines, the amount or the customer of these draft moves changed: the acting user becomes an author,
        and an approval given or requested before no longer holds, so it starts again."""
        drafts = self.exists().filtered(lambda m: m.state == "draft" and m.nordic_approval_kind)
        if not drafts:
            return
        drafts._nordic_record_author()
        reviewed = drafts.filtered("review_ids")
        if reviewed:
            reviewed.restart_validation()
            for move in reviewed:
                move.message_post(
                    body=_(
                        "%(user)s changed what was to be approved: the approval starts again.", user=self.env.user.name
                    ),
                    message_type="comment",
                    subtype_xmlid="mail.mt_note",
                )

    def _get_under_validation_exceptions(self):
        # The product records authors and the approved amount while a review runs (callers cannot: write()).
        return super()._get_under_validation_exceptions() + list(APPROVAL_SYSTEM_FIELDS)

    # ------------------------------------------------------------------
    # The posting gate
    # ------------------------------------------------------------------

    def _nordic_approval_blockers(self):
        """{move id: reason} for those of these draft credit notes and write-offs that may not be posted: not
        approved, approved for another amount, or approved by someone who may not approve it (now)."""
        blockers = {}
        for move in self.filtered(lambda m: m.state == "draft" and m.nordic_approval_kind):
            reviews = move.sudo().review_ids
            if not reviews or any(review.status != "approved" for review in reviews):
                blockers[move.id] = _("it is not approved")
            elif move.company_currency_id.compare_amounts(
                move.nordic_approved_amount, move.nordic_credit_amount_company
            ):
                blockers[move.id] = _(
                    "%(approved)s was approved, it is now %(amount)s",
                    approved=move.company_currency_id.format(move.nordic_approved_amount),
                    amount=move.company_currency_id.format(move.nordic_credit_amount_company),
                )
            else:
                invalid = reviews.done_by - move._nordic_eligible_approvers()
                if invalid:
                    blockers[move.id] = _(
                        "%(who)s may not approve it (an author, or not allowed for %(amount)s)",
                        who=", ".join(invalid.mapped("name")),
                        amount=move.company_currency_id.format(move.nordic_credit_cumulative_company),
                    )
        return blockers

    def _nordic_check_may_post(self):
        """Refuse to post a credit note or write-off that is not validly approved."""
        blockers = self._nordic_approval_blockers()
        if blockers:
            moves = self.browse(list(blockers))
            raise ValidationError(
                _(
                    "%(moves)s cannot be posted: %(why)s.",
                    moves=", ".join(moves.mapped("display_name")),
                    why="; ".join(blockers.values()),
                )
            )

    def _post(self, soft=True):
        """Post what may be posted; a credit note or write-off still waiting for a valid approval stays in draft
        with the approval requested, whichever flow posts it (a button, Odoo's reversal wizard, a script)."""
        held = self.browse(list(self._nordic_approval_blockers()))
        held._nordic_hold_for_approval()
        posted = super(AccountMove, self - held)._post(soft=soft) if self - held else self.browse()
        posted.filtered(lambda m: m.nordic_approval_kind == "credit_note")._nordic_notify_hq()
        posted.filtered("nordic_writeoff_invoice_id")._nordic_settle_writeoff()
        return posted

    def action_post(self):
        held = self.browse(list(self._nordic_approval_blockers()))
        result = super().action_post()
        if held and len(self) == 1:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {"type": "warning", "sticky": True, "message": held._nordic_approval_note()},
            }
        return result

    def _reverse_moves(self, default_values_list=None, cancel=False):
        """Odoo's "reverse" and "reverse and create a new draft" post the credit note at once and reconcile it
        with the invoice. A customer credit note needs its approval first: it is created in draft with the
        approval requested, and is reconciled with the invoice when it is posted after approval."""
        if not cancel:
            return super()._reverse_moves(default_values_list, cancel=cancel)
        default_values_list = default_values_list or [{} for _move in self]
        customer = self.filtered(lambda m: m.move_type == "out_invoice")
        pairs = list(zip(self, default_values_list))
        reversals = {}
        for group, group_cancel in ((customer, False), (self - customer, True)):
            if not group:
                continue
            values = [vals for move, vals in pairs if move in group]
            for move, reverse in zip(group, super(AccountMove, group)._reverse_moves(values, cancel=group_cancel)):
                reversals[move.id] = reverse
        held = self.browse([reversals[move.id].id for move in customer])
        held._nordic_hold_for_approval()
        return self.browse([reversals[move.id].id for move in self])

    def _nordic_hold_for_approval(self):
        """Request the approval of these draft moves and say in their chatter who must give it. An approval that
        no longer fits (given for another amount or by someone not allowed, or a tier the amount left) starts
        again."""
        stale = self.filtered(
            lambda m: (
                m.review_ids
                and (
                    m.validation_status == "validated"
                    or any(not m.evaluate_tier(review.definition_id) for review in m.review_ids)
                )
            )
        )
        as_system(stale).restart_validation()
        self.filtered(lambda m: not m.review_ids).request_validation()
        for move in self:
            move.message_post(body=move._nordic_approval_note(), message_type="comment", subtype_xmlid="mail.mt_note")

    def _nordic_approval_note(self):
        self.ensure_one()
        pending = self.review_ids.filtered(lambda r: r.status in ("waiting", "pending"))
        reviewers = self._nordic_eligible_approvers()
        return _(
            "%(move)s (%(amount)s) was not posted: it waits for the approval of %(todo)s (%(who)s).",
            move=self.display_name,
            amount=self.company_currency_id.format(self.nordic_credit_amount_company),
            todo=", ".join(pending.mapped("todo_by")) or _("a reviewer"),
            who=", ".join(reviewers.mapped("name")) or _("nobody can approve it yet: set the clinic managers"),
        )

    # ------------------------------------------------------------------
    # Tier validation: only an eligible approver who wrote nothing of it decides
    # ------------------------------------------------------------------

    def _nordic_review_refusal(self, user):
        """Why ``user`` may not approve or reject this move now, or False (any move: a plain one has no rule)."""
        self.ensure_one()
        if not self.nordic_approval_kind:
            return False
        if user in self._nordic_authors():
            return _("You created or changed %(move)s: another person must approve it.", move=self.display_name)
        if user not in self._nordic_eligible_approvers():
            return _(
                "You may not approve or reject %(move)s (%(amount)s): it is for %(todo)s.",
                move=self.display_name,
                amount=self.company_currency_id.format(self.nordic_credit_cumulative_company),
                todo=_("the CFO or the CEO") if self.nordic_over_threshold else _("the clinic's managers"),
            )
        return False

    def _nordic_check_can_review(self):
        """Refuse, with a reason, a decision by an author or by a user who may not approve these moves."""
        for move in self:
            refusal = move._nordic_review_refusal(self.env.user)
            if refusal:
                raise UserError(refusal)

    def validate_tier(self):
        self._nordic_check_can_review()
        return super().validate_tier()

    def reject_tier(self):
        self._nordic_check_can_review()
        return super().reject_tier()

    def _validate_tier(self, tiers=False):
        """Approve only with a comment, only by an eligible approver, and remember the approved amount.

        base_tier_validation also approves on the way when a reviewer posts: for credit notes and
        write-offs that silent approval is skipped, so every approval goes through the comment wizard.
        The reviews are written as the product's own write (tier.review refuses any other).
        """
        if self.nordic_approval_kind:
            tiers = (tiers or self.review_ids).filtered("comment")
            if not tiers:
                return None
            self._nordic_check_can_review()
        result = super(AccountMove, as_system(self))._validate_tier(as_system(tiers) if tiers else tiers)
        if self.nordic_approval_kind and self.validation_status == "validated":
            as_system(self).write({"nordic_approved_amount": self.nordic_credit_amount_company})
        return result

    def _rejected_tier(self, tiers=False):
        self._nordic_check_can_review()
        return super(AccountMove, as_system(self))._rejected_tier(as_system(tiers) if tiers else tiers)

    def request_validation(self):
        # The reviews are created by the product (tier.review refuses a caller's create), and open for their
        # reviewers at once: a caller's deferral switch would leave them waiting where nobody can approve.
        system = as_system(self).with_context(tier_validation_defer_compute_can_review=False)
        return super(AccountMove, system).request_validation().with_env(self.env)

    def restart_validation(self):
        """Drop the reviews of these draft moves (anyone may: it only means approving again)."""
        approved = self.filtered(lambda m: m.state in self._state_from and m.nordic_approved_amount)
        if approved:
            as_system(approved).write({"nordic_approved_amount": 0.0})
        return super(AccountMove, as_system(self)).restart_validation()

    def _tier_validation_check_write_remove_reviews(self, vals):
        # Cancelling or resetting to draft drops the reviews: the product's own unlink.
        return super(AccountMove, as_system(self))._tier_validation_check_write_remove_reviews(vals)

    def button_draft(self):
        as_system(self.review_ids).unlink()
        return super().button_draft()

    def unlink(self):
        as_system(self.review_ids).unlink()
        return super().unlink()

    # ------------------------------------------------------------------
    # Head-office notice
    # ------------------------------------------------------------------

    def _nordic_notify_hq(self):
        """Queue one e-mail per posted credit note or write-off to the clinic's head-office address."""
        template = self.env.ref("nordic_dunning_approval.mail_template_nordic_hq_credit", raise_if_not_found=False)
        if not template:
            return
        for move in self:
            email = move.company_id._nordic_get_hq_email()
            if email:
                template.sudo().send_mail(move.id, email_values={"email_to": email})
