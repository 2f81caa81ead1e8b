# pylint: disable=consider-merging-classes-inherited
"""Applying the changes (states, payments, fees, interest, disputes) the sidecar reports from an agency.

A change is a neutral record (docs/rpc-contract.md): its ``kind``, the case's new ``state`` as one of the
case's own states, amounts, dates, and the agency's own word for the status (``agency_status``), kept for
display and evidence only. Every change is validated before it touches a case; a change that is malformed,
names an unknown kind or state, or no known case, is quarantined with its error and never stops the others.
Each change is applied once (its id is stored).
"""

import json
import logging
from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models

from odoo.addons.nordic_dunning.tools.sql import execute_values

from .nordic_collection_case_sidecar_parse import change_identifier, clean_text, json_safe, text_or_none

_logger = logging.getLogger(__name__)


# The sidecar API is split in files (its calls, validating changes, applying them) to keep each short.
# pylint: disable=consider-merging-classes-inherited
class NordicCollectionCase(models.Model):
    _inherit = "nordic.collection.case"

    @api.model
    def sidecar_apply_changes(self, agency_id, changes, cursor=None):
        """Apply one page of the agency's feed: each change on its own, the bad ones quarantined with their
        reason, a change id seen before never again; the stored cursor only moves forward."""
        self = self._sidecar_check()
        agency = self._sidecar_agency(agency_id)
        changes = changes if isinstance(changes, list) else []
        by_uuid, by_ext = self._sidecar_find_cases(agency, changes)
        identifiers = [change_identifier(change) for change in changes]
        self.env.cr.execute(
            "SELECT change_id FROM nordic_collection_case_change WHERE agency_id = %s AND change_id = ANY(%s)",
            [agency.id, [cid for cid in identifiers if cid is not None]],
        )
        seen = {row[0] for row in self.env.cr.fetchall()}
        duplicates = 0
        valid, quarantined = [], []
        for change, change_id in zip(changes, identifiers, strict=True):
            if change_id is not None and change_id in seen:
                duplicates += 1
                continue
            if change_id is not None:
                seen.add(change_id)
            try:
                parsed = self._sidecar_parse_change(change, by_uuid, by_ext, change_id)
            except Exception as exc:  # the agency's input: whatever breaks, breaks this change only
                quarantined.append((change_id, change, clean_text(str(exc), 2000) or exc.__class__.__name__))
                continue
            valid.append(parsed)

        stored = self._sidecar_store_changes(agency, valid, quarantined)
        duplicates += len(valid) - len([p for p in valid if p["change_id"] in stored])
        valid = [p for p in valid if p["change_id"] in stored]
        valid.sort(key=lambda p: p["occurred_at"])
        failed = self._sidecar_apply_isolated(agency, valid, stored)
        problems = [(cid, error) for cid, _change, error in quarantined] + failed
        agency._sidecar_record_pass(len(valid) - len(failed), len(valid) + len(quarantined), problems, cursor)
        return {
            "applied": len(valid) - len(failed),
            "duplicates": duplicates,
            "quarantined": [{"id": cid, "error": error} for cid, error in problems],
        }

    @api.model
    def _sidecar_apply_isolated(self, agency, valid, stored):
        """Apply the page at once; should that fail, change by change, each in its own savepoint, so that one
        change the books refuse (a payment with no journal, a closed period) is quarantined with the reason
        and the others still apply. Returns [(change id, error)] of those quarantined."""
        if not valid:
            return []
        try:
            with self.env.cr.savepoint():
                self._sidecar_apply_valid(agency, valid, stored)
            return []
        except Exception:  # found again below, change by change
            _logger.info("Agency %s: a page of %s changes failed; applying them one by one", agency.code, len(valid))
        failed = []
        for parsed in valid:
            try:
                with self.env.cr.savepoint():
                    self._sidecar_apply_valid(agency, [parsed], stored)
            except Exception as exc:  # quarantined with its reason, for a person to fix
                failed.append((parsed["change_id"], clean_text(str(exc), 2000) or exc.__class__.__name__))
        if failed:
            ids = {parsed["change_id"]: stored[parsed["change_id"]] for parsed in valid}
            execute_values(
                self.env.cr,
                "UPDATE nordic_collection_case_change ch SET state = 'quarantined', error = v.error"
                " FROM (VALUES %s) AS v(id, error) WHERE ch.id = v.id",
                [(ids[cid], error) for cid, error in failed],
            )
            self.env["nordic.collection.case.change"].invalidate_model(["state", "error"])
        return failed

    @api.model
    def _sidecar_reapply(self, changes):
        """Validate and apply quarantined change rows again, agency by agency (action_reapply of a change).
        Returns [(change id, error)] of those still failing; they stay quarantined with the new reason."""
        problems = []
        for agency in changes.agency_id:
            rows = changes.filtered(lambda c, a=agency: c.agency_id == a)
            by_uuid, by_ext = self._sidecar_find_cases(agency, rows.mapped("payload"))
            valid, stored = [], {}
            for row in rows:
                try:
                    parsed = self._sidecar_parse_change(row.payload, by_uuid, by_ext, row.change_id or None)
                except Exception as exc:  # the agency's input, as on its first pass
                    row.write({"error": clean_text(str(exc), 2000) or exc.__class__.__name__})
                    problems.append((row.change_id, row.error))
                    continue
                row.write(
                    {
                        "state": "applied",
                        "error": False,
                        "case_id": parsed["case"].id,
                        "type": parsed["kind"],
                        "case_state": parsed["state"] or False,
                        "status": parsed["agency_status"] or False,
                        "amount": parsed["amount"],
                        "currency": parsed["currency"] or False,
                        "occurred_at": parsed["occurred_at"],
                    }
                )
                valid.append(parsed)
                stored[parsed["change_id"]] = row.id
            self.env.flush_all()
            valid.sort(key=lambda p: p["occurred_at"])
            problems += self._sidecar_apply_isolated(agency, valid, stored)
        return problems

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
                json.dumps(json_safe(p["raw"])),
                uid,
                now,
            )
            for p in valid
        ] + [
            (
                agency.id,
                cid,
                None,
                text_or_none(change.get("kind") if isinstance(change, dict) else None),
                None,
                None,
                None,
                None,
                None,
                "quarantined",
                error,
                json.dumps(json_safe(change)),
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
            never_marked._logged("agency").write({"state": "submitted", "submitted_date": now})

        increments = defaultdict(lambda: [0.0, 0.0])
        for p in valid:
            if p["kind"] == "fee":
                increments[p["case"].id][0] += p["amount"]
            elif p["kind"] == "interest":
                increments[p["case"].id][1] += p["amount"]
        self._sidecar_apply_payments(agency, [p for p in valid if p["kind"] == "payment"], stored, increments)
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
            (changing - tracked)._logged("agency", agency_status=label).with_context(tracking_disable=True).write(vals)
            (changing & tracked)._logged("agency", agency_status=label).write(vals)
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
        activities = []
        for p in disputes:
            case = p["case"]
            reply_by = p["reply_by"] or today + timedelta(days=agency.dispute_reply_days or 14)
            text = clean_text(str(p["data"].get("text") or p["data"].get("reason") or ""), 4000)
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
            activities.append((case, _("Answer the debtor's dispute reported by %s", agency.name), text, reply_by))
        self._plan_activities("nordic_dunning_collection.mail_activity_type_collection_dispute", activities)

    def _sidecar_end_disputes(self):
        """The agency lifted its dispute hold without our answer: no answer is awaited, the deadline is void."""
        if not self:
            return
        self.write({"dispute_at_agency": False})
        self.activity_feedback(
            ["nordic_dunning_collection.mail_activity_type_collection_dispute"],
            feedback=_("The debtor's dispute at the agency is over."),
        )
