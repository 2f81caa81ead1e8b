"""Validating one agency change before it touches a case (docs/rpc-contract.md, section 4).

What the sidecar reports is the agency's input: hostile until proven otherwise. Each change is checked on its
own (types, a known case of that agency and its companies, finite amounts within what the case can claim,
sane dates, the case's currency); whatever is wrong becomes a ``ValueError`` with a reason a person can read,
and the change is quarantined with it. The cursor of the agency's feed only moves forward.
"""

import math
from datetime import datetime, timedelta

from odoo import api, fields, models
from odoo.tools import float_compare, float_is_zero

from .nordic_collection_case import AGENCY_STATES
from .nordic_collection_case_sidecar import agency_label

CHANGE_KINDS = ("state", "payment", "fee", "interest", "dispute")
AMOUNT_KINDS = ("payment", "fee", "interest")
# An agency reports what happened: nothing dated before collection agencies kept records in a feed, and
# nothing more than a clock's drift ahead of now.
OLDEST_CHANGE = datetime(2000, 1, 1)
CLOCK_DRIFT = timedelta(days=2)
# A dispute's reply deadline is weeks ahead, never years.
LONGEST_REPLY = timedelta(days=366)
IDENTIFIER_TYPES = (str, int)


def clean_text(value, size):
    """``value`` cut to ``size`` without NUL characters (PostgreSQL stores no NUL in a text)."""
    return value.replace("\x00", "")[:size]


def text_or_none(value):
    return clean_text(value, 64) if isinstance(value, str) else None


def json_safe(value):
    """``value`` as PostgreSQL's jsonb accepts it: no NaN or infinity (kept as text), no NUL character."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return clean_text(value, 10000)
    if isinstance(value, dict):
        return {clean_text(str(key), 200): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return clean_text(str(value), 10000)


def change_identifier(change):
    """The agency's id of ``change`` as text, or None when it has none a person could quote."""
    if not isinstance(change, dict):
        return None
    value = change.get("id")
    if isinstance(value, bool) or not isinstance(value, IDENTIFIER_TYPES) or value == "":
        return None
    return clean_text(str(value), 128) or None


def parse_datetime(value, now):
    """Naive UTC datetime of an ISO 8601 string (with or without offset), within the agency's plausible past."""
    if not isinstance(value, str) or not value:
        raise ValueError("occurred_at is missing or not a text")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo:
            moment = (moment - moment.utcoffset()).replace(tzinfo=None)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"occurred_at {value[:40]!r} is not a date-time: {exc}") from None
    if not OLDEST_CHANGE <= moment <= now + CLOCK_DRIFT:
        raise ValueError(f"occurred_at {value[:40]!r} is not a plausible date of a change")
    return moment


def later_cursor(stored, sent):
    """The cursor to keep: ``sent`` unless it lies behind ``stored`` (a lagging sidecar resending an old page).

    The agency's cursors are opaque texts; the sandbox's and nordic_v1's are sequence numbers. Two numbers
    compare as numbers, anything else by length, then text (zero-padded or growing sequences).
    """
    sent = str(sent)[:256]
    if not stored:
        return sent
    if stored.isdigit() and sent.isdigit():
        return sent if int(sent) >= int(stored) else stored
    return sent if (len(sent), sent) >= (len(stored), stored) else stored


def parse_amount(raw, case, kind):
    """The change's amount rounded to the case's currency, or ValueError."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise ValueError("amount is missing or not a number")
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"amount {str(raw)[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"amount {str(raw)[:40]!r} is not a finite number")
    rounding = case.currency_id.rounding
    amount = case.currency_id.round(value)
    if amount < 0 or (kind == "payment" and float_is_zero(amount, precision_rounding=rounding)):
        raise ValueError(f"invalid amount {str(raw)[:40]!r}")
    if kind in ("fee", "interest"):
        # The agency's costs follow the claim (inkassosats, statutory interest): never more than the claim itself.
        claim = case.amount_principal + case.amount_fees + case.amount_interest
        if float_compare(amount, claim, precision_rounding=rounding) > 0:
            raise ValueError(f"{kind} {amount} exceeds the whole claim of the case ({claim})")
    return amount


# The sidecar API is split in files (its calls, validating changes, applying them) to keep each short.
# pylint: disable=consider-merging-classes-inherited
class NordicCollectionCase(models.Model):
    _inherit = "nordic.collection.case"

    @api.model
    def _sidecar_find_cases(self, agency, changes):
        """({uuid: case}, {external id: case}) of the cases of ``agency`` (and its companies) ``changes`` name."""
        # A text with a NUL character names no case (and PostgreSQL could not even compare it).
        refs = {
            c["uuid"]
            for c in changes
            if isinstance(c, dict) and isinstance(c.get("uuid"), str) and "\x00" not in c["uuid"]
        }
        ext_ids = {
            str(c["external_id"])
            for c in changes
            if isinstance(c, dict) and isinstance(c.get("external_id"), IDENTIFIER_TYPES) and c["external_id"] != ""
        }
        ext_ids = {ext for ext in ext_ids if "\x00" not in ext}
        domain = [("agency_id", "=", agency.id), "|", ("uuid", "in", list(refs)), ("external_id", "in", list(ext_ids))]
        if agency.company_ids:
            domain.append(("company_id", "child_of", agency.company_ids.ids))
        cases = self.search(domain)
        return {case.uuid: case for case in cases}, {case.external_id: case for case in cases if case.external_id}

    @api.model
    def _sidecar_parse_change(self, change, by_uuid, by_ext, change_id):
        """A validated change dict, or ValueError saying what is wrong with it."""
        if not isinstance(change, dict):
            raise ValueError("a change must be an object")
        if change_id is None:
            raise ValueError("the change has no id (a text or a number)")
        if change.get("error"):
            raise ValueError(f"the sidecar could not read the agency's change: {str(change['error'])[:500]}")
        kind = change.get("kind")
        if not isinstance(kind, str) or kind not in CHANGE_KINDS:
            raise ValueError(f"unknown change kind {str(kind)[:40]!r} (one of {', '.join(CHANGE_KINDS)})")
        uuid, external_id = change.get("uuid"), change.get("external_id")
        if uuid is not None and not isinstance(uuid, str):
            raise ValueError("uuid must be a text")
        if external_id not in (None, "") and (
            isinstance(external_id, bool) or not isinstance(external_id, IDENTIFIER_TYPES)
        ):
            raise ValueError("external_id must be a text or a number")
        case = (by_uuid.get(uuid) if uuid else None) or by_ext.get(str(external_id or ""))
        if not case:
            raise ValueError("no case of this agency and its companies matches uuid / external_id")
        now = fields.Datetime.now()
        occurred_at = parse_datetime(change.get("occurred_at"), now)
        data = change.get("data") or {}
        if not isinstance(data, dict):
            raise ValueError("data must be an object")
        label = agency_label(change.get("agency_status"))
        state = False
        if kind in ("state", "dispute"):
            # The agency holds a disputed case: a dispute without a state of its own pauses it.
            state = change.get("state") or ("paused" if kind == "dispute" else None)
            if not isinstance(state, str) or state not in AGENCY_STATES:
                raise ValueError(
                    f"an agency cannot put a case in state {str(state)[:40]!r} (one of {', '.join(AGENCY_STATES)})"
                )
        amount, currency = 0.0, None
        if kind in AMOUNT_KINDS:
            amount = parse_amount(change.get("amount"), case, kind)
            currency = case.currency_id.name
            if change.get("currency") not in (None, "", currency):
                raise ValueError(f"currency {str(change['currency'])[:10]!r} differs from the case's {currency}")
        reply_by = False
        if kind == "dispute" and data.get("reply_by"):
            reply_by = self._sidecar_parse_reply_by(data["reply_by"], now)
        return {
            "change_id": change_id,
            "kind": kind,
            "case": case,
            "state": state,
            "agency_status": label,
            "amount": amount,
            "currency": currency,
            "occurred_at": occurred_at,
            "data": data,
            "raw": change,
            "reply_by": reply_by,
            "external_id": str(external_id or "") or False,
        }

    @api.model
    def _sidecar_parse_reply_by(self, value, now):
        if not isinstance(value, str):
            raise ValueError("data.reply_by must be a date text")
        try:
            reply_by = fields.Date.to_date(value[:10])
        except ValueError:
            raise ValueError(f"data.reply_by {value[:40]!r} is not a date") from None
        if not now.date() - LONGEST_REPLY <= reply_by <= now.date() + LONGEST_REPLY:
            raise ValueError(f"data.reply_by {value[:40]!r} is not a plausible deadline")
        return reply_by
