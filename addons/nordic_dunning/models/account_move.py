"""The invoice in dunning: its schedule, the proof that it was sent, disputes and holds."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError


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
            last_date = move.nordic_last_dunning_date
            previous_deadline = False
            if level and level.policy_id == policy:
                next_level = level._get_next()
                previous_deadline = last_date and level._deadline_on(last_date)
            else:
                next_level = policy._get_first_level() if policy else self.env["nordic.dunning.level"]
            rows.append(
                (
                    move.id,
                    policy.id or None,
                    next_level.id or None,
                    next_level._compute_date(move.invoice_date_due, last_date, previous_deadline)
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
