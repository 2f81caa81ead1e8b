"""End to end with real processes on loopback: odoo-bin with nordic_dunning, the sandbox agency, the sidecar CLI.

invoices → dunning runs → hand-over → sidecar sync → agency lifecycle → paid / partly paid / surveillance /
failed / disputed in Odoo; crashes at every checkpoint, agency faults and two sidecars at once end in the state
of an undisturbed run.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import odoorpc
import pytest

from sidecar.contract import CASE_STATES, COMMAND_ACTIONS
from sidecar.sync import CHECKPOINTS
from tests.conftest import start_process_sandbox
from tests.odoo_process import (
    harness,
    odoo_shell,
    run_sidecar,
    sidecar_env,
)

SETUP_FILE = Path(__file__).parent / "odoo_setup.py"

# 0–3 paid, 4–5 partly paid, 6–7 surveillance, 8 failed, 9 debtor dispute (sidecar/sandbox.py)
AMOUNTS = [1000.0, 1004.0, 1006.0, 1008.0, 1009.0]
FINAL_STATES = {1000.0: "paid", 1004.0: "partly_paid", 1006.0: "surveillance", 1008.0: "failed", 1009.0: "paused"}


class Scenario:
    """One company, its agency (a sandbox process) and its handed-over invoices."""

    def __init__(self, odoo, tmp_path, name, amounts=AMOUNTS, sandbox_args=()):
        self.odoo = odoo
        self.process, self.sandbox = start_process_sandbox(tmp_path / f"{name}.sqlite", *sandbox_args)
        code = f"""
            neutralize(env)
            company, policy = swedish_company(env, {("E2E " + name)!r})
            agency_record = agency(env, company, {self.sandbox.url!r}, {self.sandbox.api_key!r}, code={name!r})
            moves = handed_over_invoices(env, company, policy, {list(amounts)!r})
            login, key = sidecar_user(env)
            env.cr.commit()
            result({{"login": login, "key": key, "agency_id": agency_record.id, "move_ids": moves.ids}})
        """
        out = odoo_shell(odoo.db, open(SETUP_FILE).read() + "\n" + textwrap.dedent(code))
        self.data = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
        self.env = sidecar_env(
            odoo,
            self.data["login"],
            self.data["key"],
            NORDIC_SIDECAR_AGENCIES=name,
            NORDIC_SIDECAR_WORKER=f"e2e-{name}",
        )
        self.admin = odoorpc.ODOO("127.0.0.1", port=odoo.port, timeout=60)
        self.admin.login(odoo.db, "admin", "admin")

    def sync(self, *args, **env):
        return run_sidecar({**self.env, **{k: str(v) for k, v in env.items()}}, "sync", "--once", *args)

    def cases(self):
        return self.admin.execute_kw(
            "nordic.collection.case",
            "search_read",
            [[["agency_id", "=", self.data["agency_id"]]]],
            {"fields": ["uuid", "state"]},
        )

    def snapshot(self):
        stats = self.sandbox.stats()
        moves = self.admin.execute_kw(
            "account.move",
            "read",
            [self.data["move_ids"]],
            {"fields": ["amount_total", "amount_residual", "payment_state"]},
        )
        return {
            "cases": sorted(case["state"] for case in self.cases()),
            "at_agency": (stats["cases"], stats["distinct_references"]),
            "invoices": sorted((m["amount_total"], m["amount_residual"], m["payment_state"]) for m in moves),
        }

    def expire_leases(self):
        harness().psql(
            "UPDATE nordic_collection_case SET claimed_at = now() - interval '1 day' WHERE state = 'submitting'",
            db=self.odoo.db,
        )

    def close(self):
        self.process.terminate()
        self.process.wait(10)


def run_lifecycle(scenario, **env):
    """Submit, pass the deadline, pull, pass the surveillance step: the undisturbed sequence."""
    assert scenario.sync(**env).returncode == 0
    scenario.sandbox.advance(14)
    assert scenario.sync(**env).returncode == 0
    scenario.sandbox.advance(30)
    assert scenario.sync(**env).returncode == 0
    return scenario.snapshot()


@pytest.fixture(scope="module")
def reference(odoo, tmp_path_factory):
    scenario = Scenario(odoo, tmp_path_factory.mktemp("ref"), "REF")
    try:
        yield run_lifecycle(scenario)
    finally:
        scenario.close()


def test_contract_words_are_odoos(odoo):
    """The case states and command actions the sidecar's mappers map to are the real Odoo's own selections."""
    admin = odoorpc.ODOO("127.0.0.1", port=odoo.port, timeout=60)
    admin.login(odoo.db, "admin", "admin")

    def selection(model, field):
        described = admin.execute_kw(model, "fields_get", [[field]], {"attributes": ["selection"]})
        return tuple(key for key, _label in described[field]["selection"])

    assert selection("nordic.collection.case.change", "case_state") == CASE_STATES
    assert selection("nordic.collection.case.command", "action") == COMMAND_ACTIONS


def test_lifecycle_reaches_odoo(odoo, tmp_path):
    """Hand-over → agency → paid (invoice paid), partly paid, surveillance, failed, disputed, in Odoo."""
    scenario = Scenario(odoo, tmp_path, "LIFE")
    try:
        assert {case["state"] for case in scenario.cases()} == {"to_submit"}
        result = scenario.sync("--log-format", "json")
        assert result.returncode == 0, result.stderr
        assert scenario.sandbox.stats()["cases"] == len(AMOUNTS)
        scenario.sandbox.advance(14)
        assert scenario.sync().returncode == 0
        snapshot = scenario.snapshot()
        invoices = {amount: (residual, state) for amount, residual, state in snapshot["invoices"]}
        assert invoices[1000.0][0] == 0.0, "the agency's payment is reconciled with the invoice"
        assert invoices[1004.0][0] == 502.0
        # The disputed case (1009) stays open, paused until the dispute is answered.
        assert sorted(snapshot["cases"]) == sorted(FINAL_STATES.values())
    finally:
        scenario.close()


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_sigkill_at_checkpoint(odoo, tmp_path, reference, checkpoint):
    """The sidecar killed at a checkpoint: the next runs end exactly as the undisturbed run."""
    scenario = Scenario(odoo, tmp_path, f"K{CHECKPOINTS.index(checkpoint)}")
    try:
        crashed = scenario.sync(NORDIC_SIDECAR_CRASH_AT=checkpoint, NORDIC_SIDECAR_BATCH_SIZE=2)
        assert crashed.returncode in (0, 137)
        scenario.expire_leases()
        assert run_lifecycle(scenario) == reference
        assert scenario.sandbox.stats()["cases"] == len(AMOUNTS)
    finally:
        scenario.close()


def test_agency_faults(odoo, tmp_path, reference):
    """500s, garbage and timeouts at the agency: retried, and the end state is the undisturbed one."""
    scenario = Scenario(odoo, tmp_path, "FLT", sandbox_args=("--fail-rate", "0.3", "--seed", "7"))
    try:
        for _ in range(10):
            if scenario.sync(NORDIC_SIDECAR_AGENCY_RETRIES=1).returncode == 0:
                break
        scenario.sandbox.fault("garbage", 2)
        scenario.sandbox.fault("timeout", 1, sleep=2)
        env = {"NORDIC_SIDECAR_AGENCY_RETRIES": 6, "NORDIC_SIDECAR_AGENCY_TIMEOUT": 1}
        assert run_lifecycle(scenario, **env) == reference
    finally:
        scenario.close()


def test_two_sidecars_at_once(odoo, tmp_path):
    """Two sidecar processes at once: every case is registered exactly once."""
    scenario = Scenario(odoo, tmp_path, "TWO", amounts=[1000.0 + i for i in range(12)])
    try:
        env = {**scenario.env, "NORDIC_SIDECAR_BATCH_SIZE": "1"}
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "sidecar.cli", "sync"],
                env={**env, "NORDIC_SIDECAR_WORKER": f"w{i}"},
                stderr=subprocess.PIPE,
            )
            for i in range(2)
        ]
        assert [process.wait(120) for process in processes] == [0, 0]
        stats = scenario.sandbox.stats()
        assert stats["cases"] == 12 and stats["register_replays"] == 0
    finally:
        scenario.close()
