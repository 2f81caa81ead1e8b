"""The batch-only RPC API the sidecar calls (docs/rpc-contract.md).

Every method checks that the caller belongs to the sidecar group, then works as superuser:
the sidecar's technical user has no access right of its own, so it can do nothing but call these.
The API speaks neutral records (cases, debts, states of the case's own selection); each agency's protocol
is mapped to them in the sidecar, so nothing here knows an agency's words.
"""

import json
from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.nordic_dunning.tools.sql import execute_values
from odoo.addons.nordic_dunning.tools.system import as_system

from .nordic_collection_agency import CLOSED_STATES
from .nordic_collection_case import REGISTERED_STATES

LEASE = timedelta(minutes=10)
MAX_COMMAND_ATTEMPTS = 5


def _iso(value):
    return value.isoformat() if value else None


def agency_label(value):
    """The agency's own word for a status: a text kept for display and evidence, never interpreted."""
    if value in (None, ""):
        return False
    if not isinstance(value, str):
        raise ValueError(f"agency_status must be a text, got {type(value).__name__}")
    return value.replace("\x00", "")[:64]


def registered_state(result):
    """(state, agency label) of a registration the sidecar reports, or ValueError."""
    state = result.get("state") or "submitted"
    if state not in REGISTERED_STATES:
        raise ValueError(f"a registration cannot put a case in state {state!r} (one of {', '.join(REGISTERED_STATES)})")
    return state, agency_label(result.get("agency_status"))


# The sidecar API is split in two files (its calls, and the agency changes it applies) to keep each short.
# pylint: disable=consider-merging-classes-inherited
class NordicCollectionCase(models.Model):
    _inherit = "nordic.collection.case"

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    @api.model
    def _sidecar_check(self):
        """Only the sidecar's technical user (or an administrator) may call the sidecar API."""
        user = self.env.user
        if not (
            self.env.su
            or user.has_group("nordic_dunning_collection.group_nordic_dunning_sidecar")
            or user.has_group("base.group_system")
        ):
            raise AccessError(_("Only the collection sidecar may call this method."))
        # The sidecar's writes are the product's own (tools/system): a case's state, amounts, agency reports.
        return as_system(self.sudo())

    @api.model
    def _sidecar_agency(self, agency_id, check_environment=True):
        agency = self.env["nordic.collection.agency"].sudo().browse(int(agency_id)).exists()
        if not agency or not agency.active:
            raise UserError(_("Unknown or archived collection agency %s.", agency_id))
        if check_environment:
            agency._check_environment()
        return agency

    def _sidecar_case(self):
        """The neutral record of one case: what any agency needs to register it."""
        self.ensure_one()
        move = self.move_id
        return {
            "uuid": self.uuid,
            "name": self.name,
            "currency": self.currency_id.name,
            "debtor": {
                "name": self.debtor_name,
                "id_number": self.debtor_id_number or "",
                "is_company": self.debtor_is_company,
                "street": self.debtor_street or "",
                "zip": self.debtor_zip or "",
                "city": self.debtor_city or "",
                "country": self.debtor_country_id.code or "",
                "email": self.debtor_email or "",
                "phone": self.debtor_phone or "",
            },
            "debts": [
                {
                    "invoice_number": move.name,
                    "invoice_date": _iso(move.invoice_date),
                    "due_date": _iso(move.invoice_date_due),
                    "principal": self.amount_principal,
                    "fees": self.amount_fees,
                    "interest": self.amount_interest,
                    "payment_reference": move.payment_reference or move.name,
                }
            ],
            "disputed": self.disputed,
            "dispute_text": self.dispute_text or "",
        }

    # ------------------------------------------------------------------
    # 1. Agencies
    # ------------------------------------------------------------------

    @api.model
    def sidecar_agencies(self):
        self = self._sidecar_check()
        params = self.env["ir.config_parameter"].sudo()
        agencies = self.env["nordic.collection.agency"].sudo().search([])
        neutralized = bool(params.get_param("database.is_neutralized"))
        return {
            "database": {
                "neutralized": neutralized,
                "uuid": params.get_param("database.uuid") or "",
                "name": self.env.cr.dbname,
            },
            "agencies": [
                {
                    "id": agency.id,
                    "code": agency.code,
                    "name": agency.name,
                    "base_url": agency.base_url,
                    # A neutralized copy never hands out a production key (the sidecar refuses the agency too).
                    "api_key": "" if neutralized and agency.environment == "production" else agency.api_key or "",
                    "protocol": agency.protocol,
                    "environment": agency.environment,
                    "allow_test_from_production": agency.allow_test_from_production,
                    "cursor": agency.cursor or None,
                }
                for agency in agencies
            ],
        }

    # ------------------------------------------------------------------
    # 2. Claim
    # ------------------------------------------------------------------

    @api.model
    def sidecar_claim(self, agency_id, limit, worker):
        self = self._sidecar_check()
        agency = self._sidecar_agency(agency_id)
        now = fields.Datetime.now()
        self.env.flush_all()
        # Row locks held until the caller's transaction ends: a second sidecar skips them instead of waiting,
        # and a case whose claimant died is taken again once its lease has expired.
        self.env.cr.execute(
            """
            SELECT id FROM nordic_collection_case
             WHERE agency_id = %s
               AND (state = 'to_submit' OR (state = 'submitting' AND (claimed_at IS NULL OR claimed_at < %s)))
             ORDER BY id
             LIMIT %s
               FOR UPDATE SKIP LOCKED
            """,
            [agency.id, now - LEASE, max(int(limit), 0)],
        )
        cases = self.browse([row[0] for row in self.env.cr.fetchall()])
        settled = cases.filtered(
            lambda c: c.move_id.state != "posted" or c.move_id.payment_state in ("paid", "in_payment", "reversed")
        )
        if settled:
            settled._logged("sidecar", _("Settled before submission")).write({"state": "cancelled"})
        cases -= settled
        cases._logged("sidecar").write({"state": "submitting", "claimed_by": str(worker or "")[:64], "claimed_at": now})
        return [{"id": case.id, "uuid": case.uuid, "case": case._sidecar_case()} for case in cases]

    # ------------------------------------------------------------------
    # 3. Submissions
    # ------------------------------------------------------------------

    @api.model
    def sidecar_record_submissions(self, agency_id, results):
        self = self._sidecar_check()
        agency = self._sidecar_agency(agency_id)
        # What the agency answered, relayed: a key that is no text (or holds a NUL) names no case of ours.
        results = [
            r
            for r in (results if isinstance(results, list) else [])
            if isinstance(r, dict) and isinstance(r.get("uuid"), str) and r["uuid"] and "\x00" not in r["uuid"]
        ]
        cases = self.search([("agency_id", "=", agency.id), ("uuid", "in", [str(r["uuid"]) for r in results])])
        by_uuid = {case.uuid: case for case in cases}
        now = fields.Datetime.now()
        ok_rows, failed, unknown = [], defaultdict(lambda: self.browse()), []
        registered = defaultdict(lambda: self.browse())
        for result in results:
            case = by_uuid.get(str(result["uuid"]))
            if not case:
                unknown.append(result["uuid"])
                continue
            error = result.get("error")
            if not error and result.get("external_id"):
                try:
                    state, label = registered_state(result)
                except ValueError as exc:
                    error = str(exc)
            if error:
                if case.state in ("submitting", "to_submit") and not case.external_id:
                    failed[str(error)[:2000]] |= case
                continue
            if not result.get("external_id"):
                unknown.append(result["uuid"])
                continue
            external_id = str(result["external_id"]).replace("\x00", "")[:128]
            if case.external_id == external_id:
                continue  # already recorded: a repeated call changes nothing
            ocr = str(result.get("ocr") or "").replace("\x00", "")[:64] or None
            ok_rows.append((case.id, external_id, ocr, label or None))
            if case.state in ("to_submit", "submitting"):
                registered[state] |= case
        if ok_rows:
            execute_values(
                self.env.cr,
                """
                UPDATE nordic_collection_case c SET external_id = v.ext, ocr = v.ocr, agency_status = v.status
                  FROM (VALUES %s) AS v(id, ext, ocr, status) WHERE c.id = v.id
                """,
                ok_rows,
            )
            self.invalidate_model(["external_id", "ocr", "agency_status"])
        for state, recs in registered.items():
            recs._logged("sidecar").write(
                {"state": state, "submitted_date": now, "last_error": False, "last_sync": now}
            )
        for error, recs in failed.items():
            recs._logged("sidecar", error[:200]).write(
                {"state": "to_submit", "last_error": error, "claimed_by": False, "claimed_at": False, "last_sync": now}
            )
        return {
            "submitted": len(ok_rows),
            "failed": sum(len(recs) for recs in failed.values()),
            "unknown": unknown,
        }

    # 4. Changes: nordic_collection_case_sidecar_changes.py

    # ------------------------------------------------------------------
    # 5. Commands
    # ------------------------------------------------------------------

    @api.model
    def sidecar_pending_commands(self, agency_id, limit):
        self = self._sidecar_check()
        agency = self._sidecar_agency(agency_id)
        commands = (
            self.env["nordic.collection.case.command"]
            .sudo()
            .search(
                [("agency_id", "=", agency.id), ("state", "=", "pending"), ("case_id.external_id", "!=", False)],
                limit=max(int(limit), 0),
                order="id",
            )
        )
        return [
            {
                "command_id": command.id,
                "case_uuid": command.case_id.uuid,
                "external_id": command.case_id.external_id,
                "action": command.action,
                "data": command.data or {},
            }
            for command in commands
        ]

    @api.model
    def sidecar_ack_commands(self, agency_id, acks):
        self = self._sidecar_check()
        agency = self._sidecar_agency(agency_id)
        acks = [
            a
            for a in (acks if isinstance(acks, list) else [])
            if isinstance(a, dict) and isinstance(a.get("command_id"), int) and not isinstance(a["command_id"], bool)
        ]
        commands = (
            self.env["nordic.collection.case.command"]
            .sudo()
            .search(
                [
                    ("id", "in", [int(a["command_id"]) for a in acks]),
                    ("agency_id", "=", agency.id),
                    ("state", "=", "pending"),
                ]
            )
        )
        by_id = {command.id: command for command in commands}
        now = fields.Datetime.now()
        done = commands.browse()
        effects = defaultdict(lambda: self.browse())
        for ack in acks:
            command = by_id.pop(int(ack["command_id"]), None)
            if not command:
                continue  # unknown or already acknowledged: nothing changes
            if ack.get("ok"):
                done |= command
                state = {"pause": "paused", "resume": "active", "withdraw": "withdrawn"}.get(command.action)
                if command.action == "dispute_answer":
                    # The agency withdraws a dropped claim and resumes collection of an upheld one.
                    state = "withdrawn" if (command.data or {}).get("answer") == "withdraw" else "active"
                if state and command.case_id.state not in CLOSED_STATES:
                    effects[state] |= command.case_id
            else:
                attempts = command.attempts + 1
                command.write(
                    {
                        "attempts": attempts,
                        "error": str(ack.get("error") or _("Refused by the agency")),
                        "state": "failed" if attempts >= MAX_COMMAND_ATTEMPTS else "pending",
                    }
                )
        done.write({"state": "done", "done_date": now, "error": False})
        for state, cases in effects.items():
            cases._logged("sidecar").write({"state": state})
        return {"done": len(done), "failed": len(acks) - len(done)}

    # ------------------------------------------------------------------
    # 6. Heartbeat
    # ------------------------------------------------------------------

    @api.model
    def sidecar_heartbeat(self, info):
        self = self._sidecar_check()
        info = info if isinstance(info, dict) else {}
        now = fields.Datetime.now()
        worker = str(info.get("worker") or "")[:64]
        stats = info.get("stats") or {}
        if info.get("agency_id"):
            agency = self._sidecar_agency(info["agency_id"], check_environment=False)
            vals = {"last_sync": now, "last_worker": worker}
            # A heartbeat that reports failures sets the error; a clean one clears it only while the feed moves.
            error = agency._sidecar_heartbeat_error(stats)
            if error:
                vals["last_error"] = error
            elif not agency.feed_stalled:
                vals["last_error"] = False
            agency.write(vals)
        self.env["ir.config_parameter"].sudo().set_param(
            "nordic_dunning.sidecar_heartbeat",
            json.dumps({"worker": worker, "at": _iso(now), "stats": stats}, default=str),
        )
        return {"ok": True, "time": _iso(now)}
