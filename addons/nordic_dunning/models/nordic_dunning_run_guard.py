"""The anomaly guard: a run out of line with the policy's history waits for a manager."""
# pylint: disable=consider-merging-classes-inherited

import statistics
from datetime import datetime, time, timedelta

import pytz

from odoo import _, fields, models

from ..tools.calendar import next_weekday

TIMEZONES = {"SE": "Europe/Stockholm", "NO": "Europe/Oslo", "DK": "Europe/Copenhagen", "FI": "Europe/Helsinki"}


# The run's model is split by concern, one file each (selection, charges, guard, execution, booking,
# communication), to keep every file short.
# pylint: disable=consider-merging-classes-inherited
class NordicDunningRun(models.Model):
    _inherit = "nordic.dunning.run"

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
