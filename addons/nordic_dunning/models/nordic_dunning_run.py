import logging
import threading
from collections import defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytz
from psycopg2 import errors as pg_errors
from psycopg2.extras import execute_values

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_round

from ..tools.calendar import add_delay, next_weekday
from ..tools.interest import late_interest, rate_on

_logger = logging.getLogger(__name__)

BATCH = 5000
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
        "Dunning date", required=True, default=fields.Date.context_today, tracking=True,
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
    event_ids = fields.One2many("nordic.dunning.event", "run_id", string="Events")
    unsent_move_ids = fields.Many2many(
        "account.move",
        "nordic_dunning_run_unsent_rel",
        "run_id",
        "move_id",
        string="Overdue but never sent",
        help="Overdue invoices left out because nothing proves the invoice itself reached the customer.",
    )
    fee_move_id = fields.Many2one("account.move", "Fee entry", readonly=True, copy=False)
    letter_attachment_id = fields.Many2one("ir.attachment", "Letters (PDF)", readonly=True, copy=False)
    confirm_user_id = fields.Many2one("res.users", "Confirmed by", readonly=True, copy=False)
    confirm_date = fields.Datetime("Confirmed on", readonly=True, copy=False)
    anomaly_note = fields.Text("Why it needs approval", readonly=True, copy=False)
    line_count = fields.Integer(compute="_compute_counts")
    event_count = fields.Integer(compute="_compute_counts")
    unsent_count = fields.Integer(compute="_compute_counts")
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_residual = fields.Monetary("Open amount", compute="_compute_counts")
    fee_total = fields.Monetary("Fees", compute="_compute_counts")

    def _compute_counts(self):
        lines = dict(
            ((run, state), (count, residual, fee))
            for run, state, count, residual, fee in self.env["nordic.dunning.run.line"]._read_group(
                [("run_id", "in", self.ids)], ["run_id", "state"], ["__count", "amount_residual:sum", "fee_amount:sum"]
            )
        )
        events = dict(
            self.env["nordic.dunning.event"]._read_group([("run_id", "in", self.ids)], ["run_id"], ["__count"])
        )
        for run in self:
            active = [lines.get((run, state), (0, 0.0, 0.0)) for state in ("proposed", "done")]
            run.line_count = sum(a[0] for a in active)
            run.amount_residual = sum(a[1] for a in active)
            run.fee_total = sum(a[2] for a in active)
            run.event_count = events.get(run, 0)
            run.unsent_count = len(run.unsent_move_ids)

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
            runs |= self.with_company(company)._build_for_policies(policies.filtered(lambda p: p.company_id == company))
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
            run = self.create({"company_id": policy.company_id.id, "policy_id": policy.id, "date": day or fields.Date.context_today(self)})
            run._generate_lines()
            if not run.line_ids and not run.unsent_move_ids:
                run.unlink()
                continue
            run._guard()
            runs |= run
        return runs

    def _select_candidates(self):
        """One query: every open, posted customer invoice of the policy due for its next level."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT m.id, m.commercial_partner_id, m.currency_id, m.nordic_dunning_next_level_id,
                   m.amount_residual, m.amount_total, m.invoice_date_due, m.invoice_date,
                   m.nordic_is_sent, m.nordic_dunning_level_id IS NULL, p.nordic_fee_agreed,
                   p.nordic_fee_agreed_date, m.nordic_last_dunning_date
              FROM account_move m
              JOIN res_partner p ON p.id = m.commercial_partner_id
             WHERE m.company_id = %(company)s
               AND m.move_type = 'out_invoice'
               AND m.state = 'posted'
               AND m.payment_state IN ('not_paid', 'partial')
               AND m.nordic_next_dunning_date IS NOT NULL
               AND m.nordic_next_dunning_date <= %(day)s
               AND m.nordic_dunning_policy_id = %(policy)s
               AND m.nordic_dunning_next_level_id IS NOT NULL
               AND m.amount_residual >= %(min_amount)s
               AND m.amount_residual > 0
               AND NOT COALESCE(m.nordic_dunning_excluded, FALSE)
               AND NOT COALESCE(p.nordic_dunning_excluded, FALSE)
               AND NOT EXISTS (
                    SELECT 1 FROM nordic_dunning_run_line l
                      JOIN nordic_dunning_run r ON r.id = l.run_id
                     WHERE l.move_id = m.id AND l.state = 'proposed'
                       AND r.state IN ('draft', 'to_approve') AND r.id != %(run)s)
             ORDER BY m.commercial_partner_id, m.id
            """,
            {
                "company": self.company_id.id,
                "day": self.date,
                "policy": self.policy_id.id,
                "min_amount": self.policy_id.min_amount or 0.0,
                "run": self.id,
            },
        )
        cols = (
            "move_id", "partner_id", "currency_id", "level_id", "residual", "total", "due", "invoice_date",
            "sent", "first", "fee_agreed", "fee_agreed_date", "last_date",
        )
        return [dict(zip(cols, row)) for row in self.env.cr.fetchall()]

    def _generate_lines(self):
        self.ensure_one()
        candidates = self._select_candidates()
        unsent = [c["move_id"] for c in candidates if not c["sent"]]
        lines = [c for c in candidates if c["sent"]]
        charges = self._compute_charges(lines, self.date)
        now = fields.Datetime.now()
        uid = self.env.uid
        rows = [
            (
                self.id, self.company_id.id, c["move_id"], c["partner_id"], c["currency_id"], c["level_id"],
                c["residual"], charges[c["move_id"]][0], charges[c["move_id"]][1], c["first"], "proposed",
                uid, uid, now, now,
            )
            for c in lines
        ]
        # Direct SQL for volume (see account.move._nordic_write_schedule): a run may hold 100k lines.
        for start in range(0, len(rows), BATCH):
            execute_values(
                self.env.cr._obj,
                """
                INSERT INTO nordic_dunning_run_line
                    (run_id, company_id, move_id, partner_id, currency_id, level_id, amount_residual,
                     fee_amount, interest_amount, first_measure, state, create_uid, write_uid, create_date, write_date)
                VALUES %s
                """,
                rows[start:start + BATCH],
                page_size=BATCH,
            )
        if unsent:
            execute_values(
                self.env.cr._obj,
                "INSERT INTO nordic_dunning_run_unsent_rel (run_id, move_id) VALUES %s ON CONFLICT DO NOTHING",
                [(self.id, move_id) for move_id in unsent],
                page_size=BATCH,
            )
        self.invalidate_recordset(["line_ids", "unsent_move_ids"])

    def _compute_charges(self, rows, day):
        """{move_id: (fee, interest, interest_rate)} for candidate rows on ``day``, with a few batch queries."""
        if not rows:
            return {}
        policy = self.policy_id
        country = policy.country_code
        move_ids = [r["move_id"] for r in rows]
        levels = {lvl.id: lvl for lvl in policy.level_ids}
        payments = self._payments_by_move(move_ids)
        prior = self._prior_events_by_move(move_ids)
        periods = self.env["nordic.dunning.rate"]._late_interest_periods(country) if policy.interest_mode != "none" else []
        rate_today = rate_on(periods, day) or 0.0
        fee_cache = {}
        currencies = {}
        company_currency = self.company_id.currency_id
        result = {}
        for row in rows:
            level = levels.get(row["level_id"])
            currency = currencies.get(row["currency_id"]) or currencies.setdefault(
                row["currency_id"], self.env["res.currency"].browse(row["currency_id"])
            )
            fee = self._fee_for(level, row, day, prior.get(row["move_id"], []), fee_cache) if level else 0.0
            if fee and currency != company_currency:
                fee = company_currency._convert(fee, currency, self.company_id, day)
            interest = 0.0
            if level and level.interest and periods:
                charged = [e for e in prior.get(row["move_id"], []) if e["interest_charged"]]
                start = max(row["due"], charged[-1]["date"]) if (charged and policy.interest_mode == "charge") else row["due"]
                before = [(d, Decimal(str(a))) for d, a in payments.get(row["move_id"], []) if d <= start]
                after = [(d, Decimal(str(a))) for d, a in payments.get(row["move_id"], []) if d > start]
                base = Decimal(str(row["total"])) - sum((a for _d, a in before), Decimal(0))
                interest = float(
                    late_interest(base, start, day, [(d, Decimal(str(v))) for d, v in periods], after,
                                  precision=Decimal(str(currency.rounding)))
                )
            result[row["move_id"]] = (
                float_round(fee, precision_rounding=currency.rounding),
                interest,
                rate_today,
            )
        return result

    def _fee_for(self, level, row, day, prior, cache):
        """The fee the law and the policy allow for this measure (0 when none may be charged)."""
        if level.fee_rule == "none" or level.kind == "handover":
            return 0.0
        country = level.policy_id.country_code
        rates = self.env["nordic.dunning.rate"]
        if country == "SE":
            # Lag (1981:739) 2 §: only when agreed no later than when the debt arose.
            arose = row["invoice_date"] or row["due"]
            if not (row["fee_agreed"] and row["fee_agreed_date"] and row["fee_agreed_date"] <= arose):
                return 0.0
            cap_type = "reminder_fee_cap" if level.kind == "reminder" else "collection_fee_cap"
            key = ("SE", cap_type, day)
            if key not in cache:
                cache[key] = rates._get_value("SE", cap_type, day, raise_if_missing=False)
            cap = cache[key]
            return min(level.fee_amount, cap) if cap is not None else level.fee_amount
        if country == "NO":
            key = ("NO", "inkassosats", day)
            if key not in cache:
                cache[key] = rates._get_value("NO", "inkassosats", day)
            max_fee = cache[key] / 20.0
            fee = max_fee if level.fee_rule == "no_reminder" else min(level.fee_amount, max_fee)
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
        return level.fee_amount

    def _payments_by_move(self, move_ids):
        """{move_id: [(date, amount)]}: what reduced each invoice's receivable, by date."""
        self.env.cr.execute(
            """
            SELECT aml.move_id, apr.max_date, SUM(apr.debit_amount_currency)
              FROM account_move_line aml
              JOIN account_partial_reconcile apr ON apr.debit_move_id = aml.id
             WHERE aml.move_id = ANY(%s) AND aml.display_type = 'payment_term'
             GROUP BY aml.move_id, apr.max_date
             ORDER BY apr.max_date
            """,
            [move_ids],
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
             WHERE move_id = ANY(%s) AND state = 'done'
             ORDER BY date, id
            """,
            [move_ids],
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
            self.write({"state": "to_approve", "anomaly_note": "\n".join(reasons), "scheduled_confirm_at": False})
            self.message_post(body=_("Held for approval: %s", "; ".join(reasons)))
        else:
            self.scheduled_confirm_at = self._next_confirm_moment()

    def _anomalies(self):
        """Reasons to hold this run; extended by the safety guards."""
        return []

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
        self.ensure_one()
        day = self.date
        lines = self.line_ids.filtered(lambda line: line.state == "proposed")
        self._skip_settled(lines)
        lines = lines.filtered(lambda line: line.state == "proposed")
        self._check_proof_of_sending(lines)
        rows = self._line_rows(lines)
        charges = self._compute_charges(rows, day)
        events = self._create_events(rows, charges, day)
        self._charge_fees(events)
        self._advance_invoices(events, day)
        self._handover(events.filtered(lambda e: e.level_id.kind == "handover"))
        self._communicate(events)
        self.write({"state": "done", "confirm_user_id": self.env.uid, "confirm_date": fields.Datetime.now(),
                    "scheduled_confirm_at": False})
        self.message_post(body=_("Confirmed: %(count)s measures taken.", count=len(events)))
        return events

    def _skip_settled(self, lines):
        """Lines whose invoice was paid, excluded or dunned elsewhere since the run was built are skipped."""
        moves = lines.move_id
        for line in lines:
            move = line.move_id
            reason = False
            if move.payment_state not in ("not_paid", "partial") or move.state != "posted":
                reason = _("Paid or cancelled since the run was built.")
            elif move.nordic_dunning_excluded or move.commercial_partner_id.nordic_dunning_excluded:
                reason = _("Excluded from dunning since the run was built.")
            elif move.nordic_dunning_next_level_id != line.level_id:
                reason = _("Dunned elsewhere since the run was built.")
            if reason:
                line.write({"state": "skipped", "note": reason})
        return moves

    def _check_proof_of_sending(self, lines):
        """Seed 000: no measure at all for an invoice that was never sent. All or nothing."""
        unsent = lines.move_id.filtered(lambda m: not m.nordic_is_sent)
        if unsent:
            raise UserError(
                _(
                    "Nothing was done: these invoices have no proof that they were ever sent to the customer "
                    "(send them from Odoo or attest that they were sent outside Odoo):\n%s",
                    "\n".join(unsent.mapped("name")),
                )
            )

    def _line_rows(self, lines):
        return [
            {
                "line_id": line.id,
                "move_id": line.move_id.id,
                "partner_id": line.partner_id.id,
                "currency_id": line.currency_id.id,
                "level_id": line.level_id.id,
                "residual": line.move_id.amount_residual,
                "total": line.move_id.amount_total,
                "due": line.move_id.invoice_date_due,
                "invoice_date": line.move_id.invoice_date,
                "fee_agreed": line.move_id.commercial_partner_id.nordic_fee_agreed,
                "fee_agreed_date": line.move_id.commercial_partner_id.nordic_fee_agreed_date,
                "reference": line.move_id.payment_reference or line.move_id.name,
            }
            for line in lines
        ]

    def _create_events(self, rows, charges, day):
        """Insert the events (one statement per batch) and mark the lines done."""
        if not rows:
            return self.env["nordic.dunning.event"]
        levels = {lvl.id: lvl for lvl in self.policy_id.level_ids}
        interest_mode = self.policy_id.interest_mode
        now = fields.Datetime.now()
        uid = self.env.uid
        values = []
        for row in rows:
            level = levels[row["level_id"]]
            fee, interest, rate = charges[row["move_id"]]
            shown_interest = interest if interest_mode != "none" else 0.0
            values.append(
                (
                    row["move_id"], row["partner_id"], self.company_id.id, row["currency_id"], self.id,
                    self.policy_id.id, level.id, level.sequence, level.kind, day,
                    add_delay(day, level.payment_term_days or 0, "days", self.policy_id.country_code),
                    row["residual"], fee, shown_interest, rate if shown_interest else 0.0,
                    row["residual"] + fee + shown_interest, row["reference"],
                    level.channel_email, level.channel_letter, level.channel_call,
                    uid, "done", uid, uid, now, now, row["line_id"],
                )
            )
        event_ids = []
        for start in range(0, len(values), BATCH):
            result = execute_values(
                self.env.cr._obj,
                f"""
                WITH ins AS (
                    INSERT INTO nordic_dunning_event
                        (move_id, partner_id, company_id, currency_id, run_id, policy_id, level_id,
                         level_sequence, kind, date, deadline_date, amount_residual, fee_amount,
                         interest_amount, interest_rate, amount_total, payment_reference, channel_email,
                         channel_letter, channel_call, user_id, state, create_uid, write_uid, create_date,
                         write_date)
                    SELECT v.move_id, v.partner_id, v.company_id, v.currency_id, v.run_id, v.policy_id, v.level_id,
                           v.level_sequence, v.kind, v.date::date, v.deadline::date, v.residual, v.fee,
                           v.interest, v.rate, v.total, v.ref, v.email, v.letter, v.call, v.user_id,
                           v.state, v.cuid, v.wuid, v.cdate::timestamp, v.wdate::timestamp
                      FROM (VALUES %s) AS v(move_id, partner_id, company_id, currency_id, run_id, policy_id,
                           level_id, level_sequence, kind, date, deadline, residual, fee, interest, rate, total,
                           ref, email, letter, call, user_id, state, cuid, wuid, cdate, wdate, line_id)
                    RETURNING id, move_id
                )
                UPDATE nordic_dunning_run_line l SET state = 'done', event_id = ins.id
                  FROM ins WHERE l.move_id = ins.move_id AND l.run_id = {int(self.id)}
                RETURNING ins.id
                """,
                values[start:start + BATCH],
                page_size=BATCH,
                fetch=True,
            )
            event_ids += [r[0] for r in result]
        self.env["nordic.dunning.run.line"].invalidate_model(["state", "event_id"])
        self.invalidate_recordset(["event_ids"])
        self.env["account.move"].invalidate_model(["nordic_dunning_event_ids"])
        return self.env["nordic.dunning.event"].browse(event_ids)

    def _charge_fees(self, events):
        """Book fees (and interest when the policy charges it) in one entry for the whole run.

        One receivable line per event, on the invoice's receivable account and partner, so the
        customer really owes the fee; income lines are summed per account. Fees carry no VAT.
        """
        policy = self.policy_id
        fee_events = events.filtered(lambda e: e.fee_amount > 0)
        interest_events = events.filtered(lambda e: e.interest_amount > 0) if policy.interest_mode == "charge" else events.browse()
        if not fee_events and not interest_events:
            return
        journal = policy.fee_journal_id or self.env["account.journal"].search(
            [("type", "=", "general"), ("company_id", "=", self.company_id.id)], limit=1
        )
        fee_account = policy.fee_account_id or self.company_id.income_account_id
        interest_account = policy.interest_account_id or fee_account
        if not journal or not fee_account:
            raise UserError(_("Set a fee journal and a fee income account on policy %s.", policy.name))
        receivable = {
            line.move_id.id: line.account_id
            for line in (fee_events | interest_events).move_id.line_ids
            if line.display_type == "payment_term"
        }
        line_vals, income = [], defaultdict(float)
        keys = []
        for kind, recs, account in (("fee", fee_events, fee_account), ("interest", interest_events, interest_account)):
            for event in recs:
                amount = event.fee_amount if kind == "fee" else event.interest_amount
                label = _("Reminder fee %s", event.move_id.name) if kind == "fee" else _("Late interest %s", event.move_id.name)
                line_vals.append((0, 0, {
                    "account_id": receivable[event.move_id.id].id,
                    "partner_id": event.partner_id.id,
                    "name": label,
                    "debit": amount if event.currency_id == self.company_id.currency_id else 0.0,
                    "amount_currency": amount,
                    "currency_id": event.currency_id.id,
                    "date_maturity": event.deadline_date,
                }))
                keys.append((kind, event))
                income[(account.id, event.currency_id.id)] += amount
        for (account_id, currency_id), amount in income.items():
            line_vals.append((0, 0, {
                "account_id": account_id,
                "name": _("Dunning charges %s", self.name),
                "amount_currency": -amount,
                "currency_id": currency_id,
            }))
        move = self.env["account.move"].create({
            "move_type": "entry",
            "journal_id": journal.id,
            "date": self.date,
            "ref": _("Dunning charges %s", self.name),
            "line_ids": line_vals,
        })
        move.action_post()
        receivable_lines = move.line_ids.filtered(lambda line: line.account_id.account_type == "asset_receivable")
        for (kind, event), line in zip(keys, receivable_lines.sorted("id")):
            if kind == "fee":
                event.write({"fee_move_line_id": line.id})
            else:
                event.write({"interest_move_line_id": line.id})
        self.env.cr.execute(
            "UPDATE nordic_dunning_event SET fee_charged = fee_amount > 0, interest_charged = %s AND interest_amount > 0"
            " WHERE id = ANY(%s)",
            [policy.interest_mode == "charge", (fee_events | interest_events).ids],
        )
        events.invalidate_recordset(["fee_charged", "interest_charged"])
        self.fee_move_id = move

    def _advance_invoices(self, events, day):
        """Level, dates and state of the dunned invoices, then their next level and date."""
        cache = {}
        rows = []
        for event in events:
            level = event.level_id
            move = event.move_id
            next_level = cache.get(("next", level.id))
            if next_level is None:
                next_level = cache[("next", level.id)] = level._get_next()
            key = (next_level.id, move.invoice_date_due)
            if next_level and key not in cache:
                cache[key] = next_level._compute_date(move.invoice_date_due, day)
            rows.append((
                move.id, self.policy_id.id, next_level.id or None, cache.get(key) if next_level else None,
                level.id, "handed_over" if level.kind == "handover" else "in_dunning", day,
            ))
        for start in range(0, len(rows), BATCH):
            execute_values(
                self.env.cr._obj,
                """
                UPDATE account_move m
                   SET nordic_dunning_policy_id = v.policy_id::int,
                       nordic_dunning_next_level_id = v.next_level_id::int,
                       nordic_next_dunning_date = v.next_date::date,
                       nordic_dunning_level_id = v.level_id::int,
                       nordic_dunning_state = v.state,
                       nordic_last_dunning_date = v.day::date
                  FROM (VALUES %s) AS v(id, policy_id, next_level_id, next_date, level_id, state, day)
                 WHERE m.id = v.id
                """,
                rows[start:start + BATCH],
                page_size=BATCH,
            )
        self.env["account.move"].invalidate_model([
            "nordic_dunning_policy_id", "nordic_dunning_next_level_id", "nordic_next_dunning_date",
            "nordic_dunning_level_id", "nordic_dunning_state", "nordic_last_dunning_date",
        ])

    def _handover(self, events):
        """Hand-over level reached: one collection case per event, waiting in the agency's outbox."""
        self.env["nordic.collection.case"]._create_from_handover(events)
        return events

    def _communicate(self, events):
        """E-mails, call activities and the letters' PDF; nothing leaves a test database."""
        if self.env.context.get("nordic_dunning_no_send"):
            return
        self._send_emails(events.filtered("channel_email"))
        self._plan_calls(events.filtered("channel_call"))
        if not self.env.context.get("nordic_dunning_no_letters"):
            self._render_letters(events.filtered("channel_letter"))

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
        activities = self.env["mail.activity"].create([
            {
                "res_model_id": model_id,
                "res_id": event.move_id.id,
                "activity_type_id": activity_type.id,
                "summary": _("Call about %s (%s)", event.move_id.name, event.level_id.name),
                "user_id": (event.move_id.invoice_user_id or self.env.user).id,
                "date_deadline": event.date,
            }
            for event in events
        ])
        for event, activity in zip(events, activities):
            event.activity_id = activity

    def _render_letters(self, events):
        if not events:
            return
        report = self.env.ref("nordic_dunning.action_report_dunning_letter")
        content, _fmt = self.env["ir.actions.report"]._render_qweb_pdf(report, events.ids)
        attachment = self.env["ir.attachment"].create({
            "name": f"{self.name.replace('/', '-')}-letters.pdf",
            "raw": content,
            "res_model": self._name,
            "res_id": self.id,
            "mimetype": "application/pdf",
        })
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
            self.with_company(company)._build_for_policies(policies.filtered(lambda p: p.company_id == company))
            if not getattr(threading.current_thread(), "testing", False):
                self.env.cr.commit()  # pylint: disable=invalid-commit

    @api.model
    def _cron_confirm_scheduled(self):
        """Confirm the runs whose review window has closed (seed 004: Thursday morning)."""
        runs = self.search([("state", "=", "draft"), ("scheduled_confirm_at", "<=", fields.Datetime.now())])
        for run in runs:
            run.with_company(run.company_id).action_confirm()
        return runs
