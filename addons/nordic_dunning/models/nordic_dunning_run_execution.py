"""Executing a run: lines re-checked, events written and invoices advanced, set-based."""
# pylint: disable=consider-merging-classes-inherited

from collections import defaultdict
from datetime import timedelta

from odoo import _, fields, models
from odoo.exceptions import UserError

from ..tools.calendar import level_deadline
from ..tools.interest import rate_on

# A run of at least this many lines refreshes the lines table's statistics (see _generate_lines).
ANALYZE_MIN_LINES = 2000


# The run's model is split by concern, one file each (selection, charges, guard, execution, booking,
# communication), to keep every file short.
# pylint: disable=consider-merging-classes-inherited
class NordicDunningRun(models.Model):
    _inherit = "nordic.dunning.run"

    def _execute(self, send=True, letters=True):
        """Set-based: a handful of statements whatever the number of lines; no line travels through Python
        except those whose amounts must be recomputed. Returns once the events are written and the fees,
        letters and e-mails enqueued (``_enqueue_sending``)."""
        self.ensure_one()
        day = self._sending_day()
        self.env.flush_all()
        # Sent on another day than built for: every line's fee and interest are those of the sending day.
        flagged = self._flag_lines(day, recompute_all=day != self.date)
        if day != self.date:
            self._check_rates(day)
        self._skip_settled([row for row in flagged if row["reason"]])
        kept = [row for row in flagged if not row["reason"]]
        self._check_proof_of_sending(kept)
        # The events' author and time (they keep no log of their own).
        self.write({"confirm_user_id": self.env.uid, "confirm_date": fields.Datetime.now()})
        overrides = self._execution_overrides([row for row in kept if row["changed"]], day)
        # The statuses move first, while the lines to execute are still the proposed ones.
        self._advance_invoices(day)
        events = self._create_events(overrides, day)
        # Fees, letters and e-mails are booked and sent by background jobs (nordic_dunning_run_sending.py).
        self._handover(events.search([("line_id.run_id", "=", self.id), ("kind", "=", "handover")]))
        self._communicate(events, send=send, letters=letters)
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

    def _sending_day(self):
        """The day the measures are sent, which dates them and from which their deadlines, fees and interest
        count (inkassoloven § 9: the 14 days run from the sending; inkassoforskriften § 1-2: the inkassosats in
        force then). A run built for its date and confirmed days later sends as of that much later."""
        today = fields.Date.context_today(self)
        return self.date + max(today - (self.built_on or today), timedelta(0))

    def _flag_lines(self, day, recompute_all=False):
        """One pass over the proposed lines: those that need more than executing as reviewed.

        A line is flagged when its invoice was paid, excluded, disputed or dunned elsewhere since the run
        was built (``reason``), has no proof of sending (``not_sent``), is younger than the policy's
        minimum age (``young``), or its open amount changed since the review (``changed``; every line when
        ``recompute_all``). Open and
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
                       %(all)s OR ABS(l.amount_residual - (m.amount_residual - COALESCE(m.nordic_disputed_amount, 0)))
                           >= 0.0000005 AS changed,
                       l.move_id, m.currency_id, l.level_id,
                       m.amount_residual - COALESCE(m.nordic_disputed_amount, 0), m.amount_total,
                       COALESCE(m.nordic_disputed_amount, 0), m.invoice_date_due, m.invoice_date,
                       p.nordic_fee_agreed, p.nordic_fee_agreed_date, COALESCE(p.is_company, FALSE)
                  FROM nordic_dunning_run_line l
                  JOIN account_move m ON m.id = l.move_id
                  JOIN res_partner p ON p.id = m.commercial_partner_id
                  LEFT JOIN nordic_dunning_status s ON s.move_id = m.id
                 WHERE l.run_id = %(run)s AND l.decision = 'proposed'
            ) v
             WHERE reason IS NOT NULL OR not_sent OR young OR changed
             ORDER BY id
            """,
            {"run": self.id, "day": day, "min_age": self.policy_id.min_invoice_age or 0, "all": recompute_all},
        )
        return self._fetch_dicts(
            "id name reason not_sent young changed move_id currency_id level_id residual total disputed "
            "due invoice_date fee_agreed fee_agreed_date is_company"
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
        """{move_id: (fee, interest, compensation)} recomputed for the invoices whose open amount changed since
        the run was built (a partial payment, a dispute); the other lines are executed with their reviewed
        amounts."""
        return {
            move_id: (fee, interest, compensation)
            for move_id, (fee, interest, _rate, compensation) in self._compute_charges(changed, day).items()
        }

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
                level_deadline(day, vals["payment_term_days"], country),
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
        shows_interest = policy.interest_mode != "none"
        rates = self.env["nordic.dunning.rate"]
        rate_today, rate_business = (
            (rate_on(rates._late_interest_periods(country, business=business), day) or 0.0) if shows_interest else 0.0
            for business in (False, True)
        )
        self.env.cr.execute(
            """
            WITH lv(id, sequence, kind, deadline, email, letter, call) AS MATERIALIZED (
                SELECT * FROM unnest(%(lv_id)s::int[], %(lv_seq)s::int[], %(lv_kind)s::varchar[],
                                     %(lv_deadline)s::date[], %(lv_email)s::bool[], %(lv_letter)s::bool[],
                                     %(lv_call)s::bool[])
            ), ov(move_id, fee, interest, compensation) AS MATERIALIZED (
                SELECT * FROM unnest(%(ov_move)s::int[], %(ov_fee)s::numeric[], %(ov_interest)s::numeric[],
                                     %(ov_compensation)s::numeric[])
            ), src AS (
                SELECT l.id AS line_id, l.move_id, l.level_id,
                       lv.sequence, lv.kind, lv.deadline, lv.email, lv.letter, lv.call,
                       m.amount_residual - COALESCE(m.nordic_disputed_amount, 0) AS residual,
                       COALESCE(ov.fee, l.fee_amount, 0) AS fee,
                       CASE WHEN %(shows)s THEN COALESCE(ov.interest, l.interest_amount, 0) ELSE 0 END AS interest,
                       COALESCE(ov.compensation, l.compensation_amount, 0) AS compensation,
                       COALESCE(m.payment_reference, m.name) AS reference,
                       COALESCE(p.is_company, FALSE) AS is_company
                  FROM nordic_dunning_run_line l
                  JOIN account_move m ON m.id = l.move_id
                  JOIN res_partner p ON p.id = m.commercial_partner_id
                  JOIN lv ON lv.id = l.level_id
                  LEFT JOIN ov ON ov.move_id = l.move_id
                 WHERE l.run_id = %(run)s AND l.decision = 'proposed'
            ), ins AS (
                INSERT INTO nordic_dunning_event
                    (move_id, line_id, level_sequence, kind, date, deadline_date,
                     amount_residual, fee_amount, interest_amount, compensation_amount, interest_rate, amount_total,
                     payment_reference, channel_email, channel_letter, channel_call, state)
                SELECT move_id, line_id, sequence, kind, %(day)s, deadline,
                       residual, fee, interest, compensation,
                       CASE WHEN interest = 0 THEN 0 WHEN is_company THEN %(rate_business)s ELSE %(rate)s END,
                       residual + fee + interest + compensation, reference, email, letter, call, 'done'
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
                "ov_fee": [values[0] for values in overrides.values()],
                "ov_interest": [values[1] for values in overrides.values()],
                "ov_compensation": [values[2] for values in overrides.values()],
                "shows": shows_interest,
                "run": self.id,
                "day": day,
                "rate": rate_today,
                "rate_business": rate_business,
            },
        )
        event_ids = sorted(r[0] for r in self.env.cr.fetchall())
        self.env["nordic.dunning.run.line"].invalidate_model(["event_id"])
        self.invalidate_recordset(["event_ids"])
        self.env["account.move"].invalidate_model(["nordic_dunning_event_ids"])
        return self.env["nordic.dunning.event"].browse(event_ids)

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
                    next_level._compute_date(due, day, level._deadline_on(day)) if next_level else None,
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
