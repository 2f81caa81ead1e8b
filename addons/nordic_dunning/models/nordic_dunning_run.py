import logging
import statistics
import threading
from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytz
from psycopg2 import errors as pg_errors

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, float_round, str2bool

from ..tools.calendar import add_delay, next_weekday
from ..tools.interest import late_interest, quantize_interest, rate_days, rate_on
from ..tools.sql import array_literal, execute_values

_logger = logging.getLogger(__name__)

BATCH = 5000
# A run of at least this many lines refreshes the lines table's statistics (see _generate_lines).
ANALYZE_MIN_LINES = 2000
# Charges booked per journal entry (see _charge_fees).
FEE_ENTRY_LINES = 1000
TIMEZONES = {"SE": "Europe/Stockholm", "NO": "Europe/Oslo", "DK": "Europe/Copenhagen", "FI": "Europe/Helsinki"}


class NordicDunningRun(models.Model):
    """A reviewable batch of dunning measures for one policy, built from one selection query."""

    _name = "nordic.dunning.run"
    _description = "Dunning run"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, default="/", copy=False)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    policy_id = fields.Many2one("nordic.dunning.policy", required=True, check_company=True, tracking=True)
    date = fields.Date(
        "Dunning date",
        required=True,
        default=fields.Date.context_today,
        tracking=True,
        help="Invoices whose next dunning date is on or before this date are proposed.",
    )
    state = fields.Selection(
        [
            ("draft", "To review"),
            ("to_approve", "Needs approval"),
            ("done", "Confirmed"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        tracking=True,
        index=True,
    )
    scheduled_confirm_at = fields.Datetime(
        "Confirms automatically at", tracking=True, help="Unless stopped, the run is confirmed at this moment."
    )
    line_ids = fields.One2many("nordic.dunning.run.line", "run_id", string="Lines")
    event_ids = fields.Many2many("nordic.dunning.event", string="Events", compute="_compute_event_ids")
    unsent_move_ids = fields.Many2many(
        "account.move",
        "nordic_dunning_run_unsent_rel",
        "run_id",
        "move_id",
        string="Overdue but never sent",
        help="Overdue invoices left out because nothing proves the invoice itself reached the customer.",
    )
    fee_move_ids = fields.Many2many(
        "account.move",
        "nordic_dunning_run_fee_move_rel",
        "run_id",
        "move_id",
        string="Fee entries",
        readonly=True,
        copy=False,
    )
    letter_attachment_id = fields.Many2one("ir.attachment", "Letters (PDF)", readonly=True, copy=False)
    confirm_user_id = fields.Many2one("res.users", "Confirmed by", readonly=True, copy=False)
    confirm_date = fields.Datetime("Confirmed on", readonly=True, copy=False)
    anomaly_note = fields.Text("Why it needs approval", readonly=True, copy=False)
    approved_user_id = fields.Many2one("res.users", "Approved by", readonly=True, copy=False, tracking=True)
    approved_date = fields.Datetime("Approved on", readonly=True, copy=False)
    cancel_reason = fields.Char(readonly=True, copy=False, tracking=True)
    withheld_note = fields.Text(
        "Withheld (test database)",
        readonly=True,
        copy=False,
        help="What a neutralized database did not send to customers.",
    )
    line_count = fields.Integer(compute="_compute_counts")
    event_count = fields.Integer(compute="_compute_counts")
    unsent_count = fields.Integer(compute="_compute_counts")
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_residual = fields.Monetary("Open amount", compute="_compute_counts")
    fee_total = fields.Monetary("Fees", compute="_compute_counts")

    def _compute_counts(self):
        lines = {
            (run, state): (count, residual, fee)
            for run, state, count, residual, fee in self.env["nordic.dunning.run.line"]._read_group(
                [("run_id", "in", self.ids)],
                ["run_id", "decision"],
                ["__count", "amount_residual:sum", "fee_amount:sum"],
            )
        }
        events = self._events_by_run("COUNT(*)")
        for run in self:
            # Proposed lines: still to execute, or executed once the run is confirmed.
            run.line_count, run.amount_residual, run.fee_total = lines.get((run, "proposed"), (0, 0.0, 0.0))
            run.event_count = events.get(run._origin.id, 0)
            run.unsent_count = len(run.unsent_move_ids)

    def _compute_event_ids(self):
        by_run = self._events_by_run("ARRAY_AGG(e.id ORDER BY e.id)")
        for run in self:
            run.event_ids = self.env["nordic.dunning.event"].browse(by_run.get(run._origin.id, []))

    def _events_by_run(self, aggregate):
        """{run id: ``aggregate`` of its events} (``COUNT(*)``, ``ARRAY_AGG(e.id ...)``), through the lines."""
        run_ids = [run_id for run_id in self._origin.ids if run_id]
        if not run_ids:
            return {}
        self.env["nordic.dunning.event"].flush_model(["line_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT l.run_id, %s
                  FROM nordic_dunning_event e
                  JOIN nordic_dunning_run_line l ON l.id = e.line_id
                 WHERE l.run_id = ANY(%s)
                 GROUP BY l.run_id
                """,
                SQL(aggregate),  # a constant of the callers
                run_ids,
            )
        )
        return dict(self.env.cr.fetchall())

    @api.ondelete(at_uninstall=False)
    def _unlink_except_confirmed(self):
        if any(run.confirm_date for run in self):
            raise UserError(_("A confirmed run is part of the audit trail; cancel its measures instead."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("nordic.dunning.run") or "/"
        return super().create(vals_list)

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_generate(self):
        """(Re)build the proposal of draft runs."""
        for run in self:
            if run.state != "draft":
                raise UserError(_("Only a run under review can be rebuilt."))
            run._lock()
            run.line_ids.unlink()
            run.unsent_move_ids = [(5,)]
            run._generate_lines()
            run._guard()
        return True

    def action_confirm(self):
        """Execute the run: events, fees, letters and e-mails, next dates."""
        for run in self:
            run._lock()
            if run.state == "to_approve":
                raise UserError(_("Run %s is held for approval: a Dunning manager must approve it first.", run.name))
            if run.state != "draft":
                raise UserError(_("Run %s is not waiting for confirmation.", run.name))
            run._execute()
        return True

    def action_approve(self):
        """A Dunning manager accepts a held run: it goes back to review and can then be confirmed."""
        if not self.env.user.has_group("nordic_dunning.group_nordic_dunning_manager"):
            raise UserError(_("Only a Dunning manager can approve a held run."))
        for run in self:
            if run.state != "to_approve":
                raise UserError(_("Run %s is not waiting for approval.", run.name))
            run.write(
                {
                    "state": "draft",
                    "approved_user_id": self.env.uid,
                    "approved_date": fields.Datetime.now(),
                    "scheduled_confirm_at": run._next_confirm_moment(),
                }
            )
            run.message_post(body=_("Approved despite: %s", run.anomaly_note or "-"))
        return True

    def action_open_cancel_wizard(self):
        """Cancel with a reason: a run under review is dropped, a confirmed one is mass-cancelled."""
        return {
            "type": "ir.actions.act_window",
            "name": _("Cancel dunning"),
            "res_model": "nordic.dunning.cancel",
            "view_mode": "form",
            "target": "new",
            "context": {"default_run_id": self.id if len(self) == 1 else False},
        }

    def action_cancel(self):
        for run in self:
            if run.state not in ("draft", "to_approve"):
                raise UserError(_("A confirmed run is cancelled with the mass cancellation, not here."))
        self.write({"state": "cancelled", "scheduled_confirm_at": False})
        return True

    @api.model
    def action_build_now(self):
        """Menu button: build today's runs for the selected companies and open them."""
        policies = self.env["nordic.dunning.policy"].search([("company_id", "in", self.env.companies.ids)])
        runs = self.browse()
        for company in policies.company_id:
            own = policies.filtered(lambda p, company=company: p.company_id == company)
            runs |= self.with_company(company)._build_for_policies(own)
        action = self.env["ir.actions.act_window"]._for_xml_id("nordic_dunning.action_nordic_dunning_run")
        action["domain"] = [("id", "in", runs.ids)]
        action["context"] = {}
        if not runs:
            action["help"] = _("<p>No invoice is due for a dunning level today.</p>")
        return action

    def action_view_lines(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Lines of %s", self.name),
            "res_model": "nordic.dunning.run.line",
            "view_mode": "list,form",
            "domain": [("run_id", "=", self.id)],
        }

    def action_view_events(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Events of %s", self.name),
            "res_model": "nordic.dunning.event",
            "view_mode": "list,form",
            "domain": [("run_id", "=", self.id)],
        }

    def action_print_letters(self):
        self.ensure_one()
        events = self.event_ids.filtered("channel_letter")
        if not events:
            raise UserError(_("No letter in this run."))
        return self.env.ref("nordic_dunning.action_report_dunning_letter").report_action(events)

    # ------------------------------------------------------------------
    # Building
    # ------------------------------------------------------------------

    def _lock(self):
        """Row lock so two users (or a user and the cron) never execute the same run."""
        try:
            self.env.cr.execute("SELECT id FROM nordic_dunning_run WHERE id = %s FOR UPDATE NOWAIT", [self.id])
        except pg_errors.LockNotAvailable as err:
            raise UserError(_("Run %s is being processed by someone else; try again in a moment.", self.name)) from err
        self.invalidate_recordset(["state"])

    @api.model
    def _build_for_policies(self, policies, day=None):
        """Create one run per policy that has invoices due for a level on ``day``; return the runs."""
        runs = self.browse()
        for policy in policies:
            run = self.create(
                {
                    "company_id": policy.company_id.id,
                    "policy_id": policy.id,
                    "date": day or fields.Date.context_today(self),
                }
            )
            run._generate_lines()
            if not run._has_lines() and not run.unsent_move_ids:
                run.unlink()
                continue
            run._guard()
            runs |= run
        return runs

    def _has_lines(self):
        """Whether the run has any line (without reading a 100k-line run's lines)."""
        self.ensure_one()
        return bool(self.env["nordic.dunning.run.line"].search_count([("run_id", "=", self.id)], limit=1))

    def _select_candidates(self):
        """One query: every open, posted customer invoice of the policy due for its next level."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT m.id, m.currency_id, s.next_level_id,
                   m.amount_residual - COALESCE(m.nordic_disputed_amount, 0), m.amount_total,
                   m.invoice_date_due, m.invoice_date,
                   m.nordic_is_sent, s.level_id IS NULL, p.nordic_fee_agreed,
                   p.nordic_fee_agreed_date, COALESCE(m.nordic_disputed_amount, 0)
              FROM nordic_dunning_status s
              JOIN account_move m ON m.id = s.move_id
              JOIN res_partner p ON p.id = m.commercial_partner_id
             WHERE s.policy_id = %(policy)s
               AND s.is_open
               AND s.next_date IS NOT NULL
               AND s.next_date <= %(day)s
               AND s.next_level_id IS NOT NULL
               AND m.company_id = ANY(%(companies)s)
               AND m.move_type = 'out_invoice'
               AND m.state = 'posted'
               AND m.payment_state IN ('not_paid', 'partial')
               AND m.amount_residual - COALESCE(m.nordic_disputed_amount, 0) >= %(min_amount)s
               AND m.amount_residual - COALESCE(m.nordic_disputed_amount, 0) > 0
               AND NOT COALESCE(m.nordic_dunning_excluded, FALSE)
               AND NOT COALESCE(p.nordic_dunning_excluded, FALSE)
               AND NOT EXISTS (
                    SELECT 1 FROM nordic_dunning_run_line l
                      JOIN nordic_dunning_run r ON r.id = l.run_id
                     WHERE l.move_id = m.id AND l.decision = 'proposed'
                       AND r.state IN ('draft', 'to_approve') AND r.id != %(run)s)
             ORDER BY m.commercial_partner_id, m.id
            """,
            {
                "companies": self.policy_id._get_companies().ids,
                "day": self.date,
                "policy": self.policy_id.id,
                "min_amount": self.policy_id.min_amount or 0.0,
                "run": self.id,
            },
        )
        # Only what the charges and the lines need: a run may fetch 100k rows.
        return self._fetch_dicts(
            "move_id currency_id level_id residual total due invoice_date sent first fee_agreed "
            "fee_agreed_date disputed"
        )

    def _fetch_dicts(self, columns):
        """The cursor's rows as dicts keyed by the space-separated ``columns`` names."""
        names = columns.split()
        return [dict(zip(names, row)) for row in self.env.cr.fetchall()]

    def _generate_lines(self):
        self.ensure_one()
        candidates = self._select_candidates()
        unsent = [c["move_id"] for c in candidates if not c["sent"]]
        lines = [c for c in candidates if c["sent"]]
        charges = self._compute_charges(lines, self.date)
        # One statement from columns (arrays), not rows: a run may hold 100k lines.
        if lines:
            self.env.cr.execute(
                """
                INSERT INTO nordic_dunning_run_line
                    (run_id, move_id, level_id, amount_residual, fee_amount, interest_amount, first_measure, decision)
                SELECT %s, u.move_id, u.level_id, u.residual, u.fee, u.interest, u.first, 'proposed'
                  FROM unnest(%s::int[], %s::int[], %s::numeric[], %s::numeric[], %s::numeric[], %s::bool[])
                       AS u(move_id, level_id, residual, fee, interest, first)
                """,
                [
                    self.id,
                    array_literal(c["move_id"] for c in lines),
                    array_literal(c["level_id"] for c in lines),
                    array_literal(c["residual"] for c in lines),
                    array_literal(charges[c["move_id"]][0] for c in lines),
                    array_literal(charges[c["move_id"]][1] for c in lines),
                    array_literal(c["first"] for c in lines),
                ],
            )
        if len(lines) >= ANALYZE_MIN_LINES:
            self._analyze_lines()
        if unsent:
            execute_values(
                self.env.cr,
                "INSERT INTO nordic_dunning_run_unsent_rel (run_id, move_id) VALUES %s ON CONFLICT DO NOTHING",
                [(self.id, move_id) for move_id in unsent],
                page_size=BATCH,
            )
        self.invalidate_recordset(["line_ids", "unsent_move_ids"])

    def _analyze_lines(self):
        """Refresh the planner's statistics of the lines table after a large insert.

        Until autovacuum comes by they would describe the table without these lines, and the review and
        the confirmation query this run's lines by the thousand. ANALYZE holds a lock that another ANALYZE
        (a concurrent build, autovacuum) waits for until this transaction ends: when one is already
        running it is skipped rather than waited for.
        """
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute("SET LOCAL lock_timeout = '50ms'")
                self.env.cr.execute("ANALYZE nordic_dunning_run_line")
                self.env.cr.execute("SET LOCAL lock_timeout = DEFAULT")
        except pg_errors.LockNotAvailable:
            _logger.info("Lines' statistics not refreshed: another ANALYZE is running.")

    def _compute_charges(self, rows, day):
        """{move_id: (fee, interest, interest_rate)} for candidate rows on ``day``, with a few batch queries.

        Plain data in the loop (it runs for every invoice of a run): level settings are read once, and
        the interest of an amount that stayed constant comes from a rate-days sum cached per start date.
        """
        if not rows:
            return {}
        policy = self.policy_id
        country = policy.country_code
        move_ids = [r["move_id"] for r in rows]
        levels = {
            vals["id"]: dict(vals, country=country)
            for vals in policy.level_ids.read(["fee_rule", "kind", "fee_amount", "interest"], load=None)
        }
        payments = self._payments_by_move(move_ids)
        prior = self._prior_events_by_move(move_ids)
        periods = (
            self.env["nordic.dunning.rate"]._late_interest_periods(country) if policy.interest_mode != "none" else []
        )
        rate_today = rate_on(periods, day) or 0.0
        dec_periods = [(d, Decimal(str(v))) for d, v in periods]
        rate_days_cache = {}
        fee_cache = {}
        company_currency = self.company_id.currency_id
        company_currency_id = company_currency.id
        currencies = {c.id: c for c in self.env["res.currency"].browse({r["currency_id"] for r in rows})}
        # Plain values for the loop: a field read per row would cost more than the computation.
        float_roundings = {cid: c.rounding for cid, c in currencies.items()}
        roundings = {cid: Decimal(str(rounding)) for cid, rounding in float_roundings.items()}
        charge_mode = policy.interest_mode == "charge"
        result = {}
        for row in rows:
            move_id = row["move_id"]
            level = levels.get(row["level_id"])
            move_prior = prior.get(move_id, ())
            currency_id = row["currency_id"]
            fee = self._fee_for(level, row, day, move_prior, fee_cache) if level else 0.0
            if fee:
                if currency_id != company_currency_id:
                    fee = company_currency._convert(fee, currencies[currency_id], self.company_id, day)
                fee = float_round(fee, precision_rounding=float_roundings[currency_id])
            interest = 0.0
            if level and level["interest"] and periods:
                charged = [e for e in move_prior if e["interest_charged"]] if charge_mode and move_prior else ()
                start = max(row["due"], charged[-1]["date"]) if charged else row["due"]
                base = Decimal(str(row["total"]))
                if row.get("disputed"):
                    # A partial dispute pauses dunning for the disputed part: interest on the remainder only.
                    base -= Decimal(str(row["disputed"]))
                paid = payments.get(move_id)
                after = None
                if paid:
                    base -= sum((Decimal(str(a)) for d, a in paid if d <= start), Decimal(0))
                    after = [(d, Decimal(str(a))) for d, a in paid if d > start]
                if after:
                    amount = late_interest(base, start, day, dec_periods, after, precision=roundings[currency_id])
                else:
                    if start not in rate_days_cache:
                        rate_days_cache[start] = rate_days(start, day, dec_periods)
                    amount = quantize_interest(base, rate_days_cache[start], precision=roundings[currency_id])
                interest = float(amount)
            result[move_id] = (fee, interest, rate_today)
        return result

    def _fee_for(self, level, row, day, prior, cache):
        """The fee the law and the policy allow for this measure (0 when none may be charged)."""
        if level["fee_rule"] == "none" or level["kind"] == "handover":
            return 0.0
        country = level["country"]
        if country == "SE":
            # Lag (1981:739) 2 §: only when agreed no later than when the debt arose.
            arose = row["invoice_date"] or row["due"]
            if not (row["fee_agreed"] and row["fee_agreed_date"] and row["fee_agreed_date"] <= arose):
                return 0.0
            cap_type = "reminder_fee_cap" if level["kind"] == "reminder" else "collection_fee_cap"
            key = ("SE", cap_type, day)
            if key not in cache:
                cache[key] = self.env["nordic.dunning.rate"]._get_value("SE", cap_type, day, raise_if_missing=False)
            cap = cache[key]
            return min(level["fee_amount"], cap) if cap is not None else level["fee_amount"]
        if country == "NO":
            key = ("NO", "inkassosats", day)
            if key not in cache:
                cache[key] = self.env["nordic.dunning.rate"]._get_value("NO", "inkassosats", day)
            max_fee = cache[key] / 20.0
            fee = max_fee if level["fee_rule"] == "no_reminder" else min(level["fee_amount"], max_fee)
            # Inkassoforskriften § 1-2: only for a reminder sent at least 14 days after the due date.
            if (day - row["due"]).days < 14:
                return 0.0
            # § 1-3: at most two fee-bearing reminders, the second only once the first one's
            # 14-day deadline has passed.
            charged = [e for e in prior if e["fee"] > 0]
            if len(charged) >= 2:
                return 0.0
            if charged and (day - charged[-1]["date"]).days < 14:
                return 0.0
            return fee
        return level["fee_amount"]

    def _payments_by_move(self, move_ids):
        """{move_id: [(date, amount)]}: what reduced each invoice's receivable, by date."""
        self.env.cr.execute(
            """
            SELECT aml.move_id, apr.max_date, SUM(apr.debit_amount_currency)
              FROM account_move_line aml
              JOIN account_partial_reconcile apr ON apr.debit_move_id = aml.id
             WHERE aml.move_id = ANY(%s::int[]) AND aml.display_type = 'payment_term'
             GROUP BY aml.move_id, apr.max_date
             ORDER BY apr.max_date
            """,
            [array_literal(move_ids)],
        )
        result = defaultdict(list)
        for move_id, day, amount in self.env.cr.fetchall():
            result[move_id].append((day, amount))
        return result

    def _prior_events_by_move(self, move_ids):
        """{move_id: [event dict]} of the earlier, not cancelled measures, oldest first."""
        self.env.cr.execute(
            """
            SELECT move_id, date, fee_amount, interest_charged
              FROM nordic_dunning_event
             WHERE move_id = ANY(%s::int[]) AND state = 'done'
             ORDER BY date, id
            """,
            [array_literal(move_ids)],
        )
        result = defaultdict(list)
        for move_id, day, fee, interest_charged in self.env.cr.fetchall():
            result[move_id].append({"date": day, "fee": fee or 0.0, "interest_charged": interest_charged})
        return result

    def _guard(self):
        """Hold the run for a manager's approval when it looks out of line (see _anomalies)."""
        self.ensure_one()
        reasons = self._anomalies()
        if reasons:
            self.write(
                {
                    "state": "to_approve",
                    "anomaly_note": "\n".join(reasons),
                    "scheduled_confirm_at": False,
                    "approved_user_id": False,
                    "approved_date": False,
                }
            )
            self.message_post(body=_("Held for approval: %s", "; ".join(reasons)))
        else:
            self.scheduled_confirm_at = self._next_confirm_moment()
        self._schedule_review()

    def _schedule_review(self):
        """Tell the policy's responsible that a run waits (seed 004: the list comes by e-mail)."""
        user = self.policy_id.user_id
        if not user or not self._has_lines():
            return
        if self.state == "to_approve":
            summary = _("Dunning run held for approval")
        elif self.scheduled_confirm_at:
            summary = _(
                "Review the dunning run: confirms itself at %s unless stopped",
                fields.Datetime.context_timestamp(self.with_user(user), self.scheduled_confirm_at).strftime(
                    "%Y-%m-%d %H:%M"
                ),
            )
        else:
            summary = _("Review and confirm the dunning run")
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            date_deadline=fields.Datetime.to_datetime(self.scheduled_confirm_at).date()
            if self.scheduled_confirm_at
            else self.date,
            summary=summary,
            user_id=user.id,
        )

    def _anomalies(self):
        """Reasons to hold this run (seed 003): out of line with the company's thresholds or the policy's history.

        Thresholds are company settings; 0 disables a rule. Three queries whatever the run's size.
        """
        self.ensure_one()
        company = self.company_id
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT COUNT(*), COUNT(*) FILTER (WHERE l.first_measure),
                   COUNT(*) FILTER (WHERE m.invoice_date > %(day)s), MAX(ABS(m.amount_total_signed))
              FROM nordic_dunning_run_line l
              JOIN account_move m ON m.id = l.move_id
             WHERE l.run_id = %(run)s AND l.decision = 'proposed'
            """,
            {"run": self.id, "day": self.date},
        )
        count, first, future, largest = self.env.cr.fetchone()
        reasons = []
        if not count:
            return reasons
        if company.nordic_anomaly_max_lines and count > company.nordic_anomaly_max_lines:
            reasons.append(
                _(
                    "%(count)s lines, more than the limit of %(limit)s.",
                    count=count,
                    limit=company.nordic_anomaly_max_lines,
                )
            )
        if future:
            reasons.append(_("%(count)s invoice(s) dated after the run date %(day)s.", count=future, day=self.date))
        checked = count >= (company.nordic_anomaly_min_lines or 0)
        history = self._anomaly_history() if checked else []
        factor = company.nordic_anomaly_median_factor
        if factor and len(history) >= 3:
            median = statistics.median(lines for lines, _first in history)
            if count > factor * median:
                reasons.append(
                    _(
                        "%(count)s lines, more than %(factor)s times the usual %(median)s of recent runs.",
                        count=count,
                        factor=factor,
                        median=median,
                    )
                )
        share = company.nordic_anomaly_first_share
        if share and history and 100.0 * first / count >= share:
            past_lines = sum(lines for lines, _first in history)
            past_first = sum(first_ for _lines, first_ in history)
            if past_lines and 100.0 * past_first / past_lines < share:
                reasons.append(
                    _(
                        "%(pct)s%% of the invoices never had a measure before (usually %(usual)s%%).",
                        pct=round(100.0 * first / count),
                        usual=round(100.0 * past_first / past_lines),
                    )
                )
        amount_factor = company.nordic_anomaly_amount_factor
        if amount_factor and largest:
            median_amount = self._anomaly_median_amount()
            if median_amount and largest > amount_factor * median_amount:
                reasons.append(
                    _(
                        "An invoice of %(amount)s, more than %(factor)s times the usual %(median)s.",
                        amount=largest,
                        factor=amount_factor,
                        median=median_amount,
                    )
                )
        return reasons

    def _anomaly_history(self):
        """[(lines, first measures)] of the policy's recent confirmed runs, newest first."""
        self.env.cr.execute(
            """
            SELECT COUNT(l.id), COUNT(l.id) FILTER (WHERE l.first_measure)
              FROM nordic_dunning_run r
              LEFT JOIN nordic_dunning_run_line l ON l.run_id = r.id AND l.decision = 'proposed'
             WHERE r.policy_id = %s AND r.state = 'done' AND r.id != %s
             GROUP BY r.id
             ORDER BY MAX(r.date) DESC, r.id DESC
             LIMIT %s
            """,
            [self.policy_id.id, self.id, self.company_id.nordic_anomaly_history_runs or 10],
        )
        return self.env.cr.fetchall()

    def _anomaly_median_amount(self):
        """Median amount (company currency) of the company's customer invoices of the last year; None if too few."""
        self.env.cr.execute(
            """
            SELECT COUNT(*), PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY ABS(amount_total_signed))
              FROM account_move
             WHERE company_id = %s AND move_type = 'out_invoice' AND state = 'posted'
               AND invoice_date > %s - 365 AND invoice_date <= %s
            """,
            [self.company_id.id, self.date, self.date],
        )
        count, median = self.env.cr.fetchone()
        return median if count >= 10 else None

    def _next_confirm_moment(self):
        """Naive UTC datetime of the policy's next automatic confirmation, or False for manual runs."""
        policy = self.policy_id
        if policy.confirm_mode != "scheduled":
            return False
        tz = pytz.timezone(self.company_id.partner_id.tz or TIMEZONES.get(policy.country_code, "UTC"))
        now_local = pytz.utc.localize(fields.Datetime.now()).astimezone(tz)
        start = max(now_local.date(), self.date)
        day = next_weekday(start, int(policy.confirm_weekday or 3))
        hours = int(policy.confirm_hour)
        minutes = round((policy.confirm_hour - hours) * 60)
        moment = tz.localize(datetime.combine(day, time(hours, minutes)))
        if moment <= now_local:
            moment = tz.localize(datetime.combine(day + timedelta(days=7), time(hours, minutes)))
        return moment.astimezone(pytz.utc).replace(tzinfo=None)

    # ------------------------------------------------------------------
    # Execution
    # ------------------------------------------------------------------

    def _execute(self):
        """Set-based: a handful of statements whatever the number of lines; no line travels through Python
        except those whose amounts must be recomputed."""
        self.ensure_one()
        day = self.date
        self.env.flush_all()
        flagged = self._flag_lines(day)
        self._skip_settled([row for row in flagged if row["reason"]])
        kept = [row for row in flagged if not row["reason"]]
        self._check_proof_of_sending(kept)
        # The events' author and time (they keep no log of their own).
        self.write({"confirm_user_id": self.env.uid, "confirm_date": fields.Datetime.now()})
        overrides = self._execution_overrides([row for row in kept if row["changed"]], day)
        # The statuses move first, while the lines to execute are still the proposed ones.
        self._advance_invoices(day)
        events = self._create_events(overrides, day)
        self._charge_fees(events)
        self._handover(events.search([("line_id.run_id", "=", self.id), ("kind", "=", "handover")]))
        self._communicate(events)
        self.write(
            {
                "state": "done",
                "scheduled_confirm_at": False,
            }
        )
        self.env["nordic.dunning.run.line"].invalidate_model(["state"])
        # One chatter entry: the review's to-do marked done with the outcome, or a log entry without one.
        summary = _("Confirmed: %(count)s measures taken.", count=len(events))
        if self.activity_ids:
            self.activity_ids.action_feedback(feedback=summary)
        else:
            self._message_log(body=summary)
        return events

    def _flag_lines(self, day):
        """One pass over the proposed lines: those that need more than executing as reviewed.

        A line is flagged when its invoice was paid, excluded, disputed or dunned elsewhere since the run
        was built (``reason``), has no proof of sending (``not_sent``), is younger than the policy's
        minimum age (``young``), or its open amount changed since the review (``changed``). Open and
        disputed amounts are stored rounded to the currency (exact numerics), so "nothing left to dun" is
        a plain comparison with zero. Usually only a handful of rows come back.
        """
        self.env.cr.execute(
            """
            SELECT * FROM (
                SELECT l.id, m.name,
                       CASE WHEN NOT (m.state = 'posted' AND m.payment_state IN ('not_paid', 'partial')) THEN 'paid'
                            WHEN COALESCE(m.nordic_dunning_excluded, FALSE)
                                 OR COALESCE(p.nordic_dunning_excluded, FALSE) THEN 'excluded'
                            WHEN m.amount_residual - COALESCE(m.nordic_disputed_amount, 0) <= 0 THEN 'disputed'
                            WHEN s.next_level_id IS DISTINCT FROM l.level_id THEN 'elsewhere'
                       END AS reason,
                       NOT COALESCE(m.nordic_is_sent, FALSE) AS not_sent,
                       m.invoice_date_due IS NULL OR %(day)s - m.invoice_date_due < %(min_age)s AS young,
                       ABS(l.amount_residual - (m.amount_residual - COALESCE(m.nordic_disputed_amount, 0)))
                           >= 0.0000005 AS changed,
                       l.move_id, m.currency_id, l.level_id,
                       m.amount_residual - COALESCE(m.nordic_disputed_amount, 0), m.amount_total,
                       COALESCE(m.nordic_disputed_amount, 0), m.invoice_date_due, m.invoice_date,
                       p.nordic_fee_agreed, p.nordic_fee_agreed_date
                  FROM nordic_dunning_run_line l
                  JOIN account_move m ON m.id = l.move_id
                  JOIN res_partner p ON p.id = m.commercial_partner_id
                  LEFT JOIN nordic_dunning_status s ON s.move_id = m.id
                 WHERE l.run_id = %(run)s AND l.decision = 'proposed'
            ) v
             WHERE reason IS NOT NULL OR not_sent OR young OR changed
             ORDER BY id
            """,
            {"run": self.id, "day": day, "min_age": self.policy_id.min_invoice_age or 0},
        )
        return self._fetch_dicts(
            "id name reason not_sent young changed move_id currency_id level_id residual total disputed "
            "due invoice_date fee_agreed fee_agreed_date"
        )

    def _skip_settled(self, rows):
        """Skip the lines whose invoice was settled otherwise since the run was built; the note says why."""
        reasons = {
            "paid": _("Paid or cancelled since the run was built."),
            "excluded": _("Excluded from dunning since the run was built."),
            "disputed": _("Disputed since the run was built."),
            "elsewhere": _("Dunned elsewhere since the run was built."),
        }
        by_reason = defaultdict(list)
        for row in rows:
            by_reason[row["reason"]].append(row["id"])
        for reason, line_ids in by_reason.items():
            self.env.cr.execute(
                "UPDATE nordic_dunning_run_line SET decision = 'skipped', note = %s WHERE id = ANY(%s)",
                [reasons[reason], line_ids],
            )
        if by_reason:
            self.env["nordic.dunning.run.line"].invalidate_model(["decision", "note"])

    def _check_proof_of_sending(self, rows):
        """Seed 000: no measure at all for an invoice that was never sent, nor before the policy's minimum age.

        Applies to every level, also to a policy with zero reminders (straight to collection). All or nothing.
        """
        unsent = [row["name"] for row in rows if row["not_sent"]]
        if unsent:
            raise UserError(
                _(
                    "Nothing was done: these invoices have no proof that they were ever sent to the customer "
                    "(send them from Odoo or attest that they were sent outside Odoo):\n%s",
                    "\n".join(unsent),
                )
            )
        young = [row["name"] for row in rows if row["young"]]
        if young:
            raise UserError(
                _(
                    "Nothing was done: these invoices are not yet %(days)s days past their due date, the minimum "
                    "of policy %(policy)s:\n%(names)s",
                    days=self.policy_id.min_invoice_age or 0,
                    policy=self.policy_id.name,
                    names="\n".join(young),
                )
            )

    def _execution_overrides(self, changed, day):
        """{move_id: (fee, interest)} recomputed for the invoices whose open amount changed since the run
        was built (a partial payment, a dispute); the other lines are executed with their reviewed amounts."""
        return {move_id: values[:2] for move_id, values in self._compute_charges(changed, day).items()}

    def _create_events(self, overrides, day):
        """Insert the events of the proposed lines (one statement). The lines are not written: a proposed
        line of a confirmed run is done (``nordic.dunning.run.line.state``).

        Amounts are the lines' reviewed ones, except the ``overrides`` {move_id: (fee, interest)}; the
        open principal is the invoice's at execution.
        """
        policy = self.policy_id
        country = policy.country_code
        levels = [
            (
                vals["id"],
                vals["sequence"],
                vals["kind"],
                add_delay(day, vals["payment_term_days"] or 0, "days", country),
                vals["channel_email"],
                vals["channel_letter"],
                vals["channel_call"],
            )
            for vals in policy.level_ids.read(
                ["sequence", "kind", "payment_term_days", "channel_email", "channel_letter", "channel_call"], load=None
            )
        ]
        if not levels:
            return self.env["nordic.dunning.event"]
        periods = self.env["nordic.dunning.rate"]._late_interest_periods(country)
        shows_interest = policy.interest_mode != "none"
        rate_today = (rate_on(periods, day) or 0.0) if shows_interest else 0.0
        self.env.cr.execute(
            """
            WITH lv(id, sequence, kind, deadline, email, letter, call) AS MATERIALIZED (
                SELECT * FROM unnest(%(lv_id)s::int[], %(lv_seq)s::int[], %(lv_kind)s::varchar[],
                                     %(lv_deadline)s::date[], %(lv_email)s::bool[], %(lv_letter)s::bool[],
                                     %(lv_call)s::bool[])
            ), ov(move_id, fee, interest) AS MATERIALIZED (
                SELECT * FROM unnest(%(ov_move)s::int[], %(ov_fee)s::numeric[], %(ov_interest)s::numeric[])
            ), src AS (
                SELECT l.id AS line_id, l.move_id, l.level_id,
                       lv.sequence, lv.kind, lv.deadline, lv.email, lv.letter, lv.call,
                       m.amount_residual - COALESCE(m.nordic_disputed_amount, 0) AS residual,
                       COALESCE(ov.fee, l.fee_amount, 0) AS fee,
                       CASE WHEN %(shows)s THEN COALESCE(ov.interest, l.interest_amount, 0) ELSE 0 END AS interest,
                       COALESCE(m.payment_reference, m.name) AS reference
                  FROM nordic_dunning_run_line l
                  JOIN account_move m ON m.id = l.move_id
                  JOIN lv ON lv.id = l.level_id
                  LEFT JOIN ov ON ov.move_id = l.move_id
                 WHERE l.run_id = %(run)s AND l.decision = 'proposed'
            ), ins AS (
                INSERT INTO nordic_dunning_event
                    (move_id, line_id, level_sequence, kind, date, deadline_date,
                     amount_residual, fee_amount, interest_amount, interest_rate, amount_total, payment_reference,
                     channel_email, channel_letter, channel_call, state)
                SELECT move_id, line_id, sequence, kind, %(day)s, deadline,
                       residual, fee, interest, CASE WHEN interest <> 0 THEN %(rate)s ELSE 0 END,
                       residual + fee + interest, reference, email, letter, call, 'done'
                  FROM src
                 ORDER BY line_id
                RETURNING id
            )
            SELECT id FROM ins
            """,
            {
                "lv_id": [lv[0] for lv in levels],
                "lv_seq": [lv[1] for lv in levels],
                "lv_kind": [lv[2] for lv in levels],
                "lv_deadline": [lv[3] for lv in levels],
                "lv_email": [lv[4] for lv in levels],
                "lv_letter": [lv[5] for lv in levels],
                "lv_call": [lv[6] for lv in levels],
                "ov_move": list(overrides),
                "ov_fee": [fee for fee, _interest in overrides.values()],
                "ov_interest": [interest for _fee, interest in overrides.values()],
                "shows": shows_interest,
                "run": self.id,
                "day": day,
                "rate": rate_today,
            },
        )
        event_ids = sorted(r[0] for r in self.env.cr.fetchall())
        self.env["nordic.dunning.run.line"].invalidate_model(["event_id"])
        self.invalidate_recordset(["event_ids"])
        self.env["account.move"].invalidate_model(["nordic_dunning_event_ids"])
        return self.env["nordic.dunning.event"].browse(event_ids)

    def _charge_fees(self, events):
        """Book fees (and interest when the policy charges it): entries of at most FEE_ENTRY_LINES charges.

        One receivable line per event, on the invoice's receivable account and partner, so the
        customer really owes the fee; income lines are summed per account. Fees carry no VAT.
        Odoo creates a journal entry's lines at a cost that grows faster than their number, so a
        run of 10k fees is booked as ten entries rather than one.
        """
        policy = self.policy_id
        charge_interest = policy.interest_mode == "charge"
        # Only the charged events are read (a run of 100k reminders may have no fee at all; interest
        # shown on a reminder is charged only by a policy that charges it).
        self.env.cr.execute(
            """SELECT id, fee_amount > 0, %(interest)s AND interest_amount > 0 FROM nordic_dunning_event
                WHERE id = ANY(%(ids)s::int[]) AND (fee_amount > 0 OR (%(interest)s AND interest_amount > 0))
                ORDER BY id""",
            {"ids": array_literal(events.ids), "interest": charge_interest},
        )
        flags = self.env.cr.fetchall()
        fee_events = events.browse([event_id for event_id, fee, _interest in flags if fee])
        interest_events = events.browse([event_id for event_id, _fee, interest in flags if interest])
        if not fee_events and not interest_events:
            return
        fee_account, interest_account = policy._charge_accounts()
        charges, keys = [], []
        for kind, recs, account in (("fee", fee_events, fee_account), ("interest", interest_events, interest_account)):
            for event in recs:
                charges.append(
                    {
                        "invoice": event.move_id,
                        "amount": event.fee_amount if kind == "fee" else event.interest_amount,
                        "currency": event.currency_id,
                        "account": account,
                        "label": _("Reminder fee %s", event.move_id.name)
                        if kind == "fee"
                        else _("Late interest %s", event.move_id.name),
                        "maturity": event.deadline_date,
                    }
                )
                keys.append((kind, event.id))
        count = -(-len(charges) // FEE_ENTRY_LINES)
        moves = self.env["account.move"]
        links = {"fee": ([], []), "interest": ([], [])}
        for number, start in enumerate(range(0, len(charges), FEE_ENTRY_LINES), 1):
            ref = _("Dunning charges %s", self.name)
            if count > 1:
                ref = f"{ref} ({number}/{count})"
            move, receivable_lines = policy._post_charges(charges[start : start + FEE_ENTRY_LINES], self.date, ref)
            moves |= move
            for (kind, event_id), line in zip(keys[start : start + FEE_ENTRY_LINES], receivable_lines):
                links[kind][0].append(event_id)
                links[kind][1].append(line.id)
        for kind, column in (("fee", "fee_move_line_id"), ("interest", "interest_move_line_id")):
            event_ids, line_ids = links[kind]
            if event_ids:
                # The events' documents, written in one statement (events are otherwise immutable).
                self.env.cr.execute(
                    f"""UPDATE nordic_dunning_event e SET {column} = v.line_id
                          FROM unnest(%s::int[], %s::int[]) AS v(id, line_id) WHERE e.id = v.id""",  # pylint: disable=sql-injection
                    [event_ids, line_ids],
                )
        self.env.cr.execute(
            "UPDATE nordic_dunning_event SET fee_charged = fee_amount > 0,"
            " interest_charged = %s AND interest_amount > 0 WHERE id = ANY(%s)",
            [charge_interest, (fee_events | interest_events).ids],
        )
        events.invalidate_recordset(["fee_charged", "interest_charged", "fee_move_line_id", "interest_move_line_id"])
        self.fee_move_ids = [Command.link(move.id) for move in moves]

    def _advance_invoices(self, day):
        """Level, dates and state of the status of the invoices about to be dunned, then their next level
        and date (called before the lines are executed: the lines still proposed are the ones executed).

        The next date depends only on the next level, the due date and ``day``: it is computed once per
        distinct (level, due date) pair, and the statuses are moved in one statement joining that plan
        to the run's lines.
        """
        levels = {level.id: (level, level._get_next()) for level in self.policy_id.level_ids}
        self.env.cr.execute(
            """
            SELECT DISTINCT l.level_id, m.invoice_date_due
              FROM nordic_dunning_run_line l
              JOIN account_move m ON m.id = l.move_id
             WHERE l.run_id = %s AND l.decision = 'proposed'
            """,
            [self.id],
        )
        plan = []
        for level_id, due in self.env.cr.fetchall():
            level, next_level = levels[level_id]
            plan.append(
                (
                    level_id,
                    due,
                    next_level.id or None,
                    next_level._compute_date(due, day) if next_level else None,
                    "handed_over" if level.kind == "handover" else "in_dunning",
                )
            )
        if not plan:
            return
        # An executed line's invoice has a due date (_check_proof_of_sending refuses one without).
        self.env.cr.execute(
            """
            WITH p AS MATERIALIZED (
                SELECT * FROM unnest(%(level)s::int[], %(due)s::date[], %(next_level)s::int[], %(next_date)s::date[],
                                     %(state)s::varchar[]) AS p(level_id, due, next_level_id, next_date, state)
            ), todo AS MATERIALIZED (
                -- The lines with their due date first, whatever the planner believes of a run just built
                -- (a run below ANALYZE_MIN_LINES has no statistics yet): then one lookup per line.
                SELECT l.move_id, l.level_id, m.invoice_date_due AS due
                  FROM nordic_dunning_run_line l
                  JOIN account_move m ON m.id = l.move_id
                 WHERE l.run_id = %(run)s AND l.decision = 'proposed'
            ), moved AS (
                UPDATE nordic_dunning_status s
                   SET policy_id = %(policy)s, level_id = t.level_id, next_level_id = p.next_level_id,
                       next_date = p.next_date, state = p.state, last_date = %(day)s
                  FROM todo t
                  JOIN p ON p.level_id = t.level_id AND p.due = t.due
                 WHERE s.move_id = t.move_id
                RETURNING s.move_id, s.state
            )
            SELECT move_id FROM moved WHERE state = 'handed_over'
            """,
            {
                "policy": self.policy_id.id,
                "day": day,
                "run": self.id,
                "level": [step[0] for step in plan],
                "due": [step[1] for step in plan],
                "next_level": [step[2] for step in plan],
                "next_date": [step[3] for step in plan],
                "state": [step[4] for step in plan],
            },
        )
        handed_over = [move_id for (move_id,) in self.env.cr.fetchall()]
        self.env["nordic.dunning.status"]._invalidate_written(
            ["policy_id", "level_id", "next_level_id", "next_date", "state", "last_date"]
        )
        # Written by SQL: stored computes that read these fields recompute. Only a hand-over can move the
        # tandvårdsstöd flag (it needs one); the other invoices would recompute to the same value.
        self.env["account.move"].browse(handed_over).modified(["nordic_dunning_state", "nordic_dunning_event_ids"])

    def _handover(self, events):
        """Hand-over level reached: one collection case per event, waiting in the agency's outbox."""
        self.env["nordic.collection.case"]._create_from_handover(events)
        return events

    def _communicate(self, events):
        """E-mails, call activities and the letters' PDF; nothing leaves a test database."""
        if self.env.context.get("nordic_dunning_no_send"):
            return
        if self._nordic_is_test_database():
            self._withhold(events)
            self._plan_calls(events.filtered("channel_call"))
            return
        self._send_emails(events.filtered("channel_email"))
        self._plan_calls(events.filtered("channel_call"))
        if not self.env.context.get("nordic_dunning_no_letters"):
            self._render_letters(events.filtered("channel_letter"))

    @api.model
    def _nordic_is_test_database(self):
        """A neutralized database (a copy of production for tests) must never reach real customers."""
        return str2bool(self.env["ir.config_parameter"].sudo().get_param("database.is_neutralized") or "0")

    def _withhold(self, events):
        """Record on the run what a production database would have sent."""
        mails = events.filtered(lambda e: e.channel_email and e.partner_id.email)
        letters = events.filtered("channel_letter")
        if not mails and not letters:
            return
        names = sorted(set((mails | letters).partner_id.mapped("display_name")))
        note = _(
            "Test database (neutralized): %(mails)s e-mail(s) and %(letters)s letter(s) were withheld; "
            "customers: %(names)s",
            mails=len(mails),
            letters=len(letters),
            names=", ".join(names[:50]) + (_(" and %s more", len(names) - 50) if len(names) > 50 else ""),
        )
        self.withheld_note = note
        self.message_post(body=note)

    def _send_emails(self, events):
        by_template = defaultdict(lambda: self.env["nordic.dunning.event"])
        default = self.env.ref("nordic_dunning.mail_template_dunning_event", raise_if_not_found=False)
        for event in events.filtered(lambda e: e.partner_id.email):
            template = event.level_id.mail_template_id or default
            if template:
                by_template[template] |= event
        for template, recs in by_template.items():
            mails = template.send_mail_batch(recs.ids)
            messages = {mail.res_id: mail.mail_message_id.id for mail in mails}
            for event in recs:
                if messages.get(event.id):
                    event.mail_message_id = messages[event.id]

    def _plan_calls(self, events):
        if not events:
            return
        activity_type = self.env.ref("mail.mail_activity_data_call")
        model_id = self.env["ir.model"]._get_id("account.move")
        activities = self.env["mail.activity"].create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": event.move_id.id,
                    "activity_type_id": activity_type.id,
                    "summary": _(
                        "Call about %(invoice)s (%(level)s)", invoice=event.move_id.name, level=event.level_id.name
                    ),
                    "user_id": (event.move_id.invoice_user_id or self.env.user).id,
                    "date_deadline": event.date,
                }
                for event in events
            ]
        )
        for event, activity in zip(events, activities):
            event.activity_id = activity

    def _render_letters(self, events):
        if not events:
            return
        report = self.env.ref("nordic_dunning.action_report_dunning_letter")
        content, _fmt = self.env["ir.actions.report"]._render_qweb_pdf(report, events.ids)
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"{self.name.replace('/', '-')}-letters.pdf",
                "raw": content,
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/pdf",
            }
        )
        self.letter_attachment_id = attachment
        events.write({"letter_attachment_id": attachment.id})

    # ------------------------------------------------------------------
    # Crons
    # ------------------------------------------------------------------

    @api.model
    def _cron_build_runs(self):
        """Daily: a run per active policy with invoices due for a level."""
        policies = self.env["nordic.dunning.policy"].search([])
        for company in policies.company_id:
            own = policies.filtered(lambda p, company=company: p.company_id == company)
            self.with_company(company)._build_for_policies(own)
            if not getattr(threading.current_thread(), "testing", False):
                self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _cron_confirm_scheduled(self):
        """Confirm the runs whose review window has closed (seed 004: Thursday morning)."""
        runs = self.search([("state", "=", "draft"), ("scheduled_confirm_at", "<=", fields.Datetime.now())])
        for run in runs:
            run.with_company(run.company_id).action_confirm()
        return runs
