from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..tools.calendar import add_delay, level_deadline
from .nordic_dunning_policy import WEEKDAYS


def no_fee_share(kind):
    """The share of the inkassosats a Norwegian creditor may charge for a measure of ``kind`` it sends itself:
    1/20 for a reminder or collection notice, 3/20 for a payment demand (inkassoforskriften § 1-2)."""
    return 3 / 20 if kind == "payment_demand" else 1 / 20


class NordicDunningLevel(models.Model):
    """One step of a dunning policy: when, what, at which fee, through which channel."""

    _name = "nordic.dunning.level"
    _description = "Dunning level"
    _order = "policy_id, sequence"

    policy_id = fields.Many2one("nordic.dunning.policy", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index=True)
    country_code = fields.Selection(related="policy_id.country_code")
    sequence = fields.Integer("Level", required=True, default=1)
    name = fields.Char(required=True, translate=True)
    kind = fields.Selection(
        [
            ("reminder", "Payment reminder"),
            ("collection_notice", "Collection notice (inkassovarsel)"),
            ("payment_demand", "Payment demand"),
            ("handover", "Hand-over to collection"),
        ],
        required=True,
        default="reminder",
    )
    delay = fields.Integer(
        required=True,
        default=5,
        help="Days after the due date or after the previous level. A level never comes before the previous "
        "level's last day to pay has passed: when the delay would end on or before it, the level is due the day "
        "after (a hand-over never demands what the customer still has time to pay).",
    )
    delay_unit = fields.Selection(
        [("days", "Calendar days"), ("business_days", "Business days")], required=True, default="days"
    )
    delay_base = fields.Selection(
        [("due", "After the due date"), ("previous", "After the previous level")], required=True, default="previous"
    )
    weekday = fields.Selection(
        WEEKDAYS, string="Move to weekday", help="Postpone the measure to the first such weekday (e.g. Tuesday lists)."
    )
    fee_rule = fields.Selection(
        [
            ("none", "No fee"),
            ("fixed", "Fixed fee"),
            ("no_reminder", "Norwegian statutory fee (1/20 of the inkassosats; 3/20 for a payment demand)"),
        ],
        required=True,
        default="none",
    )
    fee_amount = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one(related="policy_id.company_id.currency_id")
    interest = fields.Boolean("Late interest", default=True, help="Show or charge late interest at this level.")
    channel_email = fields.Boolean("E-mail", default=True)
    channel_letter = fields.Boolean("Letter", default=True)
    channel_call = fields.Boolean("Phone call", help="Plan a call activity for the invoice's salesperson.")
    mail_template_id = fields.Many2one(
        "mail.template",
        string="E-mail template",
        domain=[("model", "=", "nordic.dunning.notice")],
        help="The e-mail of this level's notices; empty: the default dunning e-mail.",
    )
    payment_term_days = fields.Integer(
        "Payment deadline (days)",
        default=10,
        help="Deadline printed on the letter, counted from the day it is sent (inkassoloven § 9). A last day to "
        "pay on a Saturday, Sunday or holiday moves to the next business day (Lag (1930:173) 2 §: midsommarafton, "
        "julafton and nyårsafton count as holidays).",
    )
    letter_text = fields.Html(translate=True, help="Opening paragraph of the letter and the e-mail.")

    _sql_constraints = [
        ("level_unique", "unique(policy_id, sequence)", "Each level number can be used only once per policy."),
        ("delay_positive", "CHECK(delay >= 0)", "The delay cannot be negative."),
    ]

    @api.depends("sequence", "name")
    def _compute_display_name(self):
        for level in self:
            level.display_name = f"{level.sequence}. {level.name}"

    @api.constrains("fee_rule", "fee_amount", "kind", "delay", "delay_base", "payment_term_days", "policy_id")
    def _check_legal_limits(self):
        """Refuse levels that break the law of the policy's legal profile, citing the rule."""
        rates = self.env["nordic.dunning.rate"]
        today = fields.Date.context_today(self)
        for level in self:
            country = level.policy_id.country_code
            if level.fee_rule == "fixed" and level.fee_amount < 0:
                raise ValidationError(_("A fee cannot be negative."))
            if country == "SE" and level.fee_rule == "fixed":
                cap_type = "reminder_fee_cap" if level.kind == "reminder" else "collection_fee_cap"
                cap = rates._get_value("SE", cap_type, today, raise_if_missing=False)
                if cap is not None and level.fee_amount > cap:
                    raise ValidationError(
                        _(
                            "Level %(level)s: a Swedish %(kind)s fee may be at most %(cap)s kr "
                            "(lag (1981:739) om ersättning för inkassokostnader, 2-4 §§); %(fee)s kr was asked.",
                            level=level.name,
                            kind=dict(self._fields["kind"].selection)[level.kind],
                            cap=cap,
                            fee=level.fee_amount,
                        )
                    )
            if country != "NO" and level.fee_rule == "no_reminder":
                raise ValidationError(
                    _("Level %s: the Norwegian fee rule can only be used in a Norwegian policy.", level.name)
                )
            if country in ("DK", "FI"):
                level._check_dk_fi_limits(today)
                continue
            if country != "NO":
                continue
            if level.fee_rule == "fixed":
                sats = rates._get_value("NO", "inkassosats", today, raise_if_missing=False)
                share = no_fee_share(level.kind)
                if sats is not None and level.fee_amount > sats * share:
                    raise ValidationError(
                        _(
                            "Level %(level)s: a Norwegian %(kind)s fee may be at most %(share)s of the inkassosats "
                            "(%(cap)s kr) (inkassoforskriften § 1-2); %(fee)s kr was asked.",
                            level=level.name,
                            kind=dict(self._fields["kind"].selection)[level.kind],
                            share="3/20" if level.kind == "payment_demand" else "1/20",
                            cap=sats * share,
                            fee=level.fee_amount,
                        )
                    )
            if level.kind == "collection_notice":
                if level._min_days_after_due() < 14:
                    raise ValidationError(
                        _(
                            "Level %(level)s: a Norwegian collection notice with a fee may be sent at the earliest "
                            "14 days after the due date (inkassoforskriften § 1-2); %(delay)s days was asked.",
                            level=level.name,
                            delay=level._min_days_after_due(),
                        )
                    )
                if level.payment_term_days < 14:
                    raise ValidationError(
                        _(
                            "Level %(level)s: a Norwegian collection notice must give at least 14 days to pay "
                            "(inkassoloven § 9); %(days)s days was asked.",
                            level=level.name,
                            days=level.payment_term_days,
                        )
                    )
            if level.kind == "payment_demand" and level.payment_term_days < 14:
                raise ValidationError(
                    _(
                        "Level %(level)s: a Norwegian payment demand must give at least 14 days to pay or object "
                        "(inkassoloven § 10); %(days)s days was asked.",
                        level=level.name,
                        days=level.payment_term_days,
                    )
                )

    def _check_dk_fi_limits(self, today):
        """Danish and Finnish limits: the fee cap, and Denmark's ten days between fee-bearing reminders."""
        self.ensure_one()
        country = self.policy_id.country_code
        cap_type = "reminder_fee_cap" if self.kind == "reminder" else "collection_fee_cap"
        cap = self.env["nordic.dunning.rate"]._get_value(country, cap_type, today, raise_if_missing=False)
        law = {"DK": _("renteloven § 9 b"), "FI": _("perintälaki 10 e §")}[country]
        if self.fee_rule == "fixed" and cap is not None and self.fee_amount > cap:
            raise ValidationError(
                _(
                    "Level %(level)s: the fee may be at most %(cap)s (%(law)s); %(fee)s was asked.",
                    level=self.name,
                    cap=cap,
                    law=law,
                    fee=self.fee_amount,
                )
            )
        if country == "DK" and self.fee_rule == "fixed" and self.delay_base == "previous":
            if self._min_calendar_span() < 10:
                raise ValidationError(
                    _(
                        "Level %(level)s: Danish reminders with a fee must be at least 10 days apart (renteloven "
                        "§ 9 b, stk. 1); %(delay)s days was asked.",
                        level=self.name,
                        delay=self._min_calendar_span(),
                    )
                )
        if country == "FI" and self.fee_rule == "fixed" and self.fee_amount and self._min_days_after_due() < 14:
            raise ValidationError(
                _(
                    "Level %(level)s: a Finnish reminder fee may be charged at the earliest 14 days after the due "
                    "date (perintälaki 10 e §); %(delay)s days was asked.",
                    level=self.name,
                    delay=self._min_days_after_due(),
                )
            )

    @api.constrains("delay", "delay_unit", "delay_base", "payment_term_days", "sequence", "policy_id")
    def _check_after_previous_deadline(self):
        """Refuse a level that would come before the previous level's last day to pay.

        The next reminder or the hand-over may only follow once the customer's time is up (inkassoforskriften
        § 1-3 for the second fee; in Sweden good collection practice, and a hand-over before the printed last
        day to pay demands what is not yet late). The run also postpones a level past a deadline moved to the
        next business day; this check keeps the policy itself consistent.
        """
        for policy in self.policy_id:
            levels = policy.level_ids.sorted("sequence")
            for previous, level in zip(levels, levels[1:]):
                term = previous.payment_term_days
                if not term or previous.kind == "handover":
                    continue
                if level.delay_base == "previous":
                    span = level._min_calendar_span()
                else:
                    span = level._min_days_after_due() - previous._min_days_after_due()
                if span < term:
                    raise ValidationError(
                        _(
                            "Level %(level)s would come %(span)s days after %(previous)s, before the %(term)s days "
                            "that level gives the customer to pay have run out: a next step may only follow once "
                            "the last day to pay has passed (inkassoforskriften § 1-3; good collection practice).",
                            level=level.name,
                            span=span,
                            previous=previous.name,
                            term=term,
                        )
                    )

    def _min_calendar_span(self):
        """Fewest calendar days this level's delay can cover (five business days are at least a week)."""
        self.ensure_one()
        if self.delay_unit == "business_days":
            return self.delay + 2 * (self.delay // 5)
        return self.delay

    def _min_days_after_due(self):
        """Fewest calendar days after the due date at which this level can be reached."""
        self.ensure_one()
        days = 0
        for level in self.policy_id.level_ids.filtered(lambda lvl: lvl.sequence <= self.sequence).sorted(
            "sequence", reverse=True
        ):
            days += level.delay
            if level.delay_base == "due":
                break
        return days

    def _compute_date(self, due_date, last_date=None, previous_deadline=None):
        """Date this level falls due for an invoice due on ``due_date`` whose last measure was ``last_date``
        and gave the customer until ``previous_deadline`` to pay.

        Never on or before that last day to pay: a payment handed to the bank by the end of it is on time
        (inkassoforskriften § 1-3; in Sweden good collection practice and Lag (1930:173)), so neither the next
        reminder nor the hand-over comes before it has passed.
        """
        self.ensure_one()
        country = self.policy_id.country_code
        base = last_date if (self.delay_base == "previous" and last_date) else due_date
        day = add_delay(base, self.delay, self.delay_unit, country, self.weekday)
        earliest = add_delay(due_date, self.policy_id.min_invoice_age or 0, "days", country)
        if previous_deadline:
            earliest = max(earliest, previous_deadline + timedelta(days=1))
        if day < earliest:
            day = add_delay(earliest, 0, "days", country, self.weekday)
        return day

    def _deadline_on(self, day):
        """The last day to pay of this level's measure sent on ``day`` (False when it gives none)."""
        self.ensure_one()
        return self.payment_term_days and level_deadline(day, self.payment_term_days, self.policy_id.country_code)

    def _get_next(self):
        """The level that follows this one in its policy (empty recordset after the last)."""
        self.ensure_one()
        return self.policy_id.level_ids.filtered(lambda lvl: lvl.sequence > self.sequence).sorted("sequence")[:1]
