"""The sidecar CLI as a real process: exit codes, JSON logs, crash and restart, graceful stop.

Odoo is stood in for by tests/contract_odoo.py behind the JSON-RPC endpoints odoorpc uses (the real Odoo is
in tests/test_e2e_sync.py).
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import API_KEY, ROOT
from tests.contract_odoo import ContractOdoo, JsonRpcServer


@pytest.fixture
def odoo(sandbox):
    contract = ContractOdoo(
        [
            {
                "id": 1,
                "code": "SBX",
                "name": "Sandbox",
                "base_url": sandbox.url,
                "api_key": API_KEY,
                "environment": "test",
            }
        ],
        lease_seconds=0,
    )
    server = JsonRpcServer(contract)
    server.contract = contract
    yield server
    server.stop()


def sidecar(odoo, *args, extra_env=None, wait=True):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ODOO_URL": f"http://127.0.0.1:{odoo.port}" if odoo else "http://127.0.0.1:9",
        "ODOO_DB": "testdb",
        "ODOO_LOGIN": "sidecar",
        "ODOO_API_KEY": "odoo-api-key",
        "ODOO_TIMEOUT": "10",
        "NORDIC_SIDECAR_AGENCY_BACKOFF": "0.01",
        "NORDIC_SIDECAR_WORKER": "cli-test",
        **(extra_env or {}),
    }
    command = [sys.executable, "-m", "sidecar.cli", *args]
    if not wait:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def json_lines(stderr):
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_sync_once_json_logs(odoo, sandbox):
    """sync --once submits the cases, exits 0, logs JSON lines with progress and the RPC count."""
    for principal in (1000.0, 1004.0):
        odoo.contract.add_case(1, principal)
    result = sidecar(odoo, "sync", "--once", "--log-format", "json")
    assert result.returncode == 0, result.stderr
    logs = json_lines(result.stderr)
    assert any(entry.get("event") == "progress" for entry in logs)
    exit_entry = next(entry for entry in logs if entry.get("event") == "exit")
    assert exit_entry["exit_code"] == 0
    assert exit_entry["rpc_calls"] == 9  # 3 login + agencies, 2 claims, record, commands, changes, heartbeat
    assert sandbox.stats()["cases"] == 2
    assert {case["state"] for case in odoo.contract.cases.values()} == {"active"}


def test_config_error_exit_2(odoo):
    """Missing settings and a refused login are configuration errors: exit 2."""
    result = sidecar(odoo, "sync", extra_env={"ODOO_DB": ""})
    assert result.returncode == 2 and "ODOO_DB" in result.stderr
    result = sidecar(odoo, "sync", extra_env={"ODOO_API_KEY": "wrong"})
    assert result.returncode == 2 and "login" in result.stderr


def test_odoo_unreachable_exit_1():
    """Odoo down is transient: exit 1."""
    result = sidecar(None, "sync")
    assert result.returncode == 1 and "unreachable" in result.stderr


def test_refused_environment_exit_3(odoo):
    """A test agency from a production database: exit 3 and no case claimed."""
    odoo.contract.database["neutralized"] = False
    odoo.contract.add_case(1, 1000.0)
    result = sidecar(odoo, "sync")
    assert result.returncode == 3 and "production database" in result.stderr
    assert "sidecar_claim" not in odoo.contract.calls


def test_crash_and_restart(odoo, sandbox):
    """Killed right after the agency accepted a case: the restart finishes with no duplicate at the agency."""
    for principal in (1000.0, 1001.0, 1002.0):
        odoo.contract.add_case(1, principal)
    crashed = sidecar(odoo, "sync", extra_env={"NORDIC_SIDECAR_CRASH_AT": "after_register:2"})
    assert crashed.returncode == 137
    assert sandbox.stats()["cases"] == 2
    assert {case["state"] for case in odoo.contract.cases.values()} == {"submitting"}
    result = sidecar(odoo, "sync")
    assert result.returncode == 0, result.stderr
    stats = sandbox.stats()
    assert stats["cases"] == 3 and stats["register_replays"] == 2
    assert {case["state"] for case in odoo.contract.cases.values()} == {"active"}


def test_run_stops_gracefully_on_sigterm(odoo, sandbox):
    """run --every keeps syncing until SIGTERM, then exits 0."""
    process = sidecar(odoo, "run", "--every", "1s", wait=False)
    try:
        deadline = time.monotonic() + 20
        while odoo.contract.calls.count("sidecar_agencies") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        odoo.contract.add_case(1, 1000.0)
        while sandbox.stats()["cases"] < 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, stderr
    assert "stopping after the current batch" in stderr
    assert sandbox.stats()["cases"] == 1


def test_dry_run_and_check(odoo, sandbox):
    """--dry-run and check claim nothing and send nothing."""
    odoo.contract.add_case(1, 1000.0)
    assert sidecar(odoo, "sync", "--dry-run").returncode == 0
    assert sidecar(odoo, "check").returncode == 0
    assert "sidecar_claim" not in odoo.contract.calls
    assert sandbox.stats()["cases"] == 0


def test_bad_crash_checkpoint_is_config_error(odoo):
    """An unknown NORDIC_SIDECAR_CRASH_AT is refused rather than ignored."""
    result = sidecar(odoo, "sync", extra_env={"NORDIC_SIDECAR_CRASH_AT": "somewhere"})
    assert result.returncode == 2
