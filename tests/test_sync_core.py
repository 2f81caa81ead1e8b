"""The sync core against the real sandbox over HTTP and an in-memory implementation of the Odoo contract."""

import threading

import pytest

from sidecar.config import Settings
from sidecar.sync import EXIT_OK, EXIT_PARTIAL, EXIT_REFUSED, EnvironmentRefused, Syncer, check_environment
from tests.conftest import API_KEY, case_payload, start_thread_sandbox
from tests.contract_odoo import ContractOdoo, LocalOdoo

PRINCIPALS = (1000.0, 1004.0, 1006.0, 1008.0, 1009.0)


class Crash(BaseException):
    """Stands for a SIGKILL at a checkpoint: nothing after it runs."""


def make_contract(sandbox, neutralized=True, environment="test", **options):
    agency = {
        "id": 1,
        "code": "SBX",
        "name": "Sandbox",
        "base_url": sandbox.url,
        "api_key": API_KEY,
        "environment": environment,
    }
    return ContractOdoo([agency], neutralized=neutralized, **options)


def settings(**values):
    base = {
        "odoo_db": "testdb",
        "odoo_login": "sidecar",
        "odoo_api_key": "k",
        "agency_backoff": 0.01,
        "agency_timeout": 1.0,
        "agency_retries": 4,
        "worker": "w1",
    }
    return Settings(**{**base, **values})


def syncer(contract, **values):
    checkpoint = values.pop("checkpoint", None)
    dry_run = values.pop("dry_run", False)
    return Syncer(LocalOdoo(contract), settings(**values), checkpoint=checkpoint, dry_run=dry_run)


def crash_at(name, nth=1):
    hits = [0]

    def hook(checkpoint):
        if checkpoint == name:
            hits[0] += 1
            if hits[0] == nth:
                raise Crash(name)

    return hook


def reference_snapshot(sandbox_factory):
    """The final state of an undisturbed run over PRINCIPALS (computed once per test that needs it)."""
    box = sandbox_factory()
    contract = make_contract(box)
    for principal in PRINCIPALS:
        contract.add_case(1, principal)
    full_cycle(contract, box)
    return contract.snapshot()


def full_cycle(contract, sandbox, **values):
    """Submit, let the agency's deadline pass, pull: the undisturbed sequence."""
    first = syncer(contract, **values).run_once()
    sandbox.advance(14)
    second = syncer(contract, **values).run_once()
    return first, second


@pytest.mark.parametrize(
    ("neutralized", "configured", "reported", "allowed", "refused"),
    [
        (True, "test", "test", False, False),
        (True, "production", "production", False, True),
        (False, "production", "production", False, False),
        (False, "test", "test", False, True),
        (False, "test", "test", True, False),
        (True, "test", "production", False, True),
    ],
)
def test_check_environment(neutralized, configured, reported, allowed, refused):
    """Production agencies never from neutralized databases; test agencies from production only if allowed."""
    database = {"neutralized": neutralized, "name": "db"}
    agency = {"code": "A", "environment": configured, "allow_test_from_production": allowed}
    if refused:
        with pytest.raises(EnvironmentRefused):
            check_environment(database, agency, reported)
    else:
        check_environment(database, agency, reported)


def test_full_cycle(sandbox):
    """Cases are submitted once, then the agency's outcomes, payments, fees and interest reach Odoo."""
    contract = make_contract(sandbox)
    uuids = {principal: contract.add_case(1, principal) for principal in PRINCIPALS}
    first, second = full_cycle(contract, sandbox)
    assert first.exit_code == EXIT_OK and first.totals()["submitted"] == 5
    assert first.totals()["applied"] == 15
    states = {principal: contract.cases[uuid]["state"] for principal, uuid in uuids.items()}
    assert states == {1000.0: "paid", 1004.0: "partly_paid", 1006.0: "surveillance", 1008.0: "failed", 1009.0: "paused"}
    assert second.exit_code == EXIT_OK
    paid = contract.cases[uuids[1000.0]]
    assert (paid["paid"], paid["fees"], paid["interest"]) == (1000.0, 180.0, 3.84)
    assert contract.cases[uuids[1004.0]]["paid"] == 502.0
    assert contract.cases[uuids[1009.0]]["dispute"]["reply_by"] == "2026-01-29"
    labels = {principal: contract.cases[uuid]["agency_status"] for principal, uuid in uuids.items()}
    assert labels == {
        1000.0: "paid",
        1004.0: "partly_paid",
        1006.0: "surveillance",
        1008.0: "failed",
        1009.0: "disputed",
    }
    assert all(case["submit_count"] == 1 for case in contract.cases.values())
    assert contract.agencies[1]["cursor"] == "27"  # 15 at registration, 12 at the deadline
    third = syncer(contract).run_once()
    assert third.totals()["changes_fetched"] == 0
    assert contract.heartbeats[-1]["worker"] == "w1"


def test_batches_and_pages(sandbox):
    """Claims go in batches of batch_size and changes in pages of changes_page: one Odoo call each."""
    contract = make_contract(sandbox)
    for index in range(23):
        contract.add_case(1, 1000.0 + index * 10)
    report = syncer(contract, batch_size=10, changes_page=20).run_once()
    assert report.totals()["submitted"] == 23
    assert contract.calls.count("sidecar_claim") == 3
    assert contract.calls.count("sidecar_record_submissions") == 3
    assert contract.calls.count("sidecar_apply_changes") == 4  # 69 changes / 20
    assert len(contract.applied) == 69


@pytest.mark.parametrize("checkpoint", ["after_claim", "after_register", "after_record", "after_fetch", "after_apply"])
def test_crash_at_checkpoint_loses_nothing(tmp_path, checkpoint):
    """Killed at a checkpoint, the next runs end in the same state as an undisturbed run, with no duplicate."""
    servers = []

    def new_sandbox(name):
        server, box = start_thread_sandbox(tmp_path / f"{name}.sqlite")
        servers.append(server)
        return box

    try:
        expected = reference_snapshot(lambda: new_sandbox("reference"))
        box = new_sandbox("crash")
        contract = make_contract(box, lease_seconds=0)  # the crashed claim's lease expires at once
        for principal in PRINCIPALS:
            contract.add_case(1, principal)
        with pytest.raises(Crash):
            syncer(contract, checkpoint=crash_at(checkpoint, 2 if checkpoint == "after_register" else 1)).run_once()
        syncer(contract).run_once()
        box.advance(14)
        with pytest.raises(Crash):
            syncer(contract, checkpoint=crash_at("after_fetch")).run_once()
        syncer(contract).run_once()
        assert contract.snapshot() == expected
        stats = box.stats()
        assert stats["cases"] == stats["distinct_references"] == 5
        assert all(case["external_id"] for case in contract.cases.values())
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def test_replayed_changes_apply_once(sandbox):
    """A cursor lost after Odoo applied a page (answer lost): the page comes again and changes nothing."""
    contract = make_contract(sandbox)
    for principal in PRINCIPALS:
        contract.add_case(1, principal)
    full_cycle(contract, sandbox)
    before = contract.snapshot()
    contract.agencies[1]["cursor"] = None
    report = syncer(contract).run_once()
    assert report.totals()["duplicates"] == len(contract.applied)
    assert report.totals()["applied"] == 0
    assert contract.snapshot() == before


def test_agency_faults_end_in_same_state(sandbox, tmp_path):
    """500s, garbage bodies and timeouts during every step are retried; the end state is the undisturbed one."""
    server, reference_box = start_thread_sandbox(tmp_path / "ref.sqlite")
    try:
        reference = make_contract(reference_box)
        for principal in PRINCIPALS:
            reference.add_case(1, principal)
        full_cycle(reference, reference_box)
    finally:
        server.shutdown()
        server.server_close()
    contract = make_contract(sandbox)
    for principal in PRINCIPALS:
        contract.add_case(1, principal)
    sandbox.fault("500", 1, path="/v1/info")
    sandbox.fault("500", 1, path="/v1/cases")
    sandbox.fault("garbage", 1, path="/v1/cases")
    sandbox.fault("timeout", 1, path="/v1/cases", sleep=1.3)
    sandbox.fault("garbage", 1, path="/v1/changes")
    first = syncer(contract).run_once()
    sandbox.fault("garbage", 1, path="/v1/changes")
    sandbox.fault("500", 1, path="/v1/changes")
    sandbox.advance(14)
    second = syncer(contract).run_once()
    assert first.exit_code == second.exit_code == EXIT_OK
    assert contract.snapshot() == reference.snapshot()
    assert sandbox.stats()["cases"] == 5


def test_agency_down_then_back(sandbox):
    """An agency that stays down: cases go back to 'to submit' with the error, exit 1; next run submits them."""
    contract = make_contract(sandbox)
    for principal in PRINCIPALS:
        contract.add_case(1, principal)
    sandbox.fault("500", 100, path="/v1/cases")
    report = syncer(contract, agency_retries=1).run_once()
    assert report.exit_code == EXIT_PARTIAL
    assert report.totals()["not_submitted"] == 5
    assert {case["state"] for case in contract.cases.values()} == {"to_submit"}
    assert all("500" in case["last_error"] for case in contract.cases.values())
    sandbox.call("DELETE", "/_sandbox/faults")
    report = syncer(contract).run_once()
    assert report.exit_code == EXIT_OK and report.totals()["submitted"] == 5


def test_rejected_case_does_not_block_others(sandbox):
    """A case the agency rejects (4xx) gets its reason in Odoo; the other cases of the batch go through."""
    contract = make_contract(sandbox)
    good = contract.add_case(1, 1000.0)
    bad = contract.add_case(1, principal=-5.0)
    report = syncer(contract).run_once()
    assert report.exit_code == EXIT_PARTIAL
    assert contract.cases[good]["state"] == "active"
    assert contract.cases[bad]["state"] == "to_submit"
    assert "principal must be positive" in contract.cases[bad]["last_error"]
    assert contract.calls.count("sidecar_claim") == 1, "rejected cases are not claimed again in the same run"


def test_commands_are_sent_and_acked(sandbox):
    """Pause, creditor payment and withdraw reach the agency once; a refused one is acked with its reason."""
    contract = make_contract(sandbox)
    first, second = contract.add_case(1, 1000.0), contract.add_case(1, 2000.0)
    syncer(contract).run_once()
    contract.add_command(first, "pause", {"reason": "debtor disputes"})
    contract.add_command(second, "creditor_payment", {"amount": 2000.0, "date": "2026-01-06", "reference": "bank"})
    contract.add_command(second, "dispute_answer", {"answer": "uphold"})
    report = syncer(contract).run_once()
    assert report.totals()["commands_sent"] == 2 and report.totals()["commands_failed"] == 1
    states = {c["command_id"]: (c["state"], c["error"]) for c in contract.commands.values()}
    assert states[1] == ("done", None) and states[2] == ("done", None)
    assert states[3][0] == "failed" and "not disputed" in states[3][1]
    assert contract.cases[first]["state"] == "paused"
    assert contract.cases[second]["state"] == "paid"
    assert contract.cases[second]["paid"] == 0.0, "money paid to the creditor is not booked again"


def test_crash_after_command_resends_harmlessly(sandbox):
    """A command sent but not acked is sent again; its idempotency key keeps the agency's state right."""
    contract = make_contract(sandbox)
    case = contract.add_case(1, 2000.0)
    syncer(contract).run_once()
    contract.add_command(case, "creditor_payment", {"amount": 500.0, "date": "2026-01-06", "reference": "bank"})
    with pytest.raises(Crash):
        syncer(contract, checkpoint=crash_at("after_command")).run_once()
    assert contract.commands[1]["state"] == "pending"
    syncer(contract).run_once()
    assert contract.commands[1]["state"] == "done"
    external_id = contract.cases[case]["external_id"]
    assert sandbox.call("GET", f"/v1/cases/{external_id}").json()["principal_remaining"] == 1500.0


def test_dry_run_writes_nothing(sandbox):
    """--dry-run reads the agency's changes and Odoo's commands but claims, sends and applies nothing."""
    contract = make_contract(sandbox)
    contract.add_case(1, 1000.0)
    syncer(contract).run_once()
    cursor = contract.agencies[1]["cursor"]
    sandbox.advance(14)
    contract.add_command(next(iter(contract.cases)), "pause")
    calls = len(contract.calls)
    report = syncer(contract, dry_run=True).run_once()
    assert report.totals()["changes_fetched"] == 3
    assert contract.agencies[1]["cursor"] == cursor
    assert contract.commands[1]["state"] == "pending"
    assert not {"sidecar_claim", "sidecar_heartbeat"} & set(contract.calls[calls:])


@pytest.mark.parametrize(("neutralized", "environment"), [(True, "production"), (False, "test")])
def test_refused_environment_claims_nothing(sandbox, production_sandbox, neutralized, environment):
    """A refused agency: exit 3, no claim, no request but /v1/info."""
    box = production_sandbox if environment == "production" else sandbox
    contract = make_contract(box, neutralized=neutralized, environment=environment)
    contract.add_case(1, 1000.0)
    report = syncer(contract).run_once()
    assert report.exit_code == EXIT_REFUSED
    assert "sidecar_claim" not in contract.calls
    assert box.stats()["cases"] == 0


def test_quarantined_change_is_reported(sandbox):
    """A change Odoo cannot place is quarantined by Odoo, reported (exit 1), and the cursor still moves."""
    contract = make_contract(sandbox)
    sandbox.register(case_payload("unknown-to-odoo"))
    report = syncer(contract).run_once()
    assert report.exit_code == EXIT_PARTIAL
    assert report.totals()["quarantined"] == 3
    assert contract.agencies[1]["cursor"] == "3"


def test_two_sidecars_never_submit_a_case_twice(sandbox):
    """Two syncers at once over 40 cases: every case is registered exactly once."""
    contract = make_contract(sandbox)
    for index in range(40):
        contract.add_case(1, 1000.0 + index)
    reports = []

    def work(worker):
        reports.append(syncer(contract, worker=worker, batch_size=5).run_once())

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(report.totals()["submitted"] for report in reports) == 40
    stats = sandbox.stats()
    assert stats["cases"] == 40 and stats["register_replays"] == 0
    assert all(len(case["claims"]) == 1 for case in contract.cases.values())


def test_unknown_protocol_is_refused(sandbox):
    """An agency whose protocol this sidecar does not speak: exit 3, nothing claimed, no request to the agency."""
    contract = make_contract(sandbox)
    contract.agencies[1]["protocol"] = "edifact_v9"
    contract.add_case(1, 1000.0)
    report = syncer(contract).run_once()
    assert report.exit_code == EXIT_REFUSED
    assert "'edifact_v9' is not one this sidecar speaks (nordic_v1)" in report.agencies[0].refused
    assert "sidecar_claim" not in contract.calls
    assert sandbox.stats()["cases"] == 0
    assert contract.heartbeats[-1]["stats"]["refused"] == report.agencies[0].refused


def test_unmappable_changes_are_quarantined(faulty_server):
    """Agency changes the mapper cannot read reach Odoo with their error and are quarantined; the others apply."""
    agency = {"id": 1, "code": "F", "name": "F", "base_url": faulty_server.url, "api_key": "k", "environment": "test"}
    contract = ContractOdoo([agency])
    case = contract.add_case(1, 1000.0)
    contract.cases[case].update(state="submitted", external_id="F-1")
    base = {"case_id": "F-1", "creditor_reference": case, "occurred_at": "2026-01-05T12:00:00+00:00"}
    changes = [
        {**base, "id": "c1", "type": "status", "status": "collection_active"},
        {**base, "id": "c2", "type": "status", "status": "exploded"},
        {**base, "id": "c3", "type": "refund", "amount": 5.0},
        {**base, "id": "c4", "type": {"nested": True}},
        ["not", "an", "object"],
    ]
    faulty_server.script = [
        (200, {"name": "F", "environment": "test"}, 0),
        (200, {"changes": changes, "next_cursor": "5"}, 0),
    ]
    report = syncer(contract).run_once()
    assert report.exit_code == EXIT_PARTIAL
    assert report.totals()["applied"] == 1 and report.totals()["quarantined"] == 4
    assert contract.cases[case]["state"] == "active"
    errors = {change_id: error for (_agency, change_id), error in contract.quarantine.items()}
    assert "unknown agency status 'exploded'" in errors["c2"]
    assert "unknown change type 'refund'" in errors["c3"]
    assert "unknown change type {'nested': True}" in errors["c4"]
    assert contract.agencies[1]["cursor"] == "5"
