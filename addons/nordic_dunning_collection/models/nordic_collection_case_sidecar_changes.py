# pylint: disable=consider-merging-classes-inherited
"""Applying the changes (states, payments, fees, interest, disputes) the sidecar reports from an agency.

A change is a neutral record (docs/rpc-contract.md): its ``kind``, the case's new ``state`` as one of the
case's own states, amounts, dates, and the agency's own word for the status (``agency_status``), kept for
display and evidence only. Every change is validated before it touches a case; a change that is malformed,
names an unknown kind or state, or no known case, is quarantined with its error and never stops the others.
Each change is applied once (its id is stored).
"""

import json
from collections import defaultdict
from datetime import datetime, timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_is_zero

from odoo.addons.nordic_dunning.tools.sql import execute_values

from .nordic_collection_case import AGENCY_STATES
from .nordic_collection_case_sidecar import agency_label

CHANGE_KINDS = ("state", "payment", "fee", "interest", "dispute")
AMOUNT_KINDS = ("payment", "fee", "interest")


def _text_or_none(value):
    return value[:64] if isinstance(value, str) else None


def _parse_datetime(value):
    """Naive UTC datetime of an ISO 8601 string (with or without offset)."""
    if not isinstance(value, str) or not value:
        raise ValueError("occurred_at is missing")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo:
        moment = (moment - moment.utcoffset()).replace(tzinfo=None)
    return moment


# The sidecar API is split in two files (its calls, and the agency changes it applies) to keep each short.
# pylint: disable=consider-merging-classes-inherited
class NordicCollectionCase(models.Model):
    _inherit = "nordic.collection.case"

    @api.model
    def sidecar_apply_changes(self, agency_id, changes, cursor=None):
        self = self._sidecar_check()
        agency = self._sidecar_agency(agency_id)
        changes = changes if isinstance(changes, list) else []
        refs = {c["uuid"] for c in changes if isinstance(c, dict) and isinstance(c.get("uuid"), str)}
        ext_ids = {str(c.get("external_id")) for c in changes if isinstance(c, dict) and c.get("external_id")}
        cases = self.search(
            [
                ("agency_id", "=", agency.id),
                "|",
                ("uuid", "in", list(refs)),
                ("external_id", "in", list(ext_ids)),
            ]
        )
        by_uuid = {case.uuid: case for case in cases}
        by_ext = {case.external_id: case for case in cases if case.external_id}

        self.env.cr.execute(
            "SELECT change_id FROM nordic_collection_case_change WHERE agency_id = %s AND change_id = ANY(%s)",
            [agency.id, [str(c["id"]) for c in changes if isinstance(c, dict) and c.get("id")]],
        )
        seen = {row[0] for row in self.env.cr.fetchall()}
        duplicates = 0
        valid, quarantined = [], []
        for change in changes:
            change_id = str(change["id"]) if isinstance(change, dict) and change.get("id") not in (None, "") else None
            if change_id is not None and change_id in seen:
                duplicates += 1
                continue
            if change_id is not None:
                seen.add(change_id)
            try:
                parsed = self._sidecar_parse_change(change, by_uuid, by_ext, change_id)
            except (ValueError, TypeError, KeyError) as exc:
                quarantined.append((change_id, change, str(exc) or exc.__class__.__name__))
                continue
            valid.append(parsed)
        if any(p["kind"] == "payment" for p in valid) and not agency.payment_journal_id:
            # A configuration error, not a bad change: refuse the whole batch so nothing is half applied.
            raise UserError(_("Set a payment journal on agency %s before its payments can be recorded.", agency.name))

        stored = self._sidecar_store_changes(agency, valid, quarantined)
        duplicates += len(valid) - len([p for p in valid if p["change_id"] in stored])
        valid = [p for p in valid if p["change_id"] in stored]
        valid.sort(key=lambda p: p["occurred_at"])
        self._sidecar_apply_valid(agency, valid, stored)

        now = fields.Datetime.now()
        vals = {"last_sync": now}
        if cursor is not None:
            vals["cursor"] = str(cursor)
        agency.write(vals)
        return {
            "applied": len(valid),
            "duplicates": duplicates,
            "quarantined": [{"id": cid, "error": error} for cid, _change, error in quarantined],
        }

    @api.model
    def _sidecar_parse_change(self, change, by_uuid, by_ext, change_id):
        """A validated change dict, or ValueError saying what is wrong with it."""
        if not isinstance(change, dict):
            raise ValueError("a change must be an object")
        if change_id is None:
            raise ValueError("the change has no id")
        if change.get("error"):
            raise ValueError(f"the sidecar could not read the agency's change: {change['error']}")
        kind = change.get("kind")
        if kind not in CHANGE_KINDS:
            raise ValueError(f"unknown change kind {kind!r} (one of {', '.join(CHANGE_KINDS)})")
        uuid = change.get("uuid")
        case = (by_uuid.get(uuid) if isinstance(uuid, str) else None) or by_ext.get(
            str(change.get("external_id") or "")
        )
        if not case:
            raise ValueError("no case of this agency matches uuid / external_id")
        occurred_at = _parse_datetime(change.get("occurred_at"))
        data = change.get("data") or {}
        if not isinstance(data, dict):
            raise ValueError("data must be an object")
        label = agency_label(change.get("agency_status"))
        state = False
        if kind in ("state", "dispute"):
            # The agency holds a disputed case: a dispute without a state of its own pauses it.
            state = change.get("state") or ("paused" if kind == "dispute" else None)
            if state not in AGENCY_STATES:
                raise ValueError(f"an agency cannot put a case in state {state!r} (one of {', '.join(AGENCY_STATES)})")
        amount, currency = 0.0, None
        if kind in AMOUNT_KINDS:
            raw = change.get("amount")
            if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
                raise ValueError("amount is missing or not a number")
            amount = case.currency_id.round(float(raw))
            rounding = case.currency_id.rounding
            if amount < 0 or (kind == "payment" and float_is_zero(amount, precision_rounding=rounding)):
                raise ValueError(f"invalid amount {raw!r}")
            currency = case.currency_id.name
            if change.get("currency") and change["currency"] != currency:
                raise ValueError(f"currency {change['currency']} differs from the case's {currency}")
        reply_by = False
        if kind == "dispute" and data.get("reply_by"):
            reply_by = fields.Date.to_date(str(data["reply_by"])[:10])
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
            "external_id": str(change.get("external_id") or "") or False,
        }

    @api.model
    def _sidecar_store_changes(self, agency, valid, quarantined):
        """Record the changes (one statement); returns {change_id: row id} of those newly stored and valid."""
        now = fields.Datetime.now()
        uid = self.env.uid
        rows = [
            (
                agency.id,
                p["change_id"],
                p["case"].id,
                p["kind"],
                p["state"] or None,
                p["agency_status"] or None,
                p["amount"],
                p["currency"],
                p["occurred_at"],
                "applied",
                None,
                json.dumps(p["raw"], default=str),
                uid,
                now,
            )
            for p in valid
        ] + [
            (
                agency.id,
                cid,
                None,
                _text_or_none(change.get("kind") if isinstance(change, dict) else None),
                None,
                None,
                None,
                None,
                None,
                "quarantined",
                error,
                json.dumps(change, default=str),
                uid,
                now,
            )
            for cid, change, error in quarantined
        ]
        if not rows:
            return {}
        self.env.flush_all()
        result = execute_values(
            self.env.cr,
            """
            INSERT INTO nordic_collection_case_change
                (agency_id, change_id, case_id, type, case_state, status, amount, currency, occurred_at, state, error,
                 payload, create_uid, write_uid, create_date, write_date)
            SELECT v.agency_id, v.change_id, v.case_id::int, v.kind, v.case_state, v.status, v.amount::numeric,
                   v.currency, v.occurred_at::timestamp, v.state, v.error, v.payload::jsonb, v.uid, v.uid,
                   v.now::timestamp, v.now::timestamp
              FROM (VALUES %s) AS v(agency_id, change_id, case_id, kind, case_state, status, amount, currency,
                                    occurred_at, state, error, payload, uid, now)
            ON CONFLICT (agency_id, change_id) DO NOTHING
            RETURNING change_id, id, state
            """,
            rows,
            page_size=5000,
            fetch=True,
        )
        self.env["nordic.collection.case.change"].invalidate_model()
        return {cid: rid for cid, rid, state in result if state == "applied"}

    @api.model
    def _sidecar_apply_valid(self, agency, valid, stored):
        now = fields.Datetime.now()
        touched = self.browse([p["case"].id for p in valid])
        if not valid:
            return
        # Cases whose submission was never recorded (sidecar killed after the agency accepted them).
        missing_ext = {p["case"].id: p["external_id"] for p in valid if p["external_id"] and not p["case"].external_id}
        if missing_ext:
            execute_values(
                self.env.cr,
                "UPDATE nordic_collection_case c SET external_id = v.ext"
                " FROM (VALUES %s) AS v(id, ext) WHERE c.id = v.id",
                list(missing_ext.items()),
            )
            self.invalidate_model(["external_id"])
            never_marked = self.browse(list(missing_ext)).filtered(lambda c: c.state in ("to_submit", "submitting"))
            never_marked.with_context(nordic_case_source="agency").write({"state": "submitted", "submitted_date": now})

        self._sidecar_apply_payments(agency, [p for p in valid if p["kind"] == "payment"], stored)
        increments = defaultdict(lambda: [0.0, 0.0])
        for p in valid:
            if p["kind"] == "fee":
                increments[p["case"].id][0] += p["amount"]
            elif p["kind"] == "interest":
                increments[p["case"].id][1] += p["amount"]
        if increments:
            execute_values(
                self.env.cr,
                """
                UPDATE nordic_collection_case c
                   SET agency_fees = COALESCE(c.agency_fees, 0) + v.fees::numeric,
                       agency_interest = COALESCE(c.agency_interest, 0) + v.interest::numeric
                  FROM (VALUES %s) AS v(id, fees, interest) WHERE c.id = v.id
                """,
                [(cid, fees, interest) for cid, (fees, interest) in increments.items()],
            )
            self._sidecar_refresh_amounts(list(increments))

        disputes = [p for p in valid if p["kind"] == "dispute"]
        self._sidecar_apply_disputes(agency, disputes)

        # The last state per case wins (a dispute carries one too: a pause); cases are written in groups of
        # equal target state and agency label.
        final = {}
        for p in valid:
            if p["kind"] in ("state", "dispute"):
                final[p["case"].id] = (p["state"], p["agency_status"])
        # An unanswered dispute is over once the agency lifts its hold (collection resumed, case closed...).
        ended = self.browse([cid for cid, (state, _label) in final.items() if state != "paused"]).filtered(
            lambda c: c.dispute_at_agency and not c.dispute_answer
        )
        ended._track_set_log_message(_("The debtor's dispute at the agency is over."))
        # Disputes are few and followed in the chatter; every other move is in the status history only.
        tracked = self.browse([p["case"].id for p in disputes]) | ended
        groups = defaultdict(list)
        for case_id, target in final.items():
            groups[target].append(case_id)
        newly_failed = self.browse()
        for (state, label), case_ids in groups.items():
            cases = self.browse(case_ids)
            changing = cases.filtered(lambda c, s=state: c.state != s)
            if state == "failed":
                newly_failed |= changing
            # An agency's state is never the outbox's: the case is no longer anybody's claim.
            vals = {"state": state, "agency_status": label, "claimed_by": False, "claimed_at": False}
            agency_ctx = {"nordic_case_source": "agency", "nordic_agency_status": label}
            (changing - tracked).with_context(**agency_ctx, tracking_disable=True).write(vals)
            (changing & tracked).with_context(**agency_ctx).write(vals)
            (cases - changing).write({"agency_status": label})
        ended._sidecar_end_disputes()
        self._on_cases_failed(newly_failed)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE nordic_collection_case SET last_sync = %s, last_error = NULL WHERE id = ANY(%s)",
            [now, touched.ids],
        )
        self.invalidate_model(["last_sync", "last_error"])

    @api.model
    def _sidecar_apply_payments(self, agency, payments, stored):
        """Agency payments become posted inbound payments, reconciled with their invoices."""
        if not payments:
            return
        journal = agency.payment_journal_id
        by_company = defaultdict(list)
        for p in payments:
            by_company[p["case"].company_id].append(p)
        paid = defaultdict(float)
        links, change_rows = [], []
        for company, items in by_company.items():
            journal_c = (
                journal
                if journal.company_id == company
                else self.env["account.journal"].search(
                    [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
                )
            )
            if not journal_c:
                raise UserError(_("No bank journal for agency payments in company %s.", company.name))
            pay_model = self.env["account.payment"].with_company(company)
            created = pay_model.create(
                [
                    {
                        "payment_type": "inbound",
                        "partner_type": "customer",
                        "partner_id": p["case"].partner_id.id,
                        "amount": p["amount"],
                        "currency_id": p["case"].currency_id.id,
                        "journal_id": journal_c.id,
                        "company_id": company.id,
                        "date": p["occurred_at"].date(),
                        "memo": self.env._(
                            "%(agency)s payment %(case)s (%(change)s)",
                            agency=agency.code,
                            case=p["case"].name,
                            change=p["change_id"],
                        ),
                    }
                    for p in items
                ]
            )
            created.action_post()
            plan = []
            for p, payment in zip(items, created, strict=False):
                invoice_lines = p["case"].move_id.line_ids.filtered(
                    lambda line: line.display_type == "payment_term" and not line.reconciled
                )
                payment_lines = payment.move_id.line_ids.filtered(
                    lambda line, accounts=invoice_lines.account_id: line.account_id in accounts and not line.reconciled
                )
                if invoice_lines and payment_lines:
                    plan.append(invoice_lines + payment_lines)
                paid[p["case"].id] += p["amount"]
                links.append((p["case"].id, payment.id))
                change_rows.append((stored[p["change_id"]], payment.id))
            # Linked before they are reconciled: the agency paid these out, nothing to report back to it.
            execute_values(
                self.env.cr,
                "INSERT INTO nordic_collection_case_payment_rel (case_id, payment_id) VALUES %s ON CONFLICT DO NOTHING",
                links,
            )
            if plan:
                self.env["account.move.line"]._reconcile_plan(plan)
        execute_values(
            self.env.cr,
            "UPDATE nordic_collection_case_change ch SET payment_id = v.pid"
            " FROM (VALUES %s) AS v(id, pid) WHERE ch.id = v.id",
            change_rows,
        )
        execute_values(
            self.env.cr,
            "UPDATE nordic_collection_case c SET amount_paid = COALESCE(c.amount_paid, 0) + v.paid::numeric "
            "FROM (VALUES %s) AS v(id, paid) WHERE c.id = v.id",
            list(paid.items()),
        )
        self.invalidate_model(["payment_ids"])
        self.env["nordic.collection.case.change"].invalidate_model(["payment_id"])
        self._sidecar_refresh_amounts(list(paid))

    @api.model
    def _sidecar_refresh_amounts(self, case_ids):
        """_compute_amount_remaining in one statement, for batches of thousands of agency changes.

        The ORM recompute costs about half a millisecond per case in cache conversions; this is
        the same formula (rounded to the currency) for the amounts just changed by SQL.
        """
        self.env.cr.execute(
            """
            UPDATE nordic_collection_case c
               SET amount_remaining = ROUND(GREATEST(
                       COALESCE(c.amount_principal, 0) + COALESCE(c.amount_fees, 0) + COALESCE(c.amount_interest, 0)
                       + COALESCE(c.agency_fees, 0) + COALESCE(c.agency_interest, 0) - COALESCE(c.amount_paid, 0),
                       0) / cur.rounding) * cur.rounding,
                   recovery_rate = CASE WHEN COALESCE(c.amount_principal, 0) = 0 THEN 0
                       ELSE LEAST(COALESCE(c.amount_paid, 0) / c.amount_principal, 1) * 100 END
              FROM res_currency cur
             WHERE cur.id = c.currency_id AND c.id = ANY(%s)
            """,
            [case_ids],
        )
        self.invalidate_model(["amount_paid", "agency_fees", "agency_interest", "amount_remaining", "recovery_rate"])

    @api.model
    def _sidecar_apply_disputes(self, agency, disputes):
        """Debtor disputed at the agency: the agency pauses; the responsible user must answer by a deadline."""
        if not disputes:
            return
        today = fields.Date.context_today(self)
        activity_type = self.env.ref("nordic_dunning_collection.mail_activity_type_collection_dispute")
        model_id = self.env["ir.model"]._get_id(self._name)
        activities = []
        for p in disputes:
            case = p["case"]
            reply_by = p["reply_by"] or today + timedelta(days=agency.dispute_reply_days or 14)
            text = str(p["data"].get("text") or p["data"].get("reason") or "")
            # Tracked: the chatter shows the dispute, its deadline and (with the status) the pause.
            case._track_set_log_message(_("The debtor disputes the claim at the agency: collection is paused."))
            case.write(
                {
                    "disputed": True,
                    "dispute_at_agency": True,
                    "dispute_text": "\n".join(filter(None, [case.dispute_text, text])) or False,
                    "dispute_reply_by": reply_by,
                    "dispute_reminded": False,
                    "dispute_answer": False,
                }
            )
            activities.append(
                {
                    "res_model_id": model_id,
                    "res_id": case.id,
                    "activity_type_id": activity_type.id,
                    "summary": _("Answer the debtor's dispute reported by %s", agency.name),
                    "note": text,
                    "user_id": (case.user_id or agency.user_id or self.env.ref("base.user_admin")).id,
                    "date_deadline": reply_by,
                    "automated": True,
                }
            )
        # No assignment e-mail from the technical user: the activity itself is the notification.
        self.env["mail.activity"].with_context(mail_activity_quick_update=True).create(activities)

    def _sidecar_end_disputes(self):
        """The agency lifted its dispute hold without our answer: no answer is awaited, the deadline is void."""
        if not self:
            return
        self.write({"dispute_at_agency": False})
        self.activity_feedback(
            ["nordic_dunning_collection.mail_activity_type_collection_dispute"],
            feedback=_("The debtor's dispute at the agency is over."),
        )
