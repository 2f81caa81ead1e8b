"""An in-memory implementation of the Odoo side of docs/rpc-contract.md, for the sidecar's own tests.

It is not Odoo and proves nothing about the addon (tests/test_e2e_sync.py runs the real one); it holds the
sidecar to the contract: neutral cases, claims with leases, idempotent submissions with a registered state,
neutral change ids applied once with the cursor stored in the same step (and never moved backwards), quarantine
of changes of an unknown kind or state and of those the sidecar could not map, payments applied up to the open
claim with the excess held, commands and acks. It knows no agency's words. ``JsonRpcServer`` serves it over the
same JSON-RPC endpoints odoorpc uses, so the CLI can run against it as a real process.
"""

import json
import threading
import time
import uuid as uuidlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sidecar.contract import CASE_STATES, CHANGE_KINDS, REGISTERED_STATES
from sidecar.odoo import SidecarApi
from tests.conftest import neutral_case


class UserError(Exception):
    """What Odoo's UserError would be."""


class ContractOdoo:
    """The contract's methods over plain dicts, thread-safe."""

    def __init__(self, agencies, neutralized=True, lease_seconds=600):
        self.lock = threading.Lock()
        self.database = {"neutralized": neutralized, "uuid": "db-uuid", "name": "testdb"}
        self.agencies = {
            agency["id"]: {"cursor": None, "allow_test_from_production": False, "protocol": "nordic_v1", **agency}
            for agency in agencies
        }
        self.lease_seconds = lease_seconds
        self.cases = {}
        self.applied = {}  # (agency_id, change_id) -> change
        self.quarantine = {}
        self.commands = {}
        self.heartbeats = []
        self.calls = []

    # --------------------------------------------------------------- fixtures
    def add_case(self, agency_id, principal=1000.0):
        case_uuid = str(uuidlib.uuid4())
        self.cases[case_uuid] = {
            "id": len(self.cases) + 1,
            "uuid": case_uuid,
            "agency_id": agency_id,
            "state": "to_submit",
            "case": neutral_case(case_uuid, principal=principal),
            "claimed_by": None,
            "claimed_at": 0.0,
            "external_id": None,
            "ocr": None,
            "agency_status": None,
            "last_error": None,
            "paid": 0.0,
            "fees": 0.0,
            "interest": 0.0,
            "excess": 0.0,
            "dispute": None,
            "submit_count": 0,
            "claims": [],
        }
        return case_uuid

    def add_command(self, case_uuid, action, data=None):
        command_id = len(self.commands) + 1
        self.commands[command_id] = {
            "command_id": command_id,
            "case_uuid": case_uuid,
            "action": action,
            "data": data or {},
            "state": "pending",
            "error": None,
        }
        return command_id

    def snapshot(self):
        """What must be identical after a disturbed and an undisturbed run."""
        return sorted(
            (
                c["case"]["debts"][0]["principal"],
                c["state"],
                c["external_id"] is not None,
                round(c["paid"], 2),
                round(c["fees"], 2),
                round(c["interest"], 2),
            )
            for c in self.cases.values()
        )

    # --------------------------------------------------------------- contract
    def sidecar_agencies(self):
        with self.lock:
            # The real Odoo hands out no production API key from a neutralized database (docs/rpc-contract.md,
            # section 1); the sidecar refuses such an agency before it contacts it.
            agencies = [
                dict(a, api_key="") if a["environment"] == "production" and self.database["neutralized"] else dict(a)
                for a in self.agencies.values()
            ]
            return {"database": dict(self.database), "agencies": agencies}

    def _check_env(self, agency):
        if agency["environment"] == "production" and self.database["neutralized"]:
            raise UserError("production agency from a neutralized database")
        if (
            agency["environment"] == "test"
            and not self.database["neutralized"]
            and not agency["allow_test_from_production"]
        ):
            raise UserError("test agency from a production database")

    def sidecar_claim(self, agency_id, limit, worker):
        with self.lock:
            self._check_env(self.agencies[agency_id])
            now = time.time()
            result = []
            for case in self.cases.values():
                if len(result) >= limit or case["agency_id"] != agency_id:
                    continue
                expired = case["state"] == "submitting" and now - case["claimed_at"] >= self.lease_seconds
                if case["state"] == "to_submit" or expired:
                    case.update(state="submitting", claimed_by=worker, claimed_at=now)
                    case["claims"].append(worker)
                    result.append({"id": case["id"], "uuid": case["uuid"], "case": case["case"]})
            return result

    def sidecar_record_submissions(self, agency_id, results):
        with self.lock:
            for item in results:
                case = self.cases[item["uuid"]]
                state = item.get("state") or "submitted"
                error = item.get("error")
                if not error and state not in REGISTERED_STATES:
                    error = f"a registration cannot put a case in state {state!r}"
                if error:
                    if case["state"] == "submitting":
                        case.update(state="to_submit", last_error=error)
                elif case["state"] in ("submitting", "to_submit"):
                    case.update(
                        state=state,
                        external_id=item["external_id"],
                        ocr=item["ocr"],
                        agency_status=item.get("agency_status"),
                        last_error=None,
                    )
                    case["submit_count"] += 1
            return True

    def sidecar_apply_changes(self, agency_id, changes, cursor):
        with self.lock:
            applied = duplicates = 0
            quarantined = []
            by_external_id = {c["external_id"]: c for c in self.cases.values() if c["external_id"]}
            for change in changes:
                change_id = change.get("id")
                if (agency_id, change_id) in self.applied or (agency_id, change_id) in self.quarantine:
                    duplicates += 1
                    continue
                case = self.cases.get(change.get("uuid")) or by_external_id.get(change.get("external_id"))
                kind = change.get("kind")
                state = change.get("state") or ("paused" if kind == "dispute" else None)
                error = None
                if not isinstance(change_id, str) or not change_id:
                    error = "change without id"
                elif change.get("error"):
                    error = f"the sidecar could not read the agency's change: {change['error']}"
                elif kind not in CHANGE_KINDS:
                    error = f"unknown change kind {kind!r}"
                elif not case:
                    error = "unknown case"
                elif kind in ("state", "dispute") and state not in CASE_STATES:
                    error = f"an agency cannot put a case in state {state!r}"
                if error:
                    self.quarantine[(agency_id, change_id)] = error
                    quarantined.append({"id": change_id, "error": error})
                    continue
                if kind == "payment":
                    debt = case["case"]["debts"][0]
                    claim = debt["principal"] + debt["fees"] + debt["interest"] + case["fees"] + case["interest"]
                    applied_amount = min(float(change["amount"]), max(claim - case["paid"], 0.0))
                    case["paid"] += applied_amount
                    case["excess"] += float(change["amount"]) - applied_amount
                elif kind == "fee":
                    case["fees"] += float(change["amount"])
                elif kind == "interest":
                    case["interest"] += float(change["amount"])
                else:
                    case.update(state=state, agency_status=change.get("agency_status"))
                if kind == "dispute":
                    case["dispute"] = change["data"]
                self.applied[(agency_id, change_id)] = change
                applied += 1
            stored = self.agencies[agency_id]["cursor"]
            if cursor is not None and not (
                stored and str(stored).isdigit() and str(cursor).isdigit() and int(cursor) < int(stored)
            ):
                self.agencies[agency_id]["cursor"] = cursor
            return {"applied": applied, "duplicates": duplicates, "quarantined": quarantined}

    def sidecar_pending_commands(self, agency_id, limit):
        with self.lock:
            pending = [c for c in self.commands.values() if c["state"] == "pending"][:limit]
            return [
                {
                    "command_id": c["command_id"],
                    "case_uuid": c["case_uuid"],
                    "external_id": self.cases[c["case_uuid"]]["external_id"],
                    "action": c["action"],
                    "data": c["data"],
                }
                for c in pending
            ]

    def sidecar_ack_commands(self, agency_id, acks):
        with self.lock:
            for ack in acks:
                command = self.commands[ack["command_id"]]
                command.update(state="done" if ack["ok"] else "failed", error=ack.get("error"))
            return True

    def sidecar_heartbeat(self, info):
        with self.lock:
            self.heartbeats.append(info)
            return True


class LocalOdoo(SidecarApi):
    """The sidecar's OdooClient interface over a ContractOdoo, without HTTP (sync core tests)."""

    def __init__(self, contract):
        self.contract = contract
        self.calls = 0

    def _call(self, method, *args):
        self.calls += 1
        self.contract.calls.append(method)
        return json.loads(json.dumps(getattr(self.contract, method)(*json.loads(json.dumps(args)))))


class _RpcHandler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def do_POST(self):
        server = self.server
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        params = request.get("params") or {}
        try:
            result = self._dispatch(server, self.path, params)
            answer = {"jsonrpc": "2.0", "id": request.get("id"), "result": result}
        except Exception as err:  # the shape of an Odoo JSON-RPC error
            answer = {
                "jsonrpc": "2.0",
                "id": request.get("id"),
                "error": {
                    "code": 200,
                    "message": "Odoo Server Error",
                    "data": {"name": f"odoo.exceptions.{err.__class__.__name__}", "message": str(err)},
                },
            }
        raw = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    @staticmethod
    def _dispatch(server, path, params):
        server.requests += 1
        if path == "/web/webclient/version_info":
            return {"server_version": "18.0", "server_version_info": [18, 0, 0, "final", 0, ""], "protocol_version": 1}
        service, method, args = params.get("service"), params.get("method"), params.get("args") or []
        if path != "/jsonrpc":
            raise UserError(f"no route {path}")
        if service == "common" and method == "login":
            return 2 if tuple(args) == (server.db, server.login, server.api_key) else False
        if service == "object" and args[2] != server.api_key:
            raise UserError("Access Denied")
        if service == "object" and method == "execute" and args[4] == "context_get":
            return {"lang": "en_US", "tz": "Europe/Stockholm"}
        if service == "object" and method == "execute_kw" and args[3] == "nordic.collection.case":
            server.contract.calls.append(args[4])
            if not args[4].startswith("sidecar_"):
                raise UserError(f"method {args[4]} not allowed")
            return getattr(server.contract, args[4])(*args[5])
        raise UserError(f"unsupported call {service}.{method}")


class JsonRpcServer(ThreadingHTTPServer):
    """ContractOdoo behind Odoo's JSON-RPC endpoints (version_info, common.login, object.execute_kw)."""

    daemon_threads = True

    def __init__(self, contract, db="testdb", login="sidecar", api_key="odoo-api-key"):
        super().__init__(("127.0.0.1", 0), _RpcHandler)
        self.contract = contract
        self.db, self.login, self.api_key = db, login, api_key
        self.requests = 0
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()
