"""What a line may charge: the reminder fee within the legal cap and count, and the late interest."""
# pylint: disable=consider-merging-classes-inherited

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from odoo import _, models
from odoo.tools import float_round

from ..tools.interest import late_interest, quantize_interest, rate_days, rate_on
from ..tools.sql import array_literal
from .nordic_dunning_level import no_fee_share


def _deadline_of(event):
    """The last day to pay an earlier measure gave (14 days for one recorded without)."""
    return event["deadline"] or event["date"] + timedelta(days=14)


# The run's model is split by concern, one file each (selection, charges, guard, execution, booking,
# communication), to keep every file short.
# pylint: disable=consider-merging-classes-inherited
class NordicDunningRun(models.Model):
    _inherit = "nordic.dunning.run"

    def _compute_charges(self, rows, day):
        """{move_id: (fee, interest, interest_rate, compensation)} for candidate rows on ``day``, with a few batch
        queries.

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
        # The statutory rate per kind of customer: consumers, and companies where the law sets another margin.
        rates = {}
        for business in (False, True):
            periods = (
                self.env["nordic.dunning.rate"]._late_interest_periods(country, business=business)
                if policy.interest_mode != "none"
                else []
            )
            rates[business] = (periods, rate_on(periods, day) or 0.0, [(d, Decimal(str(v))) for d, v in periods])
        rate_days_cache = {}
        fee_cache = {}
        company_currency = self.company_id.currency_id
        company_currency_id = company_currency.id
        currencies = {c.id: c for c in self.env["res.currency"].browse({r["currency_id"] for r in rows})}
        # Plain values for the loop: a field read per row would cost more than the computation.
        float_roundings = {cid: c.rounding for cid, c in currencies.items()}
        roundings = {cid: Decimal(str(rounding)) for cid, rounding in float_roundings.items()}
        charge_mode = policy.interest_mode == "charge"
        compensation = self._compensation_on(day)
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
            periods, rate_today, dec_periods = rates[bool(row["is_company"])]
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
                    key = (start, bool(row["is_company"]))
                    if key not in rate_days_cache:
                        rate_days_cache[key] = rate_days(start, day, dec_periods)
                    amount = quantize_interest(base, rate_days_cache[key], precision=roundings[currency_id])
                interest = float(amount)
            owed = 0.0
            if compensation and row["is_company"] and level and level["kind"] != "handover":
                full = compensation
                if currency_id != company_currency_id:
                    full = company_currency._convert(full, currencies[currency_id], self.company_id, day)
                full = float_round(full, precision_rounding=float_roundings[currency_id])
                fee, owed = self._net_of_compensation(fee, full, move_prior, float_roundings[currency_id])
            result[move_id] = (fee, interest, rate_today, owed)
        return result

    @staticmethod
    def _net_of_compensation(fee, full, prior, rounding):
        """(fee, compensation) a business customer owes for this measure when the fixed compensation ``full``
        applies to the invoice: it is owed once, and it and the reminder and demand fees of the same invoice are
        set off against each other, so the creditor gets the compensation and its fees only where they exceed
        it (lag (1981:739) 4 a § third paragraph; directive 2011/7/EU art. 6(3), in forsinkelsesrenteloven § 3a,
        renteloven § 9 a and the Finnish act 30/2013): in all, max(compensation, fees), never both.

        ``prior``'s fees are what was charged. Where the total charged so far does not exceed the compensation,
        only the fees charged before the compensation are known to be gross, and they are all that is counted
        (never more than the law allows)."""
        charged = sum(e["fee"] + e["compensation"] for e in prior)
        first = next((i for i, e in enumerate(prior) if e["compensation"]), None)
        if first is None:
            # The compensation goes with this measure, less the fees already charged.
            owed = max(0.0, full - charged)
            total = max(full, charged + fee)
        else:
            owed = 0.0
            # The compensation was charged at an earlier value: a later rise (or exchange rate) adds no fee.
            full = min(full, charged)
            gross = charged if charged > full else sum(e["fee"] for e in prior[:first])
            total = max(full, gross + fee, charged)
        fee = max(0.0, total - charged - owed)
        return float_round(fee, precision_rounding=rounding), float_round(owed, precision_rounding=rounding)

    def _compensation_on(self, day):
        """The statutory compensation a business customer owes once per late invoice when the policy charges
        it (lag (1981:739) 4 a §, renteloven § 9 a, the Finnish 40 €); 0 without a recorded amount."""
        policy = self.policy_id
        if not policy.b2b_compensation:
            return 0.0
        value = self.env["nordic.dunning.rate"]._get_value(
            policy.country_code, "b2b_compensation", day, raise_if_missing=False
        )
        return value or 0.0

    def _check_rates(self, day):
        """Record (and say in the chatter) which half-yearly rates have no value for ``day`` yet: the run
        still uses the last one, but never silently."""
        self.ensure_one()
        if self.policy_id.interest_mode == "none":
            self.rate_warning = False
            return
        warnings = self.env["nordic.dunning.rate"]._missing_rate_warnings(self.policy_id.country_code, day)
        text = "\n".join(warnings) or False
        if text and text != self.rate_warning:
            self._message_log(body=_("Missing legal rates: %s", text))
        self.rate_warning = text

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
            max_fee = cache[key] * no_fee_share(level["kind"])
            fee = max_fee if level["fee_rule"] == "no_reminder" else min(level["fee_amount"], max_fee)
            return fee if self._no_fee_allowed(level["kind"], row, day, prior) else 0.0
        if country in ("DK", "FI"):
            cap_type = "reminder_fee_cap" if level["kind"] == "reminder" else "collection_fee_cap"
            key = (country, cap_type, day)
            if key not in cache:
                cache[key] = self.env["nordic.dunning.rate"]._get_value(country, cap_type, day, raise_if_missing=False)
            cap = cache[key]
            fee = min(level["fee_amount"], cap) if cap is not None else level["fee_amount"]
            return fee if self._dk_fi_fee_allowed(country, row, day, prior) else 0.0
        return level["fee_amount"]

    @staticmethod
    def _dk_fi_fee_allowed(country, row, day, prior):
        """Whether a Danish or Finnish reminder may carry its fee: at most three fee-bearing reminders; in
        Denmark at least ten days after the previous one (renteloven § 9 b, stk. 1), in Finland at the earliest
        14 days after the due date (perintälaki 10 e §)."""
        charged = [e for e in prior if e["fee"] > 0]
        if len(charged) >= 3:
            return False
        if country == "DK":
            return not charged or (day - charged[-1]["date"]).days >= 10
        return (day - row["due"]).days >= 14

    @staticmethod
    def _no_fee_allowed(kind, row, day, prior):
        """Whether inkassoforskriften §§ 1-2 and 1-3 let a Norwegian creditor charge for this measure.

        Fees are allowed for at most two reminders (or a reminder and a collection notice) and one payment
        demand that follows them. A reminder fee only for a reminder sent at least 14 days after the due date;
        the second one only when the first fee-bearing reminder gave at least 14 days to pay and the customer
        let that deadline pass: a payment handed to the bank by the end of the last day is on time, so a
        reminder dated on that day carries none. The demand fee (3/20) only once, after a reminder or notice
        whose deadline has passed.
        """
        earlier = [e for e in prior if e["kind"] in ("reminder", "collection_notice")]
        if kind == "payment_demand":
            if any(e["fee"] > 0 for e in prior if e["kind"] == "payment_demand"):
                return False
            return bool(earlier) and day > _deadline_of(earlier[-1])
        if (day - row["due"]).days < 14:
            return False
        charged = [e for e in earlier if e["fee"] > 0]
        if len(charged) >= 2:
            return False
        if charged:
            first = charged[0]
            return (_deadline_of(first) - first["date"]).days >= 14 and day > _deadline_of(first)
        return True

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
            SELECT move_id, date, fee_amount, interest_charged, kind, deadline_date, compensation_amount
              FROM nordic_dunning_event
             WHERE move_id = ANY(%s::int[]) AND state = 'done'
             ORDER BY date, id
            """,
            [array_literal(move_ids)],
        )
        result = defaultdict(list)
        for move_id, day, fee, interest_charged, kind, deadline, compensation in self.env.cr.fetchall():
            result[move_id].append(
                {
                    "date": day,
                    "fee": fee or 0.0,
                    "interest_charged": interest_charged,
                    "kind": kind,
                    "deadline": deadline,
                    "compensation": compensation or 0.0,
                }
            )
        return result
