from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools.sql import execute_values

SCHEDULE_FIELDS = (
    "nordic_dunning_policy_id",
    "nordic_dunning_next_level_id",
    "nordic_next_dunning_date",
)


class AccountMove(models.Model):
    _inherit = "account.move"

    nordic_dunning_policy_id = fields.Many2one(
        "nordic.dunning.policy", string="Dunning policy", readonly=True, copy=False, index="btree_not_null"
    )
    nordic_dunning_level_id = fields.Many2one(
        "nordic.dunning.level", string="Dunning level", readonly=True, copy=False, help="Last level executed."
    )
    nordic_dunning_next_level_id = fields.Many2one(
        "nordic.dunning.level", string="Next dunning level", readonly=True, copy=False
    )
    nordic_next_dunning_date = fields.Date("Next dunning date", readonly=True, copy=False)
    nordic_last_dunning_date = fields.Date("Last dunning date", readonly=True, copy=False)
    nordic_dunning_state = fields.Selection(
        [("none", "Not dunned"), ("in_dunning", "In dunning"), ("handed_over", "Handed over")],
        string="Dunning state",
        default="none",
        required=True,
        readonly=True,
        copy=False,
        index=True,
    )
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

    def init(self):
        res = super().init()
        # The run's selection reads this partial index only: open customer invoices by date.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS account_move_nordic_dunning_due_idx
                ON account_move (company_id, nordic_next_dunning_date)
             WHERE move_type = 'out_invoice' AND state = 'posted'
               AND payment_state IN ('not_paid', 'partial') AND nordic_next_dunning_date IS NOT NULL
            """
        )
        return res

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
    def _nordic_write_schedule(self, rows, extra_sql="", extra_params=()):
        """Write (move_id, policy_id, next_level_id, next_date) rows in one statement per 5000.

        Direct SQL on purpose: a run may touch 100k posted invoices, and account.move.write()
        costs milliseconds per record in checks that do not concern these dunning-only columns.
        """
        if not rows:
            return
        self.env.flush_all()
        for start in range(0, len(rows), 5000):
            execute_values(
                self.env.cr,
                f"""
                UPDATE account_move m
                   SET nordic_dunning_policy_id = v.policy_id::int,
                       nordic_dunning_next_level_id = v.level_id::int,
                       nordic_next_dunning_date = v.next_date::date
                       {extra_sql}
                  FROM (VALUES %s) AS v(id, policy_id, level_id, next_date)
                 WHERE m.id = v.id
                """,
                rows[start : start + 5000],
                template=None,
                page_size=5000,
            )
        self.env["account.move"].invalidate_model(
            list(SCHEDULE_FIELDS) + ["nordic_dunning_level_id", "nordic_last_dunning_date", "nordic_dunning_state"]
        )
        # Written by SQL: let stored computes that read them (the tandvårdsstöd flag) recompute.
        self.env["account.move"].browse([row[0] for row in rows]).modified(list(SCHEDULE_FIELDS))

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
