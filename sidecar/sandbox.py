"""Sandbox collection agency: a real HTTP server speaking the agency protocol of ``docs/agency-api.yaml``.

For demos and tests. State lives in one SQLite file, so a restarted sandbox keeps its cases, changes and
clock. Run it with::

    python -m sidecar.sandbox --port 8950 --db var/sandbox.sqlite --api-key secret --environment test

``--port 0`` picks a free port; the first line on stdout is always ``listening on http://HOST:PORT``.

Protocol
--------
Every request needs the header ``X-API-Key``. Malformed input gets a 4xx JSON ``{"error": "<reason>"}``.
``POST /v1/cases`` needs ``Idempotency-Key``; the same key again returns the first case (200), never a
second one. Command endpoints (pause, resume, withdraw, creditor-payments, dispute-answers) accept an optional
``Idempotency-Key`` too: a replayed key returns the first answer and changes nothing.

Clock and lifecycle (deterministic)
-----------------------------------
The sandbox has its own calendar: ``today = start date + offset days``. The start date is fixed when the
database file is created (``--start-date``, default the real UTC date); the offset only moves with
``POST /_sandbox/clock {"advance_days": n}`` (or ``{"date": "YYYY-MM-DD"}``, never backwards) or, for demos,
with ``--day-every SECONDS`` (one day every that many real seconds). Every change
occurs at ``<sandbox day>T12:00:00+00:00``.

Registration on day D emits: status ``registered``; a ``fee`` change (the collection fee, ``--collection-fee``,
default by currency: SEK 180, NOK 750, EUR 40, others 180); status ``collection_active`` (the payment
demand, ``data.deadline`` = D + 14).

At the deadline (D + 14) the agency books interest on the remaining principal
(``principal * --interest-rate (default 10) % * 14 / 365``, rounded to öre, a ``interest`` change) and then
the outcome is chosen by ``P = int(principal) % 10`` where ``principal`` is the sum of the debts' principal
in whole kronor (rounded down):

==========  =======================================================================================
P           outcome
==========  =======================================================================================
0, 1, 2, 3  paid in full: ``payment`` of the remaining principal, then status ``paid`` (closed)
4, 5        partly paid: ``payment`` of half the remaining principal (rounded to öre, half up), status
            ``partly_paid``; 30 days later status ``surveillance`` (long-term, stays open)
6, 7        status ``surveillance`` (nothing paid, stays open)
8           status ``failed`` (``data.closure_code = "no_means"``, closed: the creditor's write-off)
9           the debtor disputes: a ``dispute`` change (``status = "disputed"``, ``data.text``,
            ``data.reply_by`` = deadline + 10) and the case pauses. ``dispute-answers`` ``uphold`` resumes
            collection (status ``collection_active``, paid in full 14 days after the answer);
            ``withdraw`` — or no answer by ``reply_by`` — withdraws the case (status ``withdrawn``)
==========  =======================================================================================

A case registered with ``disputed: true`` is paused at once (status ``paused``, ``data.reason``) until the
creditor resumes it. A ``payment`` change's ``amount`` is the principal paid out to the creditor; the fees and
interest the agency collected for itself are only reported in its ``data``. ``pause`` freezes the schedule
(resuming shifts it by the days paused); ``withdraw`` closes the case; a ``creditor-payments`` call lowers the
remaining principal and closes the case as ``paid`` (a status change with ``data.reason = "creditor_payment"``,
no payment change: the creditor already has the money) when nothing remains. Commands on a closed case get 409.

Fault injection (tests)
-----------------------
``--fail-rate F`` answers a random fraction F of ``/v1`` requests with 500 (``--seed`` makes it repeatable).
``POST /_sandbox/faults {"mode": "500"|"timeout"|"garbage", "count": n, "sleep": s, "path": prefix}`` makes
the next n ``/v1`` requests (optionally only those whose path starts with ``prefix``) fail: ``500`` answers
500 without doing anything; ``timeout`` sleeps ``s`` seconds (default ``--fault-sleep``) and then does the
work (the client has given up: like a lost answer); ``garbage`` does the work and answers 200 with a body
that is not JSON. ``GET /_sandbox/stats`` counts cases, changes and replayed registrations.
"""

import argparse
import hashlib
import json
import os
import random
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CENT = Decimal("0.01")
DEADLINE_DAYS = 14
SURVEILLANCE_AFTER_PARTLY_PAID_DAYS = 30
DISPUTE_REPLY_DAYS = 10
DEFAULT_COLLECTION_FEES = {"SEK": Decimal("180.00"), "NOK": Decimal("750.00"), "EUR": Decimal("40.00")}
CLOSED = ("paid", "failed", "withdrawn")
MAX_PAGE = 10000

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cases (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    idempotency_key TEXT NOT NULL UNIQUE,
    creditor_reference TEXT NOT NULL,
    currency TEXT NOT NULL,
    ocr TEXT NOT NULL,
    status TEXT NOT NULL,
    principal TEXT NOT NULL,
    fees TEXT NOT NULL,
    interest TEXT NOT NULL,
    agency_fee TEXT NOT NULL,
    agency_interest TEXT NOT NULL DEFAULT '0.00',
    principal_paid TEXT NOT NULL DEFAULT '0.00',
    registered_on TEXT NOT NULL,
    next_step TEXT,
    next_day TEXT,
    paused_from TEXT,
    paused_on TEXT,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_next_day ON cases (next_day) WHERE next_step IS NOT NULL;
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    case_id TEXT NOT NULL,
    creditor_reference TEXT NOT NULL,
    type TEXT NOT NULL,
    status TEXT,
    amount TEXT,
    currency TEXT,
    occurred_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS command_keys (key TEXT PRIMARY KEY, case_id TEXT NOT NULL, response TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class ApiError(Exception):
    """An answer other than 2xx, with the reason sent to the client."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def luhn_digit(digits):
    """Luhn (mod 10) check digit of a string of digits, as used by Swedish OCR numbers."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def _money(value, field, minimum=Decimal("0"), strict_positive=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ApiError(422, f"{field} must be a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ApiError(422, f"{field} must be a number") from None
    if not amount.is_finite():
        raise ApiError(422, f"{field} must be a finite number")
    if amount != amount.quantize(CENT):
        raise ApiError(422, f"{field} has more than two decimals")
    if amount < minimum or (strict_positive and amount <= 0):
        raise ApiError(422, f"{field} must be {'positive' if strict_positive else 'zero or more'}")
    return amount.quantize(CENT)


def _date(value, field, required=True):
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str):
        raise ApiError(422, f"{field} must be an ISO date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ApiError(422, f"{field} must be an ISO date (YYYY-MM-DD), got {value!r}") from None


def _text(body, field, required=True, max_len=500):
    value = body.get(field)
    if value is None or value == "":
        if required:
            raise ApiError(422, f"{field} is required")
        return ""
    if not isinstance(value, str):
        raise ApiError(422, f"{field} must be a string")
    if len(value) > max_len:
        raise ApiError(422, f"{field} is longer than {max_len} characters")
    return value


def validate_registration(body):
    """Check a case registration body; returns (creditor_reference, currency, principal, fees, interest)."""
    reference = _text(body, "creditor_reference", max_len=100)
    currency = _text(body, "currency", max_len=3)
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise ApiError(422, "currency must be an ISO 4217 code such as SEK")
    if body.get("first_action", "debt_collection") not in ("reminder", "debt_collection"):
        raise ApiError(422, "first_action must be 'reminder' or 'debt_collection'")
    debtor = body.get("debtor")
    if not isinstance(debtor, dict):
        raise ApiError(422, "debtor must be an object")
    _text(debtor, "name", max_len=200)
    if not isinstance(debtor.get("is_company", False), bool):
        raise ApiError(422, "debtor.is_company must be a boolean")
    address = debtor.get("address")
    if address is not None and not isinstance(address, dict):
        raise ApiError(422, "debtor.address must be an object")
    debts = body.get("debts")
    if not isinstance(debts, list) or not debts:
        raise ApiError(422, "debts must be a non-empty list")
    principal = fees = interest = Decimal("0.00")
    for index, debt in enumerate(debts):
        where = f"debts[{index}]"
        if not isinstance(debt, dict):
            raise ApiError(422, f"{where} must be an object")
        if not isinstance(debt.get("invoice_number"), str) or not debt["invoice_number"]:
            raise ApiError(422, f"{where}.invoice_number is required")
        _date(debt.get("invoice_date"), f"{where}.invoice_date", required=False)
        _date(debt.get("due_date"), f"{where}.due_date")
        principal += _money(debt.get("principal"), f"{where}.principal", strict_positive=True)
        fees += _money(debt.get("fees", 0), f"{where}.fees")
        interest += _money(debt.get("interest", 0), f"{where}.interest")
    if not isinstance(body.get("disputed", False), bool):
        raise ApiError(422, "disputed must be a boolean")
    return reference, currency, principal, fees, interest


class SandboxAgency:
    """The agency's state and rules; thread-safe (one lock around the SQLite connection)."""

    def __init__(
        self,
        db_path,
        api_key,
        environment="test",
        name="Sandbox Agency",
        start_date=None,
        collection_fee=None,
        interest_rate=Decimal("10"),
        fail_rate=0.0,
        seed=None,
        fault_sleep=3.0,
    ):
        if environment not in ("test", "production"):
            raise ValueError("environment must be 'test' or 'production'")
        self.api_key = api_key
        self.environment = environment
        self.name = name
        self.collection_fee = collection_fee
        self.interest_rate = Decimal(str(interest_rate))
        self.fail_rate = fail_rate
        self.fault_sleep = fault_sleep
        self.random = random.Random(seed)
        self.faults = []  # [{"mode", "count", "sleep", "path"}], consumed in order
        self.lock = threading.RLock()
        self.db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(SCHEMA)
        start = (start_date or datetime.now(timezone.utc).date()).isoformat()
        self.db.execute("INSERT OR IGNORE INTO meta VALUES ('start_date', ?), ('offset_days', '0')", (start,))

    # ----------------------------------------------------------------- clock
    def today(self):
        meta = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        return date.fromisoformat(meta["start_date"]) + timedelta(days=int(meta["offset_days"]))

    def set_clock(self, body):
        with self.lock:
            today = self.today()
            if "advance_days" in body:
                days = body["advance_days"]
                if isinstance(days, bool) or not isinstance(days, int) or days < 0 or days > 3650:
                    raise ApiError(422, "advance_days must be an integer between 0 and 3650")
                target = today + timedelta(days=days)
            elif "date" in body:
                target = _date(body["date"], "date")
                if target < today:
                    raise ApiError(422, f"the sandbox clock never goes back (today is {today.isoformat()})")
            else:
                raise ApiError(422, "give advance_days or date")
            start = date.fromisoformat(self._meta("start_date"))
            processed = 0
            # Walk day by day so every step happens on its own date, in order; one transaction a day.
            day = today
            while day < target:
                day += timedelta(days=1)

                def advance(day=day):
                    self.db.execute("UPDATE meta SET value = ? WHERE key = 'offset_days'", (str((day - start).days),))
                    return self._run_due_steps(day)

                processed += self._transaction(advance)
            return {"today": self.today().isoformat(), "steps": processed}

    def _meta(self, key):
        return self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()[0]

    def _transaction(self, func):
        self.db.execute("BEGIN IMMEDIATE")
        try:
            result = func()
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        return result

    # ----------------------------------------------------------- lifecycle
    def _emit(self, case, kind, day, status=None, amount=None, data=None):
        cursor = self.db.execute(
            "INSERT INTO changes (id, case_id, creditor_reference, type, status, amount, currency, occurred_at, data)"
            " VALUES ('', ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                case["id"],
                case["creditor_reference"],
                kind,
                status,
                None if amount is None else str(amount),
                case["currency"] if amount is not None else None,
                f"{day.isoformat()}T12:00:00+00:00",
                json.dumps(data or {}),
            ),
        )
        self.db.execute("UPDATE changes SET id = ? WHERE seq = ?", (f"chg-{cursor.lastrowid:09d}", cursor.lastrowid))

    def _set(self, case_id, **values):
        assignments = ", ".join(f"{key} = ?" for key in values)
        self.db.execute(f"UPDATE cases SET {assignments} WHERE id = ?", (*values.values(), case_id))

    def _status(self, case, day, status, **data):
        self._set(case["id"], status=status)
        self._emit(case, "status", day, status=status, data=data)

    def _run_due_steps(self, day):
        rows = self.db.execute(
            "SELECT * FROM cases WHERE next_step IS NOT NULL AND paused_on IS NULL AND next_day <= ? ORDER BY seq",
            (day.isoformat(),),
        ).fetchall()
        for case in rows:
            self._step(dict(case), day)
        return len(rows)

    def _pay(self, case, day, amount):
        self._set(case["id"], principal_paid=str(Decimal(case["principal_paid"]) + amount))
        self._emit(
            case,
            "payment",
            day,
            amount=amount,
            data={
                "principal": float(amount),
                "fees_collected": float(Decimal(case["agency_fee"])),
                "interest_collected": float(Decimal(case["agency_interest"])),
            },
        )

    def _step(self, case, day):
        step = case["next_step"]
        remaining = Decimal(case["principal"]) - Decimal(case["principal_paid"])
        self._set(case["id"], next_step=None, next_day=None)
        if step == "deadline":
            interest = (remaining * self.interest_rate / 100 * DEADLINE_DAYS / 365).quantize(CENT, ROUND_HALF_UP)
            if interest > 0:
                case["agency_interest"] = str(Decimal(case["agency_interest"]) + interest)
                self._set(case["id"], agency_interest=case["agency_interest"])
                self._emit(case, "interest", day, amount=interest, data={"rate": float(self.interest_rate)})
            outcome = outcome_for(Decimal(case["principal"]))
            if outcome == "paid":
                self._pay(case, day, remaining)
                self._status(case, day, "paid")
            elif outcome == "partly_paid":
                self._pay(case, day, (remaining / 2).quantize(CENT, ROUND_HALF_UP))
                self._status(case, day, "partly_paid")
                self._set(
                    case["id"],
                    next_step="surveillance",
                    next_day=(day + timedelta(days=SURVEILLANCE_AFTER_PARTLY_PAID_DAYS)).isoformat(),
                )
            elif outcome == "surveillance":
                self._status(case, day, "surveillance")
            elif outcome == "failed":
                self._status(case, day, "failed", closure_code="no_means")
            else:
                reply_by = day + timedelta(days=DISPUTE_REPLY_DAYS)
                self._set(case["id"], status="disputed", next_step="dispute_deadline", next_day=reply_by.isoformat())
                self._emit(
                    case,
                    "dispute",
                    day,
                    status="disputed",
                    data={
                        "text": "The debtor disputes the claim: the goods were never delivered.",
                        "reply_by": reply_by.isoformat(),
                    },
                )
        elif step == "surveillance":
            self._status(case, day, "surveillance")
        elif step == "dispute_deadline":
            self._status(case, day, "withdrawn", reason="dispute_unanswered")
        elif step == "paid_after_dispute":
            self._pay(case, day, remaining)
            self._status(case, day, "paid")

    # ----------------------------------------------------------- endpoints
    def info(self):
        return {"name": self.name, "environment": self.environment, "today": self.today().isoformat()}

    def register(self, key, body):
        if not key:
            raise ApiError(400, "the Idempotency-Key header is required")
        if len(key) > 200:
            raise ApiError(400, "the Idempotency-Key header is longer than 200 characters")
        reference, currency, principal, fees, interest = validate_registration(body)
        with self.lock:

            def work():
                self._count("register_requests")
                row = self.db.execute("SELECT * FROM cases WHERE idempotency_key = ?", (key,)).fetchone()
                if row:
                    if row["creditor_reference"] != reference:
                        raise ApiError(409, "this Idempotency-Key was used for another creditor_reference")
                    self._count("register_replays")
                    return 200, self._case_summary(row)
                seq = self.db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM cases").fetchone()[0]
                digits = f"71{seq:08d}"
                today = self.today()
                fee = (
                    self.collection_fee
                    if self.collection_fee is not None
                    else DEFAULT_COLLECTION_FEES.get(currency, Decimal("180.00"))
                )
                case = {
                    "id": f"SBX{seq:07d}",
                    "idempotency_key": key,
                    "creditor_reference": reference,
                    "currency": currency,
                    "ocr": digits + luhn_digit(digits),
                    "status": "collection_active",
                    "principal": str(principal),
                    "fees": str(fees),
                    "interest": str(interest),
                    "agency_fee": str(fee),
                    "registered_on": today.isoformat(),
                    "next_step": "deadline",
                    "next_day": (today + timedelta(days=DEADLINE_DAYS)).isoformat(),
                    "payload": json.dumps(body),
                }
                self.db.execute(
                    f"INSERT INTO cases ({', '.join(case)}) VALUES ({', '.join('?' * len(case))})", tuple(case.values())
                )
                case["agency_interest"] = case["principal_paid"] = "0.00"
                case["paused_on"] = None
                self._emit(case, "status", today, status="registered")
                self._emit(case, "fee", today, amount=fee, data={"kind": "collection_fee"})
                self._emit(case, "status", today, status="collection_active", data={"deadline": case["next_day"]})
                if body.get("disputed"):
                    # A claim disputed before hand-over is not pursued until the creditor resumes it.
                    self._cmd_pause(case, {"reason": "disputed at hand-over"}, today)
                row = self.db.execute("SELECT * FROM cases WHERE id = ?", (case["id"],)).fetchone()
                return 201, self._case_summary(row)

            return self._transaction(work)

    def _count(self, key):
        self.db.execute("INSERT INTO counters VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = value + 1", (key,))

    @staticmethod
    def _case_summary(row):
        return {
            "id": row["id"],
            "status": row["status"],
            "ocr": row["ocr"],
            "creditor_reference": row["creditor_reference"],
        }

    def get_case(self, case_id):
        with self.lock:
            row = self._get_row(case_id)
            history = self.db.execute(
                "SELECT status, occurred_at FROM changes WHERE case_id = ? AND status IS NOT NULL ORDER BY seq",
                (case_id,),
            ).fetchall()
            principal, paid = Decimal(row["principal"]), Decimal(row["principal_paid"])
            return {
                **self._case_summary(row),
                "currency": row["currency"],
                "registered_on": row["registered_on"],
                "paused": row["paused_on"] is not None,
                "next_step": row["next_step"],
                "next_day": row["next_day"],
                "principal": float(principal),
                "principal_paid": float(paid),
                "principal_remaining": float(principal - paid),
                "creditor_fees": float(Decimal(row["fees"])),
                "creditor_interest": float(Decimal(row["interest"])),
                "agency_fee": float(Decimal(row["agency_fee"])),
                "agency_interest": float(Decimal(row["agency_interest"])),
                "state_history": [{"status": h["status"], "at": h["occurred_at"]} for h in history],
            }

    def _get_row(self, case_id):
        row = self.db.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
        if not row:
            raise ApiError(404, f"no case {case_id}")
        return row

    def list_cases(self, query):
        with self.lock:
            reference = query.get("creditor_reference")
            if reference:
                rows = self.db.execute(
                    "SELECT * FROM cases WHERE creditor_reference = ? ORDER BY seq", (reference,)
                ).fetchall()
            else:
                rows = self.db.execute("SELECT * FROM cases ORDER BY seq").fetchall()
            return {"cases": [self._case_summary(row) for row in rows]}

    def changes(self, query):
        since = query.get("since") or "0"
        if not since.isdigit():
            raise ApiError(400, "since must be a cursor returned as next_cursor")
        limit = query.get("limit") or "100"
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_PAGE:
            raise ApiError(400, f"limit must be an integer from 1 to {MAX_PAGE}")
        with self.lock:
            rows = self.db.execute(
                "SELECT * FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", (int(since), int(limit))
            ).fetchall()
        changes = [
            {
                "id": row["id"],
                "case_id": row["case_id"],
                "creditor_reference": row["creditor_reference"],
                "type": row["type"],
                "status": row["status"],
                "amount": None if row["amount"] is None else float(Decimal(row["amount"])),
                "currency": row["currency"],
                "occurred_at": row["occurred_at"],
                "data": json.loads(row["data"]),
            }
            for row in rows
        ]
        return {"changes": changes, "next_cursor": str(rows[-1]["seq"]) if rows else since}

    def command(self, case_id, action, body, key):
        with self.lock:

            def work():
                if key:
                    seen = self.db.execute(
                        "SELECT case_id, response FROM command_keys WHERE key = ?", (key,)
                    ).fetchone()
                    if seen:
                        if seen["case_id"] != case_id:
                            raise ApiError(409, "this Idempotency-Key was used for another case")
                        return 200, json.loads(seen["response"])
                case = dict(self._get_row(case_id))
                result = getattr(self, f"_cmd_{action.replace('-', '_')}")(case, body, self.today())
                if key:
                    self.db.execute("INSERT INTO command_keys VALUES (?, ?, ?)", (key, case_id, json.dumps(result)))
                return 200, result

            return self._transaction(work)

    @staticmethod
    def _open(case, action):
        if case["status"] in CLOSED:
            raise ApiError(409, f"case {case['id']} is closed ({case['status']}): cannot {action}")

    def _cmd_pause(self, case, body, day):
        _text(body, "reason", required=False)
        self._open(case, "pause")
        if case["paused_on"] is None and case["status"] != "disputed":
            self._set(case["id"], paused_on=day.isoformat(), paused_from=case["status"])
            self._status(case, day, "paused", reason=body.get("reason") or "")
            case["status"] = "paused"
        return {"id": case["id"], "status": case["status"]}

    def _cmd_resume(self, case, body, day):
        _text(body, "reason", required=False)
        self._open(case, "resume")
        if case["paused_on"] is not None:
            paused_days = (day - date.fromisoformat(case["paused_on"])).days
            next_day = case["next_day"] and (date.fromisoformat(case["next_day"]) + timedelta(days=paused_days))
            self._set(case["id"], paused_on=None, paused_from=None, next_day=next_day and next_day.isoformat())
            self._status(case, day, case["paused_from"], reason=body.get("reason") or "")
            case["status"] = case["paused_from"]
        return {"id": case["id"], "status": case["status"]}

    def _cmd_withdraw(self, case, body, day):
        _text(body, "reason", required=False)
        if case["status"] != "withdrawn":
            self._open(case, "withdraw")
            self._set(case["id"], next_step=None, next_day=None, paused_on=None)
            self._status(case, day, "withdrawn", reason=body.get("reason") or "")
        return {"id": case["id"], "status": "withdrawn"}

    def _cmd_creditor_payments(self, case, body, day):
        amount = _money(body.get("amount"), "amount", strict_positive=True)
        _date(body.get("date"), "date")
        _text(body, "reference", required=False, max_len=100)
        self._open(case, "report a creditor payment")
        paid = Decimal(case["principal_paid"]) + amount
        self._set(case["id"], principal_paid=str(paid))
        remaining = max(Decimal(case["principal"]) - paid, Decimal("0.00"))
        if remaining <= 0:
            self._set(case["id"], next_step=None, next_day=None, paused_on=None)
            self._status(case, day, "paid", reason="creditor_payment")
            case["status"] = "paid"
        return {"id": case["id"], "status": case["status"], "principal_remaining": float(remaining)}

    def _cmd_dispute_answers(self, case, body, day):
        answer = body.get("answer")
        if answer not in ("uphold", "withdraw"):
            raise ApiError(422, "answer must be 'uphold' or 'withdraw'")
        _text(body, "text", required=False, max_len=2000)
        if case["status"] != "disputed":
            raise ApiError(409, f"case {case['id']} is not disputed (status {case['status']})")
        if answer == "withdraw":
            return self._cmd_withdraw(case, {"reason": "creditor withdrew after the dispute"}, day)
        self._set(
            case["id"], next_step="paid_after_dispute", next_day=(day + timedelta(days=DEADLINE_DAYS)).isoformat()
        )
        self._status(case, day, "collection_active", reason="dispute_upheld")
        return {"id": case["id"], "status": "collection_active"}

    def stats(self):
        with self.lock:
            counters = dict(self.db.execute("SELECT key, value FROM counters").fetchall())
            by_status = dict(self.db.execute("SELECT status, COUNT(*) FROM cases GROUP BY status").fetchall())
            return {
                "cases": self.db.execute("SELECT COUNT(*) FROM cases").fetchone()[0],
                "distinct_references": self.db.execute(
                    "SELECT COUNT(DISTINCT creditor_reference) FROM cases"
                ).fetchone()[0],
                "changes": self.db.execute("SELECT COUNT(*) FROM changes").fetchone()[0],
                "register_requests": counters.get("register_requests", 0),
                "register_replays": counters.get("register_replays", 0),
                "by_status": by_status,
                "today": self.today().isoformat(),
            }

    def add_fault(self, body):
        mode = body.get("mode")
        if mode not in ("500", "timeout", "garbage"):
            raise ApiError(422, "mode must be '500', 'timeout' or 'garbage'")
        count = body.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ApiError(422, "count must be a non-negative integer")
        sleep = body.get("sleep", self.fault_sleep)
        if isinstance(sleep, bool) or not isinstance(sleep, (int, float)) or sleep < 0:
            raise ApiError(422, "sleep must be a non-negative number of seconds")
        path = body.get("path") or "/v1/"
        with self.lock:
            if count:
                self.faults.append({"mode": mode, "count": count, "sleep": float(sleep), "path": path})
            return {"faults": list(self.faults)}

    def clear_faults(self):
        with self.lock:
            self.faults.clear()
        return {"faults": []}

    def take_fault(self, path):
        """The fault to inject into this request, if any (consumes one)."""
        with self.lock:
            for fault in self.faults:
                if path.startswith(fault["path"]):
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return fault
            if self.fail_rate and self.random.random() < self.fail_rate:
                return {"mode": "500"}
        return None


def outcome_for(principal):
    """The deterministic outcome at the deadline, from the principal's whole-krona amount (see module doc)."""
    digit = int(principal.to_integral_value(ROUND_DOWN)) % 10
    if digit <= 3:
        return "paid"
    if digit <= 5:
        return "partly_paid"
    if digit <= 7:
        return "surveillance"
    if digit == 8:
        return "failed"
    return "disputed"


class Handler(BaseHTTPRequestHandler):
    """HTTP front of a SandboxAgency (``self.server.agency``)."""

    server_version = "NordicSandboxAgency/1.0"
    protocol_version = "HTTP/1.1"  # keep-alive: a client registering thousands of cases reuses its connection
    disable_nagle_algorithm = True  # with keep-alive, Nagle + delayed ACK would cost 40 ms a request
    wbufsize = 65536  # headers and body leave in one write (flushed after each request)
    COMMANDS = ("pause", "resume", "withdraw", "creditor-payments", "dispute-answers")

    def log_message(self, format, *args):
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_PUT(self):
        self._handle("PUT")

    def do_DELETE(self):
        self._handle("DELETE")

    def _send(self, status, payload, raw=None):
        body = raw if raw is not None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            if status >= 400:
                # An unread request body must not be taken for the next request: close, and say so, so that the
                # client does not send its next request on a connection about to close.
                self.send_header("Connection", "close")
                self.close_connection = True
            self.send_header("Content-Type", "application/json" if raw is None else "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout fault): the work is done, the answer is lost

    def _body(self):
        length = self.headers.get("Content-Length")
        if not length:
            raise ApiError(400, "a JSON body is required (Content-Length missing)")
        if not length.isdigit() or int(length) > 1_000_000:
            raise ApiError(413, "the body is too large")
        raw = self.rfile.read(int(length))
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as err:
            raise ApiError(400, f"the body is not valid JSON: {err}") from None
        if not isinstance(body, dict):
            raise ApiError(400, "the body must be a JSON object")
        return body

    def _handle(self, method):
        agency = self.server.agency
        url = urlsplit(self.path)
        path = url.path.rstrip("/") or "/"
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        fault = None
        try:
            if self.headers.get("X-API-Key") != agency.api_key:
                raise ApiError(401, "missing or invalid X-API-Key")
            if path.startswith("/v1/"):
                fault = agency.take_fault(path)
                if fault and fault["mode"] == "500":
                    return self._send(500, {"error": "injected fault: internal server error"})
                if fault and fault["mode"] == "timeout":
                    time.sleep(fault["sleep"])
            status, payload = self._route(method, path, query)
        except ApiError as err:
            return self._send(err.status, {"error": err.reason})
        except Exception as err:  # an unexpected bug must still answer, and say so
            return self._send(500, {"error": f"internal error: {err.__class__.__name__}: {err}"})
        if fault and fault["mode"] == "garbage":
            return self._send(200, None, raw=b"<html><body>502 Bad Gateway (injected garbage)</body></html>")
        return self._send(status, payload)

    def _route(self, method, path, query):
        agency = self.server.agency
        parts = path.strip("/").split("/")
        if method == "GET" and path == "/v1/info":
            return 200, agency.info()
        if path == "/v1/cases":
            if method == "POST":
                return agency.register(self.headers.get("Idempotency-Key"), self._body())
            if method == "GET":
                return 200, agency.list_cases(query)
        if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "cases"]:
            return 200, agency.get_case(parts[2])
        if method == "POST" and len(parts) == 4 and parts[:2] == ["v1", "cases"] and parts[3] in self.COMMANDS:
            return agency.command(parts[2], parts[3], self._body(), self.headers.get("Idempotency-Key"))
        if method == "GET" and path == "/v1/changes":
            return 200, agency.changes(query)
        if method == "POST" and path == "/_sandbox/clock":
            return 200, agency.set_clock(self._body())
        if path == "/_sandbox/faults":
            if method == "POST":
                return 200, agency.add_fault(self._body())
            if method == "DELETE":
                return 200, agency.clear_faults()
        if method == "GET" and path == "/_sandbox/stats":
            return 200, agency.stats()
        known = path in ("/v1/info", "/v1/cases", "/v1/changes", "/_sandbox/clock", "/_sandbox/faults") or (
            len(parts) in (3, 4) and parts[:2] == ["v1", "cases"]
        )
        raise ApiError(405 if known else 404, f"{method} {path} is not part of the agency API")


class SandboxServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying the agency."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, agency, verbose=False):
        super().__init__(address, Handler)
        self.agency = agency
        self.verbose = verbose

    @property
    def url(self):
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def spawn(db_path, api_key, *extra, environment="test"):
    """Start the sandbox in its own process on a free port; return (process, base URL).

    For tests and benchmarks: the process is the caller's to terminate.
    """
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sidecar.sandbox",
            "--port",
            "0",
            "--db",
            str(db_path),
            "--api-key",
            api_key,
            "--environment",
            environment,
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    line = process.stdout.readline()
    if not line.startswith("listening on "):
        process.kill()
        raise RuntimeError(f"sandbox did not start: {line!r}")
    return process, line.split()[2]


def _parse_args(argv):
    parser = argparse.ArgumentParser(prog="nordic-sandbox-agency", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8950, help="0 picks a free port (printed on stdout)")
    parser.add_argument("--db", required=True, help="SQLite file (created if missing)")
    parser.add_argument(
        "--api-key",
        default=os.environ.get("SANDBOX_API_KEY"),
        help="the expected X-API-Key (default: env SANDBOX_API_KEY)",
    )
    parser.add_argument("--environment", choices=("test", "production"), default="test")
    parser.add_argument("--name", default="Sandbox Agency")
    parser.add_argument("--start-date", type=date.fromisoformat, help="the clock's first day for a new --db file")
    parser.add_argument("--collection-fee", type=Decimal, help="fee per case (default by currency)")
    parser.add_argument("--interest-rate", type=Decimal, default=Decimal("10"), help="yearly %% (default 10)")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="fraction of /v1 requests answered 500")
    parser.add_argument("--seed", type=int, help="seed of --fail-rate's random choice")
    parser.add_argument("--fault-sleep", type=float, default=3.0, help="seconds a 'timeout' fault sleeps")
    parser.add_argument(
        "--day-every",
        type=float,
        default=0,
        help="demos: advance the clock one day every this many real seconds (0: never)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("--api-key (or env SANDBOX_API_KEY) is required")
    if not 0 <= args.fail_rate <= 1:
        parser.error("--fail-rate must be between 0 and 1")
    return args


def _tick(agency, seconds):
    """Demo clock: one sandbox day every ``seconds`` real seconds."""
    while True:
        time.sleep(seconds)
        agency.set_clock({"advance_days": 1})


def main(argv=None):
    args = _parse_args(argv)
    agency = SandboxAgency(
        args.db,
        args.api_key,
        environment=args.environment,
        name=args.name,
        start_date=args.start_date,
        collection_fee=args.collection_fee,
        interest_rate=args.interest_rate,
        fail_rate=args.fail_rate,
        seed=args.seed,
        fault_sleep=args.fault_sleep,
    )
    server = SandboxServer((args.host, args.port), agency, verbose=args.verbose)
    print(
        f"listening on {server.url} environment={args.environment} "
        f"key={hashlib.sha256(args.api_key.encode()).hexdigest()[:8]}",
        flush=True,
    )
    if args.day_every > 0:
        threading.Thread(target=_tick, args=(agency, args.day_every), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
