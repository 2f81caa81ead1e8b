from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_compare, float_is_zero, float_round


class NordicDunningDispute(models.Model):
    """A customer's objection to all or part of an invoice: dunning pauses for the disputed part only."""

    _name = "nordic.dunning.dispute"
    _description = "Invoice dispute"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "received_date desc, id desc"
    _check_company_auto = True

    move_id = fields.Many2one(
        "account.move",
        "Invoice",
        required=True,
        index=True,
        ondelete="restrict",
        tracking=True,
        check_company=True,
        domain="[('move_type', '=', 'out_invoice'), ('state', '=', 'posted')]",
    )
    company_id = fields.Many2one(related="move_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="move_id.commercial_partner_id", string="Customer", store=True, index=True)
    currency_id = fields.Many2one(related="move_id.currency_id")
    invoice_amount_residual = fields.Monetary(related="move_id.amount_residual", string="Invoice open amount")
    scope = fields.Selection(
        [("whole", "The whole invoice"), ("partial", "Part of the invoice")],
        required=True,
        default="whole",
        tracking=True,
    )
    amount = fields.Monetary(
        "Disputed amount", tracking=True, help="For a whole dispute, the open amount when it was registered."
    )
    reason = fields.Char(required=True, tracking=True, help="What the dispute is about, in a few words.")
    customer_statement = fields.Text("The customer's words", help="The objection as the customer put it.")
    attachment_ids = fields.Many2many("ir.attachment", string="Attachments", help="Letters, e-mails, photos...")
    received_date = fields.Date("Received on", required=True, default=fields.Date.context_today, tracking=True)
    state = fields.Selection(
        [("open", "Open"), ("accepted", "Accepted"), ("rejected", "Rejected")],
        default="open",
        required=True,
        tracking=True,
        index=True,
    )
    resolution = fields.Text(tracking=True, help="The decision and its grounds, as answered to the customer.")
    accepted_amount = fields.Monetary(tracking=True, help="The part of the dispute found justified.")
    resolved_date = fields.Date(readonly=True, copy=False)
    resolved_user_id = fields.Many2one("res.users", "Resolved by", readonly=True, copy=False)
    credit_note_id = fields.Many2one("account.move", "Credit note", readonly=True, copy=False)

    @api.depends("move_id.name", "reason")
    def _compute_display_name(self):
        for dispute in self:
            dispute.display_name = f"{dispute.move_id.name or ''}: {dispute.reason or ''}"

    @api.onchange("scope", "move_id")
    def _onchange_scope(self):
        if self.scope == "whole":
            self.amount = self.move_id.amount_residual

    @api.model_create_multi
    def create(self, vals_list):
        moves = self.env["account.move"].browse([vals.get("move_id") for vals in vals_list])
        for vals, move in zip(vals_list, moves, strict=True):
            if vals.get("scope", "whole") == "whole":
                vals["amount"] = move.amount_residual
        disputes = super().create(vals_list)
        for dispute in disputes:
            dispute.move_id.message_post(
                body=_(
                    "Dispute registered (%(scope)s, %(amount)s): %(reason)s. Dunning pauses for the disputed part.",
                    scope=dict(self._fields["scope"].selection)[dispute.scope],
                    amount=dispute._format(dispute.amount),
                    reason=dispute.reason,
                ),
                attachment_ids=dispute.attachment_ids.ids,
            )
        return disputes

    @api.constrains("amount", "scope", "move_id")
    def _check_amount(self):
        for dispute in self:
            if dispute.move_id.move_type != "out_invoice" or dispute.move_id.state != "posted":
                raise ValidationError(_("Disputes are registered on posted customer invoices."))
            rounding = dispute.currency_id.rounding
            if float_compare(dispute.amount, 0.0, precision_rounding=rounding) <= 0:
                raise ValidationError(_("The disputed amount must be positive."))
            if float_compare(dispute.amount, dispute.move_id.amount_total, precision_rounding=rounding) > 0:
                raise ValidationError(
                    _(
                        "The disputed amount cannot exceed the invoice total (%s).",
                        dispute._format(dispute.move_id.amount_total),
                    )
                )

    def _format(self, amount):
        self.ensure_one()
        return f"{float_round(amount, precision_rounding=self.currency_id.rounding):.2f} {self.currency_id.name}"

    def _summary(self):
        """One line for a collection agency or a report: what is disputed, since when, and why."""
        self.ensure_one()
        text = _(
            "%(scope)s dispute of %(amount)s received %(date)s: %(reason)s",
            scope=dict(self._fields["scope"].selection)[self.scope],
            amount=self._format(self.amount),
            date=self.received_date,
            reason=self.reason,
        )
        if self.customer_statement:
            text += f" – “{self.customer_statement}”"
        return text

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_reply(self):
        self.ensure_one()
        return self.move_id.action_nordic_dispute_reply()

    def action_accept(self):
        """Accept the dispute (for ``accepted_amount``, default all): propose a draft credit note."""
        self._check_resolvable()
        credit_notes = self._accept()
        if len(credit_notes) == 1:
            return {
                "type": "ir.actions.act_window",
                "res_model": "account.move",
                "view_mode": "form",
                "res_id": credit_notes.id,
            }
        return True

    def action_reject(self):
        """Reject the dispute: dunning resumes, the next letter gives a new deadline."""
        self._check_resolvable()
        self._reject()
        return True

    def _check_resolvable(self):
        for dispute in self:
            if dispute.state != "open":
                raise UserError(_("Dispute %s is already resolved.", dispute.display_name))
            if not dispute.resolution:
                raise UserError(
                    _(
                        "Write the resolution (the answer given to the customer) before resolving %s.",
                        dispute.display_name,
                    )
                )

    def _accept(self):
        credit_notes = self.env["account.move"]
        today = fields.Date.context_today(self)
        for dispute in self:
            rounding = dispute.currency_id.rounding
            accepted = dispute.accepted_amount or dispute.amount
            if float_compare(accepted, dispute.amount, precision_rounding=rounding) > 0:
                raise UserError(_("The accepted amount cannot exceed the disputed amount."))
            credit_note = dispute._propose_credit_note(accepted)
            dispute.write(
                {
                    "state": "accepted",
                    "accepted_amount": accepted,
                    "credit_note_id": credit_note.id,
                    "resolved_date": today,
                    "resolved_user_id": self.env.uid,
                }
            )
            dispute.move_id.message_post(
                body=_(
                    "Dispute accepted for %(amount)s; credit note proposal %(note)s. %(resolution)s",
                    amount=dispute._format(accepted),
                    note=credit_note._get_html_link(),
                    resolution=dispute.resolution,
                )
            )
            credit_notes |= credit_note
        return credit_notes

    def _propose_credit_note(self, amount):
        """A draft credit note through Odoo's reversal wizard, scaled down to ``amount`` when partial."""
        self.ensure_one()
        move = self.move_id
        wizard = (
            self.env["account.move.reversal"]
            .with_company(move.company_id)
            .with_context(active_model="account.move", active_ids=move.ids)
            .create(
                {
                    "move_ids": [(6, 0, move.ids)],
                    "reason": _("Dispute: %s", self.reason),
                    "journal_id": move.journal_id.id,
                    "date": fields.Date.context_today(self),
                }
            )
        )
        wizard.refund_moves()
        credit_note = wizard.new_move_ids
        rounding = self.currency_id.rounding
        if not float_is_zero(credit_note.amount_total - amount, precision_rounding=rounding):
            ratio = amount / credit_note.amount_total
            lines = credit_note.invoice_line_ids.filtered(lambda line: line.display_type == "product")
            credit_note.write(
                {
                    "invoice_line_ids": [
                        (1, line.id, {"price_unit": float_round(line.price_unit * ratio, precision_rounding=rounding)})
                        for line in lines
                    ]
                }
            )
            # Rounding of several lines may leave a cent: put it on the last line.
            diff = float_round(amount - credit_note.amount_total, precision_rounding=rounding)
            if lines and not float_is_zero(diff, precision_rounding=rounding) and len(lines[-1].tax_ids) == 0:
                lines[-1].price_unit = float_round(
                    lines[-1].price_unit + diff / (lines[-1].quantity or 1.0), precision_rounding=rounding
                )
        return credit_note

    def _reject(self):
        """Resume dunning: the next level is due counted from today, so its letter carries a fresh deadline."""
        today = fields.Date.context_today(self)
        self.write(
            {"state": "rejected", "resolved_date": today, "resolved_user_id": self.env.uid, "accepted_amount": 0.0}
        )
        rows = []
        for dispute in self:
            move = dispute.move_id
            move.message_post(body=_("Dispute rejected: dunning resumes. %s", dispute.resolution))
            level = move.nordic_dunning_next_level_id
            if level and not move.nordic_dispute_open:
                next_date = max(level._compute_date(move.invoice_date_due, today), today)
                rows.append((move.id, move.nordic_dunning_policy_id.id, level.id, next_date))
        self.env["account.move"]._nordic_write_schedule(rows)
