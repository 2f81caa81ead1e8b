from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..tools.sql import execute_values
from ..tools.system import as_system


class NordicDunningCancel(models.TransientModel):
    """Cancel a run under review, or mass-cancel (makulera) a confirmed run or a selection of measures."""

    _name = "nordic.dunning.cancel"
    _description = "Cancel dunning measures"

    run_id = fields.Many2one("nordic.dunning.run")
    event_ids = fields.Many2many("nordic.dunning.event", string="Measures")
    reason = fields.Char(required=True, help="Logged on every cancelled measure and in the apology.")
    send_apology = fields.Boolean("Send an apology", help="E-mail the affected customers the apology template.")
    mail_template_id = fields.Many2one(
        "mail.template",
        "Apology template",
        domain=[("model", "=", "res.partner")],
        default=lambda self: self.env.ref("nordic_dunning.mail_template_dunning_apology", raise_if_not_found=False),
    )
    event_count = fields.Integer("Measures to cancel", compute="_compute_event_count")
    run_state = fields.Selection(related="run_id.state")

    @api.model
    def default_get(self, fields_list):
        vals = super().default_get(fields_list)
        context = self.env.context
        if context.get("active_model") == "nordic.dunning.event" and context.get("active_ids"):
            vals["event_ids"] = [(6, 0, context["active_ids"])]
        elif context.get("active_model") == "nordic.dunning.run" and context.get("active_id") and "run_id" not in vals:
            vals["run_id"] = context["active_id"]
        return vals

    @api.depends("run_id", "event_ids")
    def _compute_event_count(self):
        for wizard in self:
            wizard.event_count = len(wizard._events_to_cancel())

    def _events_to_cancel(self):
        return (self.event_ids | self.run_id.event_ids).filtered(lambda e: e.state == "done")

    def action_cancel(self):
        self.ensure_one()
        run = self.run_id
        # A run under review may be dropped by its users; a held run or executed measures need a manager.
        if not (run.state == "draft" and not self.event_ids) and not self.env.user.has_group(
            "nordic_dunning.group_nordic_dunning_manager"
        ):
            raise UserError(_("Only a Dunning manager can cancel held runs and confirmed measures."))
        if run and run.state in ("draft", "to_approve"):
            run.action_cancel()
            as_system(run).cancel_reason = self.reason
            run.message_post(body=_("Cancelled: %s", self.reason))
            return True
        events = self._events_to_cancel()
        if not events:
            raise UserError(_("There is no confirmed measure to cancel."))
        as_system(self)._cancel_events(events)
        return {
            "type": "ir.actions.act_window",
            "name": _("Refund proposals"),
            "res_model": "nordic.dunning.refund",
            "view_mode": "list,form",
            "domain": [("partner_id", "in", events.partner_id.commercial_partner_id.ids), ("state", "=", "proposed")],
        }

    # ------------------------------------------------------------------
    # Mass cancellation
    # ------------------------------------------------------------------

    def _cancel_events(self, events):
        """Cancel ``events`` all together: nothing deleted, fees reversed, schedules rolled back, refunds proposed."""
        now = fields.Datetime.now()
        events = events.with_env(self.env)
        # The audit trail is written by the product only (tools/system), after the manager check above.
        events.sudo().write(
            {"state": "cancelled", "cancel_reason": self.reason, "cancel_date": now, "cancel_user_id": self.env.uid}
        )
        refunds = self.env["nordic.dunning.refund"]
        refunds |= self._reverse_charges(events)
        self._rollback_invoices(events.move_id)
        self.env["nordic.dunning.event"]._on_measures_cancelled(events, self.reason)
        for company in events.company_id:
            refunds |= refunds._propose_overpayments(
                events.filtered(lambda e, c=company: e.company_id == c).partner_id, company
            )
        apology = self._send_apology(events.partner_id.commercial_partner_id)
        for run in events.run_id:
            if not run.event_ids.filtered(lambda e: e.state == "done"):
                run.write({"state": "cancelled", "cancel_reason": self.reason})
            cancelled = events.filtered(lambda e, run=run: e.run_id == run)
            run.message_post(
                body=_(
                    "%(count)s measure(s) cancelled: %(reason)s. %(refunds)s refund proposal(s). %(apology)s",
                    count=len(cancelled),
                    reason=self.reason,
                    refunds=len(
                        refunds.filtered(lambda r, c=cancelled: r.partner_id in c.partner_id.commercial_partner_id)
                    ),
                    apology=apology,
                )
            )
        return refunds

    def _reverse_charges(self, events):
        """One reversal entry per fee entry, each line reconciled with the fee it cancels.

        A fee the customer already paid leaves the reversal line open as the customer's credit:
        that credit becomes a refund proposal.
        """
        charged = []
        for event in events:
            for line, account in (
                (event.fee_move_line_id, event.policy_id.fee_account_id),
                (event.interest_move_line_id, event.policy_id.interest_account_id or event.policy_id.fee_account_id),
            ):
                if line and line.parent_state == "posted":
                    charged.append((event, line, account or event.company_id.income_account_id))
        if not charged:
            return self.env["nordic.dunning.refund"]
        by_entry = defaultdict(list)
        for item in charged:
            by_entry[item[1].move_id].append(item)
        vals_list, keys = [], []
        today = fields.Date.context_today(self)
        for entry, items in by_entry.items():
            lines, income = [], defaultdict(float)
            for _event, line, account in items:
                lines.append(
                    (
                        0,
                        0,
                        {
                            "account_id": line.account_id.id,
                            "partner_id": line.partner_id.id,
                            "name": _("Cancelled: %s", line.name),
                            "credit": line.debit,
                            "amount_currency": -line.amount_currency,
                            "currency_id": line.currency_id.id,
                        },
                    )
                )
                income[(account.id, line.currency_id.id)] += line.amount_currency
            keys.append([(event, line) for event, line, _account in items])
            for (account_id, currency_id), amount in income.items():
                lines.append(
                    (
                        0,
                        0,
                        {
                            "account_id": account_id,
                            "name": _("Cancelled dunning charges: %s", self.reason),
                            "amount_currency": amount,
                            "currency_id": currency_id,
                        },
                    )
                )
            vals_list.append(
                {
                    "move_type": "entry",
                    "journal_id": entry.journal_id.id,
                    "date": today,
                    "ref": _("Reversal of %(entry)s: %(reason)s", entry=entry.name, reason=self.reason),
                    "line_ids": lines,
                }
            )
        reversals = self.env["account.move"].create(vals_list)
        reversals.action_post()
        pairs = []
        for reversal_move, items in zip(reversals, keys, strict=True):
            receivable = reversal_move.line_ids.filtered(
                lambda line: line.account_id.account_type == "asset_receivable"
            )
            pairs += list(zip(items, receivable.sorted("id"), strict=True))
        plan = [original | reversal for (_event, original), reversal in pairs if not original.reconciled]
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)
        return self.env["nordic.dunning.refund"].create(
            [
                {
                    "company_id": event.company_id.id,
                    "partner_id": reversal.partner_id.id,
                    "currency_id": reversal.currency_id.id,
                    "amount": -reversal.amount_residual_currency,
                    "source": "fee",
                    "event_id": event.id,
                    "move_id": event.move_id.id,
                    "move_line_id": reversal.id,
                    "note": _("Paid %s", original.name),
                }
                for (event, original), reversal in pairs
                if reversal.currency_id.compare_amounts(reversal.amount_residual_currency, 0.0) < 0
            ]
        )

    def _rollback_invoices(self, moves):
        """Level, dates and state of each invoice back to its last measure that was not cancelled."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT DISTINCT ON (e.move_id) e.move_id, rl.level_id, e.date, l.kind
              FROM nordic_dunning_event e
              JOIN nordic_dunning_run_line rl ON rl.id = e.line_id
              JOIN nordic_dunning_level l ON l.id = rl.level_id
             WHERE e.move_id = ANY(%s) AND e.state = 'done'
             ORDER BY e.move_id, e.date DESC, e.id DESC
            """,
            [moves.ids],
        )
        last = {move_id: (level_id, day, kind) for move_id, level_id, day, kind in self.env.cr.fetchall()}
        rows = []
        for move in moves:
            level_id, day, kind = last.get(move.id, (None, None, None))
            state = "none" if not level_id else ("handed_over" if kind == "handover" else "in_dunning")
            rows.append((move.id, level_id, day, state))
        execute_values(
            self.env.cr,
            """
            UPDATE nordic_dunning_status s
               SET level_id = v.level_id::int,
                   last_date = v.day::date,
                   state = v.state
              FROM (VALUES %s) AS v(id, level_id, day, state)
             WHERE s.move_id = v.id
            """,
            rows,
            page_size=5000,
        )
        self.env["nordic.dunning.status"]._invalidate_written(["level_id", "last_date", "state"])
        moves.modified(["nordic_dunning_state"])
        moves._nordic_dunning_schedule()
        body = _("Dunning measures cancelled: %s", self.reason)
        moves._message_log_batch(bodies={move.id: body for move in moves})

    def _send_apology(self, partners):
        """E-mail the apology to the affected customers; never from a test database. Returns a note."""
        if not self.send_apology or not self.mail_template_id:
            return ""
        if self.env["nordic.dunning.run"]._nordic_is_test_database():
            return _("Test database: the apology to %s customer(s) was withheld.", len(partners))
        recipients = partners.filtered("email")
        self.mail_template_id.with_context(nordic_cancel_reason=self.reason).send_mail_batch(recipients.ids)
        body = _("Apology for cancelled dunning measures e-mailed: %s", self.reason)
        recipients._message_log_batch(bodies={partner.id: body for partner in recipients})
        return _("Apology e-mailed to %s customer(s).", len(recipients))
