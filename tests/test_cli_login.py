"""What the sidecar makes of Odoo failing during its login, as a real process (tests/test_cli.py's style).

Only a login Odoo refuses is a configuration error (exit 2). Odoo failing while it logs the sidecar in (its
database gone away, a proxy's 502, an answer that is not JSON-RPC, nobody listening) is transient: ``sync``
exits 1, ``run --every`` logs it and tries again at the next tick. The Odoo side is the contract's stand-in
(tests/contract_odoo.py) behind a front that answers the first logins with the fault under test.
"""

import io
import json
import signal
import subprocess
import time

import pytest

from tests import test_cli
from tests.contract_odoo import _RpcHandler
from tests.test_cli import sidecar

odoo = test_cli.odoo  # the fixture rpc builds on: tests/test_cli.py's Odoo stand-in


def rpc_error(name, message):
    return {"code": 200, "message": "Odoo Server Error", "data": {"name": name, "message": message}}


FAULTS = {
    # Odoo's database connection dropped under it (a PostgreSQL restart or failover).
    "db_closed": (
        200,
        {"error": rpc_error("psycopg2.OperationalError", "server closed the connection unexpectedly")},
    ),
    "serialization": (200, {"error": rpc_error("psycopg2.errors.SerializationFailure", "could not serialize")}),
    "bad_gateway": (502, b"<html><h1>502 Bad Gateway</h1></html>"),
    "unavailable": (503, b""),
    "not_json": (200, b"<html>maintenance</html>"),
    "not_jsonrpc": (200, {"unexpected": True}),
    "error_without_data": (200, {"error": {"code": 500, "message": "Internal error"}}),
}
# Odoo refusing the login itself.
REFUSALS = {"access_denied": (200, {"error": rpc_error("odoo.exceptions.AccessDenied", "Access Denied")})}


class LoginFaultHandler(_RpcHandler):
    """Answers common.login with the next of server.login_faults while any is left; else as the contract does."""

    def do_POST(self):
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        params = json.loads(raw).get("params") or {}
        if params.get("service") == "common" and params.get("method") == "login" and self.server.login_faults:
            self.server.faulted += 1
            status, body = {**FAULTS, **REFUSALS}[self.server.login_faults.pop(0)]
            payload = body if isinstance(body, bytes) else json.dumps({"jsonrpc": "2.0", "id": 1, **body}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.rfile = io.BytesIO(raw)
        super().do_POST()


@pytest.fixture
def rpc(odoo):
    """tests/test_cli.py's Odoo stand-in (one sandbox agency), its logins answered by LoginFaultHandler."""
    odoo.RequestHandlerClass = LoginFaultHandler
    odoo.login_faults = []
    odoo.faulted = 0
    return odoo


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_odoo_failing_during_login_is_transient(rpc, fault):
    """sync: Odoo failing during the login exits 1 with a clear line, no traceback, nothing claimed."""
    rpc.login_faults = [fault]
    rpc.contract.add_case(1, 1000.0)
    result = sidecar(rpc, "sync")
    assert result.returncode == 1, result.stderr
    assert rpc.faulted == 1
    assert "Traceback" not in result.stderr and "Odoo" in result.stderr
    assert "sidecar_claim" not in rpc.contract.calls


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"ODOO_API_KEY": "wrong"}, "refused"),
        ({"ODOO_LOGIN": "nobody"}, "refused"),
        ({"ODOO_DB": "otherdb"}, "refused"),
    ],
)
def test_refused_login_is_a_config_error(rpc, env, expected):
    """A login Odoo refuses (wrong key, login or database) is a configuration error: exit 2."""
    result = sidecar(rpc, "sync", extra_env=env)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr


def test_access_denied_is_a_config_error(rpc):
    """Odoo answering the login with AccessDenied is a refusal, not a fault: exit 2."""
    rpc.login_faults = ["access_denied"]
    result = sidecar(rpc, "sync")
    assert result.returncode == 2, result.stderr
    assert "refused" in result.stderr


def test_run_keeps_going_through_login_faults(rpc, sandbox):
    """run --every: three ticks whose login fails on Odoo's side are logged; the fourth syncs; SIGTERM exits 0."""
    rpc.login_faults = ["db_closed", "bad_gateway", "not_json"]
    rpc.contract.add_case(1, 1000.0)
    process = sidecar(rpc, "run", "--every", "1s", "--log-format", "json", wait=False)
    deadline = time.monotonic() + 30
    while sandbox.stats()["cases"] < 1 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    assert process.returncode == 0, stderr
    assert rpc.faulted == 3
    assert sandbox.stats()["cases"] == 1
    assert "server closed the connection unexpectedly" in stderr
    assert "Traceback" not in stderr
