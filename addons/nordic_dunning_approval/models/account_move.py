"""The write-off of confirmed customer losses (approved like a credit note) and recovery after it."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

from odoo.addons.nordic_dunning.tools.system import as_system, check_system_fields

CFO_GROUP = "nordic_dunning_approval.group_nordic_cfo"
# What the write-off and recovery flows record on the invoice and its entries: only they may set it, since
# it marks an invoice as a booked loss (evidence, HQ report, recovery) and links the entry that settles it.
WRITEOFF_SYSTEM_FIELDS = (
    "nordic_writeoff_move_id",
    "nordic_written_off",
    "nordic_writeoff_date",
    "nordic_writeoff_reason",
    "nordic_writeoff_override_reason",
    "nordic_writeoff_invoice_id",
    "nordic_recovery_invoice_id",
)


class AccountMove(models.Model):
    _inherit = "account.move"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_system_fields(self, vals, WRITEOFF_SYSTEM_FIELDS)
        return super().create(vals_list)

    def write(self, vals):
        check_system_fields(self, vals, WRITEOFF_SYSTEM_FIELDS)
        return super().write(vals)

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
        """Ids of these invoices with a collection case the agency reported as failed: the case is failed and
        an applied change from the agency put it there (the state of a case alone is no agency's report)."""
        cases = (
            self.env["nordic.collection.case"].sudo().search([("move_id", "in", self.ids), ("state", "=", "failed")])
        )
        reported = (
            self.env["nordic.collection.case.change"]
            .sudo()
            .search([("case_id", "in", cases.ids), ("state", "=", "applied"), ("case_state", "=", "failed")])
        )
        return set(reported.case_id.move_id.ids)

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
        entry = (
            as_system(self.env["account.move"])
            .create(
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
            .with_env(self.env)
        )
        as_system(self).write(
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
            as_system(invoice).write({"nordic_written_off": True, "nordic_writeoff_date": entry.date})
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
        recovery = (
            as_system(self.env["account.move"])
            .create(
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
            .with_env(self.env)
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
