"""account.move for dunning: schedule and proof of sending, disputes and holds, collection cases,
approvals of credit notes and write-offs, write-off and recovery, and the tandvårdsstöd evidence."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

APPROVER_GROUPS = ("nordic_dunning.group_nordic_cfo", "nordic_dunning.group_nordic_ceo")
CFO_GROUP = "nordic_dunning.group_nordic_cfo"
# Agency outcomes that end collection (Försäkringskassan: "all conceivable measures" were taken).
ENDING_CASE_STATES = ("failed", "surveillance")
# Names the collection-case extension may give the invoice's cases; the first that exists is used.
CASE_FIELDS = ("nordic_collection_case_ids", "nordic_case_ids", "collection_case_ids")


class AccountMove(models.Model):
    _inherit = "account.move"

    nordic_dunning_status_id = fields.Many2one(
        "nordic.dunning.status", "Dunning status", readonly=True, copy=False, index="btree_not_null"
    )
    nordic_dunning_policy_id = fields.Many2one(related="nordic_dunning_status_id.policy_id")
    nordic_dunning_level_id = fields.Many2one(related="nordic_dunning_status_id.level_id")
    nordic_dunning_next_level_id = fields.Many2one(related="nordic_dunning_status_id.next_level_id")
    nordic_next_dunning_date = fields.Date(related="nordic_dunning_status_id.next_date")
    nordic_last_dunning_date = fields.Date(related="nordic_dunning_status_id.last_date")
    nordic_dunning_state = fields.Selection(related="nordic_dunning_status_id.state")
    nordic_dunning_excluded = fields.Boolean("Excluded from dunning", copy=False, tracking=True)
    nordic_dunning_exclude_reason = fields.Char("Exclusion reason", copy=False, tracking=True)
    nordic_dunning_hold_until = fields.Date(
        "Held until", copy=False, tracking=True, help="The exclusion is lifted automatically after this date."
    )
    nordic_sent_attested = fields.Boolean(
        "Sent outside Odoo", copy=False, tracking=True, help="Attestation that the invoice reached the customer."
    )
    nordic_sent_date = fields.Date("Sent on", copy=False, tracking=True)
    nordic_sent_attested_by_id = fields.Many2one("res.users", "Attested by", copy=False, readonly=True)
    nordic_is_sent = fields.Boolean(
        "Proof of sending",
        compute="_compute_nordic_is_sent",
        store=True,
        help="The invoice itself was sent (from Odoo, or attested as sent outside Odoo): only then may it be dunned.",
    )
    nordic_late_interest_line_id = fields.Many2one(
        "account.move.line",
        "Late interest charged",
        readonly=True,
        copy=False,
        help="Receivable line charging the late interest of this invoice, paid after its due date.",
    )
    nordic_dunning_event_ids = fields.One2many("nordic.dunning.event", "move_id", string="Dunning events")
    nordic_dunning_event_count = fields.Integer(compute="_compute_nordic_dunning_event_count")
    nordic_dispute_ids = fields.One2many("nordic.dunning.dispute", "move_id", string="Disputes")
    nordic_disputed_amount = fields.Monetary(
        "Disputed amount",
        compute="_compute_nordic_dispute",
        store=True,
        currency_field="currency_id",
        help="Part of the open amount that is not dunned: open disputes, and accepted ones whose credit note "
        "is not yet set against the invoice.",
    )
    nordic_dispute_open = fields.Boolean("Disputed", compute="_compute_nordic_dispute", store=True, index=True)

    @api.depends("is_move_sent", "nordic_sent_attested", "nordic_sent_date")
    def _compute_nordic_is_sent(self):
        for move in self:
            move.nordic_is_sent = move.is_move_sent or (move.nordic_sent_attested and bool(move.nordic_sent_date))

    @api.depends(
        "amount_residual",
        "nordic_dispute_ids.state",
        "nordic_dispute_ids.amount",
        "nordic_dispute_ids.accepted_amount",
        "nordic_dispute_ids.credit_note_id.state",
        "nordic_dispute_ids.credit_note_id.amount_residual",
    )
    def _compute_nordic_dispute(self):
        for move in self:
            blocking = 0.0
            for dispute in move.nordic_dispute_ids:
                credit_note = dispute.credit_note_id
                if dispute.state == "open":
                    blocking += dispute.amount
                elif dispute.state == "accepted" and (
                    credit_note.state == "draft" or (credit_note.state == "posted" and credit_note.amount_residual > 0)
                ):
                    # Accepted but the credit note is not yet set against the invoice: still not dunned.
                    blocking += dispute.accepted_amount
            move.nordic_disputed_amount = min(blocking, max(move.amount_residual, 0.0))
            move.nordic_dispute_open = any(d.state == "open" for d in move.nordic_dispute_ids)

    def _compute_nordic_dunning_event_count(self):
        counts = dict(
            self.env["nordic.dunning.event"]._read_group([("move_id", "in", self.ids)], ["move_id"], ["__count"])
        )
        for move in self:
            move.nordic_dunning_event_count = counts.get(move, 0)

    # ------------------------------------------------------------------
    # Guards
    # ------------------------------------------------------------------

    def button_draft(self):
        """A dunned invoice stays as the customer was reminded of it: correct it with a credit note.

        Its measures (letters, fees, interest) were taken against this customer and amount; cancel them
        first (mass cancellation) if the invoice itself was wrong.
        """
        self._nordic_check_not_dunned()
        return super().button_draft()

    def _nordic_check_not_dunned(self):
        # Whoever resets the invoice, whatever they may read of the dunning: the measures exist.
        events = self.env["nordic.dunning.event"].sudo().search([("move_id", "in", self.ids), ("state", "=", "done")])
        dunned = self.browse(events.move_id.ids)
        if dunned:
            raise UserError(
                _(
                    "These invoices have collection measures and cannot be reset to draft; issue a credit note, "
                    "or cancel the measures first:\n%s",
                    "\n".join(dunned.mapped("name")),
                )
            )

    # ------------------------------------------------------------------
    # Scheduling
    # ------------------------------------------------------------------

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        posted.filtered(lambda m: m.move_type == "out_invoice")._nordic_dunning_schedule()
        posted.filtered(lambda m: m.nordic_approval_kind == "credit_note")._nordic_notify_hq()
        posted.filtered("nordic_writeoff_invoice_id")._nordic_settle_writeoff()
        return posted

    def _nordic_dunning_schedule(self):
        """Set policy, next level and next date of open customer invoices from their current level."""
        invoices = self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        if not invoices:
            return
        by_journal = self.env["nordic.dunning.policy"]._policy_by_journal(invoices.company_id)
        rows = []
        for move in invoices:
            policy = (
                by_journal.get((move.company_id.id, move.journal_id.id))
                or by_journal.get((move.company_id.id, False))
                or self.env["nordic.dunning.policy"]
            )
            level = move.nordic_dunning_level_id
            if level and level.policy_id == policy:
                next_level = level._get_next()
            else:
                next_level = policy._get_first_level() if policy else self.env["nordic.dunning.level"]
            rows.append(
                (
                    move.id,
                    policy.id or None,
                    next_level.id or None,
                    next_level._compute_date(move.invoice_date_due, move.nordic_last_dunning_date)
                    if next_level
                    else None,
                )
            )
        self._nordic_write_schedule(rows)

    @api.model
    def _nordic_write_schedule(self, rows):
        """Write ``(move_id, policy_id, next_level_id, next_date)`` rows to the invoices' dunning status."""
        self.env["nordic.dunning.status"]._write_schedule(rows)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_nordic_attest_sent(self):
        """Attest that invoices sent outside Odoo reached the customer (today, by the current user)."""
        if any(m.move_type != "out_invoice" or m.state != "posted" for m in self):
            raise UserError(_("Only posted customer invoices can be attested as sent."))
        self.write(
            {
                "nordic_sent_attested": True,
                "nordic_sent_date": fields.Date.context_today(self),
                "nordic_sent_attested_by_id": self.env.uid,
            }
        )
        return True

    def action_nordic_view_dunning_events(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Dunning events"),
            "res_model": "nordic.dunning.event",
            "view_mode": "list,form",
            "domain": [("move_id", "=", self.id)],
        }

    def action_nordic_register_dispute(self):
        """Open a new dispute for this invoice."""
        self.ensure_one()
        if self.move_type != "out_invoice" or self.state != "posted":
            raise UserError(_("Disputes are registered on posted customer invoices."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Register a dispute"),
            "res_model": "nordic.dunning.dispute",
            "view_mode": "form",
            "target": "new",
            "context": {"default_move_id": self.id},
        }

    def action_nordic_view_disputes(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Disputes"),
            "res_model": "nordic.dunning.dispute",
            "view_mode": "list,form",
            "domain": [("move_id", "=", self.id)],
            "context": {"default_move_id": self.id},
        }

    def action_nordic_dispute_reply(self):
        """Answer the customer in writing; the message stays in the invoice's chatter as evidence."""
        self.ensure_one()
        template = self.env.ref("nordic_dunning.mail_template_dispute_reply", raise_if_not_found=False)
        return {
            "type": "ir.actions.act_window",
            "name": _("Reply to the dispute"),
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_model": "account.move",
                "default_res_ids": self.ids,
                "default_template_id": template.id if template else False,
                "default_composition_mode": "comment",
                "default_subtype_xmlid": "mail.mt_comment",
                "force_email": True,
            },
        }

    def _nordic_dispute_info(self):
        """(disputed, text) for a collection case: is a dispute open, and what the customer objects to."""
        self.ensure_one()
        disputes = self.nordic_dispute_ids.filtered(lambda d: d.state == "open")
        if not disputes:
            return False, ""
        return True, "\n".join(dispute._summary() for dispute in disputes.sorted("received_date"))

    @api.model
    def _cron_nordic_lift_holds(self):
        """Daily: lift the exclusions of invoices and customers whose hold has ended, and say so."""
        today = fields.Date.context_today(self)
        domain = [("nordic_dunning_excluded", "=", True), ("nordic_dunning_hold_until", "<", today)]
        for records in (self.search(domain), self.env["res.partner"].search(domain)):
            for record in records:
                record.message_post(
                    body=_(
                        "Dunning hold ended on %(date)s and was lifted (reason was: %(reason)s).",
                        date=record.nordic_dunning_hold_until,
                        reason=record.nordic_dunning_exclude_reason or "-",
                    )
                )
            records.write(
                {
                    "nordic_dunning_excluded": False,
                    "nordic_dunning_exclude_reason": False,
                    "nordic_dunning_hold_until": False,
                }
            )
        return True

    def write(self, vals):
        if vals.get("nordic_sent_attested") and "nordic_sent_attested_by_id" not in vals:
            vals = dict(vals, nordic_sent_attested_by_id=self.env.uid)
        return super().write(vals)

    # ------------------------------------------------------------------
    # Collection cases
    # ------------------------------------------------------------------

    nordic_collection_case_ids = fields.One2many("nordic.collection.case", "move_id", string="Collection cases")
    nordic_collection_case_count = fields.Integer(compute="_compute_nordic_collection_case_count")

    def _compute_nordic_collection_case_count(self):
        # A count only, shown on invoices to users who may not read cases (e.g. salespeople).
        counts = dict(
            self.env["nordic.collection.case"]
            .sudo()
            ._read_group([("move_id", "in", self.ids)], ["move_id"], ["__count"])
        )
        for move in self:
            move.nordic_collection_case_count = counts.get(move, 0)

    def action_nordic_view_collection_cases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("nordic_dunning.action_nordic_collection_case")
        action["domain"] = [("move_id", "=", self.id)]
        action["context"] = {}
        if self.nordic_collection_case_count == 1:
            action.update(view_mode="form", res_id=self.nordic_collection_case_ids.id, views=[(False, "form")])
        return action

    def action_nordic_notify_agency(self):
        """The customer disputes a handed-over invoice: ask the agency to pause its case."""
        cases = self.nordic_collection_case_ids.filtered(lambda c: c.state not in ("withdrawn", "cancelled", "paid"))
        if not cases:
            raise UserError(_("No open collection case for these invoices."))
        cases.action_notify_agency()
        return True

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

    def _nordic_notify_hq(self):
        """Queue one e-mail per posted credit note or write-off to the clinic's head-office address."""
        template = self.env.ref("nordic_dunning.mail_template_nordic_hq_credit", raise_if_not_found=False)
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

    def _nordic_is_disputed(self):
        """Whether an open dispute is registered, from ``_nordic_dispute_info() -> (disputed, text)`` of the
        dispute extension when it is installed."""
        self.ensure_one()
        if not hasattr(self, "_nordic_dispute_info"):
            return False
        info = self._nordic_dispute_info()
        if isinstance(info, (tuple, list)):
            return bool(info and info[0])
        if isinstance(info, dict):
            return bool(info.get("disputed"))
        return bool(info)

    def _nordic_failed_collection_move_ids(self):
        """Ids of these invoices with a collection case the agency reported as failed."""
        return {
            move_id for move_id, cases in self._nordic_collection_cases().items() if "failed" in cases.mapped("state")
        }

    def _nordic_writeoff_blockers(self):
        """Reasons why this invoice is not a confirmed loss (empty: it is)."""
        self.ensure_one()
        reasons = []
        if self._nordic_is_disputed():
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

    # ------------------------------------------------------------------
    # Tandvårdsstöd: all collection measures taken
    # ------------------------------------------------------------------

    nordic_collection_exhausted = fields.Boolean(
        "All collection measures taken",
        compute="_compute_nordic_collection_exhausted",
        store=True,
        index="btree_not_null",
        help="Tandvårdsstöd may be claimed: the patient paid, or every dunning level was executed, the case was "
        "handed over and the agency reported an outcome that ends collection.",
    )
    # Not stored: the reason changes with every dunning level, the flag only when collection ends.
    nordic_collection_exhausted_reason = fields.Char(
        "Support claim",
        compute="_compute_nordic_collection_exhausted_reason",
        help="Why the support claim is ready, or what is still missing.",
    )

    def _nordic_exhausted_depends(self):
        deps = [
            "move_type",
            "state",
            "payment_state",
            "nordic_dunning_state",
            "nordic_dunning_policy_id.level_ids",
            "nordic_dunning_event_ids.state",
            "nordic_dunning_event_ids.level_id",
        ]
        case_field = next((name for name in CASE_FIELDS if name in self._fields), None)
        if case_field:
            deps.append(f"{case_field}.state")
        return deps

    @api.depends(lambda self: self._nordic_exhausted_depends())
    def _compute_nordic_collection_exhausted(self):
        invoices = self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        (self - invoices).nordic_collection_exhausted = False
        # Only a paid or a handed-over invoice can be ready: the others need no reading of events or cases.
        candidates = invoices.filtered(
            lambda m: m.payment_state in ("paid", "in_payment") or m.nordic_dunning_state == "handed_over"
        )
        (invoices - candidates).nordic_collection_exhausted = False
        outcomes = candidates._nordic_collection_outcomes()
        for move in candidates:
            move.nordic_collection_exhausted = move._nordic_exhausted_state(outcomes.get(move.id))[0]

    @api.depends(lambda self: self._nordic_exhausted_depends())
    def _compute_nordic_collection_exhausted_reason(self):
        invoices = self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        (self - invoices).nordic_collection_exhausted_reason = False
        outcomes = invoices._nordic_collection_outcomes()
        for move in invoices:
            move.nordic_collection_exhausted_reason = move._nordic_exhausted_state(outcomes.get(move.id))[1]

    def _nordic_exhausted_state(self, outcome):
        """(ready, reason) of one invoice given its collection ``outcome`` (see _nordic_collection_outcomes)."""
        self.ensure_one()
        if self.payment_state in ("paid", "in_payment"):
            return True, _("Paid by the patient.")
        policy = self.nordic_dunning_policy_id
        if not policy:
            return False, _("No dunning policy: no measure was taken.")
        done_levels = self.nordic_dunning_event_ids.filtered(lambda e: e.state == "done").level_id
        missing = policy.level_ids - done_levels
        if missing:
            return False, _("Not executed yet: %s.", ", ".join(missing.sorted("sequence").mapped("name")))
        if self.nordic_dunning_state != "handed_over":
            return False, _("Not handed over to collection.")
        if not outcome:
            return False, _("Handed over; the agency has not reported an outcome that ends collection.")
        return True, _("All measures taken: %s.", outcome)

    def _nordic_collection_cases(self):
        """{invoice id: its collection cases}; empty when the collection-case model is not installed.

        Reads ``move_id`` (one invoice per case) or ``move_ids`` (several) of ``nordic.collection.case``.
        """
        if "nordic.collection.case" not in self.env or not self.ids:
            return {}
        Case = self.env["nordic.collection.case"].sudo()
        link = next((name for name in ("move_id", "move_ids") if name in Case._fields), None)
        if not link:
            return {}
        result = {}
        for case in Case.search([(link, "in", self.ids)]):
            for move in case[link] & self:
                result.setdefault(move.id, Case)
                result[move.id] |= case
        return result

    def _nordic_collection_outcomes(self):
        """{invoice id: label of the agency outcome that ends collection} for those that have one."""
        outcomes = {}
        for move_id, cases in self._nordic_collection_cases().items():
            states = dict(cases._fields["state"]._description_selection(self.env))
            for case in cases:
                if case.state in ENDING_CASE_STATES:
                    outcomes[move_id] = _("agency reported %s", states.get(case.state, case.state))
                elif "payment_order_date" in case._fields and case.payment_order_date:
                    outcomes[move_id] = _("payment order filed on %s", case.payment_order_date)
        return outcomes

    def _nordic_collection_case_changed(self):
        """Hook for the collection-case model: its invoices' flag must be recomputed (state, payment order)."""
        self.env.add_to_compute(self._fields["nordic_collection_exhausted"], self)
        self.invalidate_recordset(["nordic_collection_exhausted_reason"])

    # ------------------------------------------------------------------
    # Evidence
    # ------------------------------------------------------------------

    def _nordic_collection_measures(self):
        """Every measure taken on this invoice, oldest first: dicts with date, measure, channel, document."""
        self.ensure_one()
        measures = []
        if self.nordic_is_sent:
            measures.append(
                {
                    "date": self.nordic_sent_date or self.invoice_date,
                    "measure": _("Invoice %(name)s sent, due %(due)s", name=self.name, due=self.invoice_date_due),
                    "channel": _("Attested") if self.nordic_sent_attested else _("Odoo"),
                    "document": self.name,
                }
            )
        for event in self.nordic_dunning_event_ids.filtered(lambda e: e.state == "done").sorted(
            lambda e: (e.date, e.id)
        ):
            channels = [
                label
                for flag, label in (
                    (event.channel_email, _("E-mail")),
                    (event.channel_letter, _("Letter")),
                    (event.channel_call, _("Call")),
                )
                if flag
            ]
            documents = [
                doc
                for doc in (
                    event.letter_attachment_id.name,
                    event.mail_message_id.subject,
                    event.activity_id.summary,
                )
                if doc
            ]
            measures.append(
                {
                    "date": event.date,
                    "measure": event.level_id.name,
                    "channel": ", ".join(channels) or "-",
                    "document": ", ".join(documents) or event.name,
                }
            )
        for case in self._nordic_collection_cases().get(self.id, []):
            states = dict(case._fields["state"]._description_selection(self.env))
            handover = case.event_id.date if "event_id" in case._fields and case.event_id else None
            measures.append(
                {
                    "date": handover or fields.Date.to_date(case.create_date),
                    "measure": _("Handed over to collection: case %s", case.display_name),
                    "channel": case.agency_id.display_name if "agency_id" in case._fields and case.agency_id else "-",
                    "document": _("State: %s", states.get(case.state, case.state)),
                }
            )
            # The agency's reports (status history): each one is a measure with its date.
            for entry in case.history_ids if "history_ids" in case._fields else []:
                if entry.old_state == entry.new_state or entry.new_state in ("to_submit", "submitting"):
                    continue
                measures.append(
                    {
                        "date": fields.Date.to_date(entry.date),
                        "measure": _("Collection case: %s", states.get(entry.new_state, entry.new_state)),
                        "channel": _("Collection agency"),
                        "document": entry.agency_status or entry.note or case.display_name,
                    }
                )
        if self.nordic_written_off:
            measures.append(
                {
                    "date": self.nordic_writeoff_date,
                    "measure": _("Written off as a confirmed loss"),
                    "channel": "-",
                    "document": self.nordic_writeoff_move_id.name,
                }
            )
        return sorted(measures, key=lambda m: m["date"] or fields.Date.today())

    def action_nordic_print_evidence(self):
        return self.env.ref("nordic_dunning.action_report_collection_evidence").report_action(self)
