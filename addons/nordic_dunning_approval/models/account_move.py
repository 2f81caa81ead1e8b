"""Credit notes and write-offs under approval (OCA tier validation), the write-off of confirmed losses and
recovery after it."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

APPROVER_GROUPS = ("nordic_dunning_approval.group_nordic_cfo", "nordic_dunning_approval.group_nordic_ceo")
CFO_GROUP = "nordic_dunning_approval.group_nordic_cfo"


class AccountMove(models.Model):
    _inherit = "account.move"

    def _post(self, soft=True):
        """Post what may be posted; a credit note or write-off still waiting for its approval stays in draft
        with the approval requested, whichever flow posts it (a button, Odoo's reversal wizard, a script)."""
        held = self._nordic_awaiting_approval()
        held._nordic_hold_for_approval()
        posted = super(AccountMove, self - held)._post(soft=soft) if self - held else self.browse()
        posted.filtered(lambda m: m.nordic_approval_kind == "credit_note")._nordic_notify_hq()
        posted.filtered("nordic_writeoff_invoice_id")._nordic_settle_writeoff()
        return posted

    def action_post(self):
        held = self._nordic_awaiting_approval()
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

    def _nordic_awaiting_approval(self):
        """Those of these moves that need an approval and have not got it yet."""
        # need_validation is only true until the approval is requested; then the reviews say it.
        return self.filtered(
            lambda m: (
                m.state == "draft"
                and m.nordic_approval_kind
                and m.validation_status != "validated"
                and (m.need_validation or m.review_ids)
            )
        )

    def _nordic_hold_for_approval(self):
        """Request the approval of these draft moves (once) and say in their chatter who must give it."""
        to_request = self.filtered(lambda m: not m.review_ids)
        to_request.request_validation()
        for move in self:
            move.message_post(body=move._nordic_approval_note(), message_type="comment", subtype_xmlid="mail.mt_note")

    def _nordic_approval_note(self):
        self.ensure_one()
        pending = self.review_ids.filtered(lambda r: r.status in ("waiting", "pending"))
        reviewers = pending.reviewer_ids or self.nordic_clinic_approver_ids
        return _(
            "%(move)s (%(amount)s) was not posted: it waits for the approval of %(todo)s (%(who)s).",
            move=self.display_name,
            amount=self.company_currency_id.format(self.nordic_credit_amount_company),
            todo=", ".join(pending.mapped("todo_by")) or _("a reviewer"),
            who=", ".join(reviewers.mapped("name")) or _("nobody can approve it yet: set the clinic managers"),
        )

    # ------------------------------------------------------------------
    # Approvals of credit notes and write-offs (OCA tier validation)
    # ------------------------------------------------------------------

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
                lambda u: u.has_group("nordic_dunning_approval.group_nordic_clinic_manager")
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

    def _nordic_notify_hq(self):
        """Queue one e-mail per posted credit note or write-off to the clinic's head-office address."""
        template = self.env.ref("nordic_dunning_approval.mail_template_nordic_hq_credit", raise_if_not_found=False)
        if not template:
            return
        for move in self:
            email = move.company_id._nordic_get_hq_email()
            if email:
                template.sudo().send_mail(move.id, email_values={"email_to": email})

    # ------------------------------------------------------------------
    # Write-off of confirmed losses and recovery
    # ------------------------------------------------------------------

    # On the invoice
    nordic_writeoff_move_id = fields.Many2one(
        "account.move", "Write-off entry", readonly=True, copy=False, index="btree_not_null"
    )
    nordic_written_off = fields.Boolean("Written off", readonly=True, copy=False, tracking=True)
    nordic_writeoff_date = fields.Date("Written off on", readonly=True, copy=False)
    nordic_writeoff_reason = fields.Char("Write-off reason", readonly=True, copy=False)
    nordic_writeoff_override_reason = fields.Char(
        "Override reason", readonly=True, copy=False, help="Why a CFO allowed a write-off without the usual evidence."
    )
    nordic_recovery_move_ids = fields.One2many(
        "account.move", "nordic_recovery_invoice_id", "Recovery entries", readonly=True
    )
    # On the write-off and recovery entries
    nordic_writeoff_invoice_id = fields.Many2one(
        "account.move", "Written-off invoice", readonly=True, copy=False, index="btree_not_null"
    )
    nordic_recovery_invoice_id = fields.Many2one(
        "account.move", "Recovered invoice", readonly=True, copy=False, index="btree_not_null"
    )

    # ------------------------------------------------------------------
    # Evidence
    # ------------------------------------------------------------------

    def _nordic_failed_collection_move_ids(self):
        """Ids of these invoices with a collection case the agency reported as failed."""
        return {
            move_id for move_id, cases in self._nordic_collection_cases().items() if "failed" in cases.mapped("state")
        }

    def _nordic_writeoff_blockers(self):
        """Reasons why this invoice is not a confirmed loss (empty: it is)."""
        self.ensure_one()
        reasons = []
        if self.nordic_dispute_open:
            reasons.append(_("the invoice is disputed"))
        if self.id not in self._nordic_failed_collection_move_ids():
            reasons.append(_("no collection case reported as failed"))
        return reasons

    def _nordic_check_writeoff(self, override_reason=False):
        """Refuse a write-off that cannot be booked, or that is no confirmed loss without a CFO override."""
        self.ensure_one()
        if self.move_type != "out_invoice" or self.state != "posted":
            raise UserError(_("Only posted customer invoices can be written off."))
        if self.nordic_written_off or (self.nordic_writeoff_move_id and self.nordic_writeoff_move_id.state != "cancel"):
            raise UserError(_("%(move)s is already written off or waiting for approval.", move=self.name))
        if self.payment_state not in ("not_paid", "partial"):
            raise UserError(_("%(move)s has nothing left to write off.", move=self.name))
        blockers = self._nordic_writeoff_blockers()
        if not blockers:
            return
        if not override_reason:
            raise UserError(
                _(
                    "%(move)s is no confirmed loss: %(why)s. A CFO may override with a reason.",
                    move=self.name,
                    why="; ".join(blockers),
                )
            )
        if not self.env.user.has_group(CFO_GROUP):
            raise UserError(
                _("Only a CFO may write off without evidence of a confirmed loss (%s).", "; ".join(blockers))
            )

    # ------------------------------------------------------------------
    # Booking
    # ------------------------------------------------------------------

    def _nordic_writeoff_line_vals(self, vat_relief=True):
        """Lines writing off the open receivable: loss net, output VAT share (when relief applies), receivable."""
        self.ensure_one()
        company = self.company_id
        currency = self.currency_id
        receivables = self.line_ids.filtered(
            lambda line: line.account_type == "asset_receivable" and not line.reconciled
        )
        residual = sum(receivables.mapped("amount_residual"))
        residual_currency = sum(receivables.mapped("amount_residual_currency"))
        ratio = residual_currency / self.amount_total if self.amount_total else 0.0
        base = {"partner_id": self.commercial_partner_id.id, "currency_id": currency.id}
        lines = []
        vat_balance = vat_currency = 0.0
        if vat_relief:
            for tax_line in self.line_ids.filtered(lambda line: line.display_type == "tax"):
                balance = company.currency_id.round(-tax_line.balance * ratio)
                amount_currency = currency.round(-tax_line.amount_currency * ratio)
                if currency.is_zero(amount_currency):
                    continue
                refund_line = tax_line.tax_repartition_line_id.tax_id.refund_repartition_line_ids.filtered(
                    lambda rep, tl=tax_line: rep.repartition_type == "tax" and rep.account_id == tl.account_id
                )[:1]
                lines.append(
                    {
                        **base,
                        "name": _("Output VAT on confirmed loss %(move)s (%(tax)s)", move=self.name, tax=tax_line.name),
                        "account_id": tax_line.account_id.id,
                        "balance": balance,
                        "amount_currency": amount_currency,
                        "tax_tag_ids": [(6, 0, refund_line.tag_ids.ids)],
                    }
                )
                vat_balance += balance
                vat_currency += amount_currency
        lines.insert(
            0,
            {
                **base,
                "name": _("Confirmed customer loss %(move)s", move=self.name),
                "account_id": company._nordic_get_loss_account().id,
                "balance": company.currency_id.round(residual - vat_balance),
                "amount_currency": currency.round(residual_currency - vat_currency),
            },
        )
        for receivable in receivables:
            lines.append(
                {
                    **base,
                    "name": _("Write-off %(move)s", move=self.name),
                    "account_id": receivable.account_id.id,
                    "balance": -receivable.amount_residual,
                    "amount_currency": -receivable.amount_residual_currency,
                    "date_maturity": receivable.date_maturity,
                }
            )
        return lines

    def _nordic_default_misc_journal(self):
        self.ensure_one()
        return self.env["account.journal"].search(
            [*self.env["account.journal"]._check_company_domain(self.company_id), ("type", "=", "general")], limit=1
        )

    def _nordic_create_writeoff(self, reason, date=None, override_reason=False, vat_relief=None, journal=None):
        """Book the confirmed loss of this invoice as a draft entry waiting for approval, and return it.

        Callable for a collection case too. Posting the approved entry settles and marks the invoice.
        """
        self.ensure_one()
        self._nordic_check_writeoff(override_reason)
        if not reason:
            raise UserError(_("Give the reason of the write-off (e.g. the agency's report)."))
        journal = journal or self._nordic_default_misc_journal()
        if not journal:
            raise UserError(_("No miscellaneous journal in %(company)s.", company=self.company_id.name))
        if vat_relief is None:
            vat_relief = self.company_id.nordic_writeoff_vat_relief
        entry = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": journal.id,
                "company_id": self.company_id.id,
                "partner_id": self.commercial_partner_id.id,
                "date": date or fields.Date.context_today(self),
                "ref": _("Confirmed loss %(move)s: %(reason)s", move=self.name, reason=reason),
                "nordic_writeoff_invoice_id": self.id,
                "line_ids": [(0, 0, vals) for vals in self._nordic_writeoff_line_vals(vat_relief)],
            }
        )
        self.write(
            {
                "nordic_writeoff_move_id": entry.id,
                "nordic_writeoff_reason": reason,
                "nordic_writeoff_override_reason": override_reason or False,
            }
        )
        entry.request_validation()
        self.message_post(
            body=_(
                "Write-off %(entry)s proposed: %(reason)s%(override)s",
                entry=entry._get_html_link(),
                reason=reason,
                override=_(" (CFO override: %s)", override_reason) if override_reason else "",
            )
        )
        return entry

    def _nordic_settle_writeoff(self):
        """Reconcile posted write-off entries with their invoices, mark them written off, tell head office."""
        for entry in self:
            invoice = entry.nordic_writeoff_invoice_id
            (entry.line_ids | invoice.line_ids).filtered(
                lambda line: line.account_type == "asset_receivable" and not line.reconciled
            ).reconcile()
            invoice.write({"nordic_written_off": True, "nordic_writeoff_date": entry.date})
            invoice.message_post(body=_("Written off as a confirmed loss by %s.", entry._get_html_link()))
        # The proposal raised on the collection case when the agency reported the failure is done.
        self.nordic_writeoff_invoice_id.sudo().nordic_collection_case_ids._write_off_posted()
        self._nordic_notify_hq()

    # ------------------------------------------------------------------
    # Recovery
    # ------------------------------------------------------------------

    def _nordic_recoverable_amount(self):
        """(Written-off amount, part not recovered yet), company currency."""
        self.ensure_one()
        entry = self.nordic_writeoff_move_id
        written_off = -sum(
            entry.line_ids.filtered(lambda line: line.account_type == "asset_receivable").mapped("balance")
        )
        recovered = sum(
            self.nordic_recovery_move_ids.filtered(lambda m: m.state == "posted")
            .line_ids.filtered(lambda line: line.account_type == "asset_receivable")
            .mapped("balance")
        )
        return written_off, written_off - recovered

    def _nordic_book_recovery(self, amount, date=None):
        """Book money received after a write-off: reverse the loss and VAT shares of ``amount`` and open it
        on the receivable, to be matched with the payment. Returns the posted recovery entry."""
        self.ensure_one()
        if not self.nordic_written_off:
            raise UserError(_("%(move)s is not written off: register the payment on the invoice.", move=self.name))
        company_currency = self.company_currency_id
        written_off, open_amount = self._nordic_recoverable_amount()
        if (
            company_currency.compare_amounts(amount, 0) <= 0
            or company_currency.compare_amounts(amount, open_amount) > 0
        ):
            raise UserError(
                _(
                    "The recovered amount must be above zero and at most %(open)s.",
                    open=company_currency.format(open_amount),
                )
            )
        ratio = amount / written_off
        entry = self.nordic_writeoff_move_id
        base = {"partner_id": self.commercial_partner_id.id}
        lines, total = [], 0.0
        for line in entry.line_ids.filtered(lambda line: line.account_type != "asset_receivable").sorted("balance"):
            balance = float_round(-line.balance * ratio, precision_rounding=company_currency.rounding)
            lines.append(
                {
                    **base,
                    "name": _("Recovery: %s", line.name),
                    "account_id": line.account_id.id,
                    "balance": balance,
                    "tax_tag_ids": [(6, 0, line.tax_tag_ids.ids)],
                }
            )
            total += balance
        # The largest line (the loss) takes the rounding difference so the entry balances to the cent.
        loss = min(lines, key=lambda vals: vals["balance"])
        loss["balance"] = company_currency.round(loss["balance"] - (total + amount))
        receivable = entry.line_ids.filtered(lambda line: line.account_type == "asset_receivable")[:1]
        lines.append(
            {**base, "name": _("Recovered on %s", self.name), "account_id": receivable.account_id.id, "balance": amount}
        )
        recovery = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": entry.journal_id.id,
                "company_id": self.company_id.id,
                "partner_id": self.commercial_partner_id.id,
                "date": date or fields.Date.context_today(self),
                "ref": _("Recovery after write-off %(move)s", move=self.name),
                "nordic_recovery_invoice_id": self.id,
                "line_ids": [(0, 0, vals) for vals in lines],
            }
        )
        recovery.action_post()
        self.message_post(
            body=_(
                "Recovered %(amount)s after the write-off: %(entry)s",
                amount=company_currency.format(amount),
                entry=recovery._get_html_link(),
            )
        )
        return recovery

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_nordic_writeoff(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Write off confirmed loss"),
            "res_model": "nordic.writeoff.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_id": self.id},
        }

    def action_nordic_recovery(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Recovery after write-off"),
            "res_model": "nordic.writeoff.recovery.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_id": self.id},
        }

    def _nordic_collection_measures(self):
        """The measures of the collection evidence, and the write-off when the loss was booked."""
        measures = super()._nordic_collection_measures()
        if self.nordic_written_off:
            measures.append(
                {
                    "date": self.nordic_writeoff_date,
                    "measure": _("Written off as a confirmed loss"),
                    "channel": "-",
                    "document": self.nordic_writeoff_move_id.name,
                }
            )
        return measures
