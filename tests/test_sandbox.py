"""The sandbox agency over real HTTP: auth, validation, idempotency, lifecycle, commands, faults, persistence."""

import threading
import time
import uuid
from decimal import Decimal

import pytest
import requests

from sidecar.sandbox import luhn_digit, outcome_for
from tests.conftest import case_payload, start_process_sandbox


def ref():
    return str(uuid.uuid4())


def test_info_reports_environment(sandbox, production_sandbox):
    """/v1/info tells the environment the agency runs in."""
    assert sandbox.call("GET", "/v1/info").json()["environment"] == "test"
    assert production_sandbox.call("GET", "/v1/info").json()["environment"] == "production"


@pytest.mark.parametrize("key", ["", "wrong"])
def test_auth_required(sandbox, key):
    """A missing or wrong X-API-Key gets 401 with a reason, on every endpoint."""
    for method, path in (("GET", "/v1/info"), ("GET", "/v1/changes"), ("POST", "/_sandbox/clock")):
        response = sandbox.call(method, path, {}, key=key)
        assert response.status_code == 401
        assert "X-API-Key" in response.json()["error"]


def test_register_is_idempotent(sandbox):
    """The same Idempotency-Key returns the same case (200), never a second one."""
    reference = ref()
    first = sandbox.register(case_payload(reference))
    assert first.status_code == 201
    case = first.json()
    assert case["creditor_reference"] == reference and case["status"] == "collection_active"
    assert case["ocr"][-1] == luhn_digit(case["ocr"][:-1])
    again = sandbox.register(case_payload(reference, principal=5.0))
    assert again.status_code == 200
    assert again.json() == case
    stats = sandbox.stats()
    assert stats["cases"] == 1 and stats["register_replays"] == 1
    other = sandbox.register(case_payload(ref()), idempotency_key=reference)
    assert other.status_code == 409


@pytest.mark.parametrize(
    ("mutate", "status", "reason"),
    [
        (lambda p: p.pop("debts"), 422, "debts"),
        (lambda p: p.update(currency="kronor"), 422, "currency"),
        (lambda p: p["debts"][0].update(principal=-3), 422, "principal"),
        (lambda p: p["debts"][0].update(principal="abc"), 422, "principal"),
        (lambda p: p["debts"][0].update(principal=10.001), 422, "two decimals"),
        (lambda p: p["debts"][0].update(due_date="01/12/2025"), 422, "due_date"),
        (lambda p: p.update(debtor="Anna"), 422, "debtor"),
        (lambda p: p["debtor"].pop("name"), 422, "name"),
        (lambda p: p.update(first_action="sue"), 422, "first_action"),
    ],
)
def test_register_rejects_malformed(sandbox, mutate, status, reason):
    """Malformed registrations get a 4xx naming the problem, and create nothing."""
    payload = case_payload(ref())
    mutate(payload)
    response = sandbox.register(payload, idempotency_key=ref())
    assert response.status_code == status
    assert reason in response.json()["error"]
    assert sandbox.stats()["cases"] == 0


def test_register_needs_key_and_json(sandbox):
    """No Idempotency-Key → 400; a body that is not JSON → 400."""
    response = sandbox.call("POST", "/v1/cases", case_payload(ref()))
    assert response.status_code == 400 and "Idempotency-Key" in response.json()["error"]
    response = requests.post(
        sandbox.url + "/v1/cases",
        data=b"{not json",
        headers={"X-API-Key": sandbox.api_key, "Idempotency-Key": "x"},
        timeout=5,
    )
    assert response.status_code == 400 and "JSON" in response.json()["error"]
    assert sandbox.call("GET", "/v1/nowhere").status_code == 404
    assert sandbox.call("GET", "/v1/changes?since=abc").status_code == 400
    assert sandbox.call("GET", "/v1/changes?limit=0").status_code == 400


@pytest.mark.parametrize(
    ("principal", "outcome"),
    [
        (1000.0, "paid"),
        (1003.99, "paid"),
        (1004.0, "partly_paid"),
        (1006.5, "surveillance"),
        (1008.0, "failed"),
        (1009.0, "disputed"),
    ],
)
def test_outcome_rule(principal, outcome):
    """The outcome is the principal's whole-krona amount modulo 10."""
    assert outcome_for(Decimal(str(principal))) == outcome


def _statuses(changes, case_id):
    return [c["status"] for c in changes if c["case_id"] == case_id and c["status"]]


def test_lifecycle_is_deterministic(sandbox):
    """Each principal class goes through its documented steps when the clock passes the deadline."""
    ids = {}
    for principal in (1000.0, 1004.0, 1006.0, 1008.0, 1009.0):
        ids[principal] = sandbox.register(case_payload(ref(), principal=principal)).json()["id"]
    changes = sandbox.all_changes()
    assert [c["type"] for c in changes[:3]] == ["status", "fee", "status"]
    assert changes[1]["amount"] == 180.0 and changes[1]["currency"] == "SEK"
    sandbox.advance(13)
    assert len(sandbox.all_changes()) == len(changes), "nothing happens before the deadline"
    sandbox.advance(1)
    changes = sandbox.all_changes()
    assert _statuses(changes, ids[1000.0]) == ["registered", "collection_active", "paid"]
    payments = [c for c in changes if c["type"] == "payment"]
    assert [(c["case_id"], c["amount"]) for c in payments] == [(ids[1000.0], 1000.0), (ids[1004.0], 502.0)]
    interest = next(c for c in changes if c["type"] == "interest" and c["case_id"] == ids[1000.0])
    assert interest["amount"] == 3.84  # 1000 * 10 % * 14 / 365
    assert _statuses(changes, ids[1004.0])[-1] == "partly_paid"
    assert _statuses(changes, ids[1006.0])[-1] == "surveillance"
    assert _statuses(changes, ids[1008.0])[-1] == "failed"
    dispute = next(c for c in changes if c["type"] == "dispute")
    assert dispute["case_id"] == ids[1009.0] and dispute["data"]["reply_by"] == "2026-01-29"
    assert all(c["occurred_at"] == "2026-01-19T12:00:00+00:00" for c in changes[15:])
    sandbox.advance(30)
    changes = sandbox.all_changes()
    assert _statuses(changes, ids[1004.0])[-1] == "surveillance"
    assert _statuses(changes, ids[1009.0])[-1] == "withdrawn", "an unanswered dispute is withdrawn"
    case = sandbox.call("GET", f"/v1/cases/{ids[1004.0]}").json()
    assert case["principal_remaining"] == 502.0
    assert [h["status"] for h in case["state_history"]] == [
        "registered",
        "collection_active",
        "partly_paid",
        "surveillance",
    ]


def test_change_feed_cursor(sandbox):
    """Pages follow the cursor: no change is skipped or repeated, and an exhausted feed keeps its cursor."""
    for _ in range(4):
        sandbox.register(case_payload(ref()))
    seen, cursor = [], None
    while True:
        query = f"?limit=5{'&since=' + cursor if cursor else ''}"
        page = sandbox.call("GET", "/v1/changes" + query).json()
        if not page["changes"]:
            break
        seen += [c["id"] for c in page["changes"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 12
    assert sandbox.call("GET", f"/v1/changes?since={cursor}").json() == {"changes": [], "next_cursor": cursor}


def test_pause_resume_shifts_deadline(sandbox):
    """A paused case does not move; resuming shifts its schedule by the days paused; commands are idempotent."""
    case_id = sandbox.register(case_payload(ref(), principal=1000.0)).json()["id"]
    sandbox.advance(5)
    headers = {"Idempotency-Key": "cmd-1"}
    assert (
        sandbox.call("POST", f"/v1/cases/{case_id}/pause", {"reason": "dispute"}, headers).json()["status"] == "paused"
    )
    assert sandbox.call("POST", f"/v1/cases/{case_id}/pause", {"reason": "dispute"}, headers).status_code == 200
    sandbox.advance(20)
    assert _statuses(sandbox.all_changes(), case_id)[-1] == "paused"
    assert sandbox.call("POST", f"/v1/cases/{case_id}/resume", {}).json()["status"] == "collection_active"
    sandbox.advance(8)
    assert _statuses(sandbox.all_changes(), case_id)[-1] == "collection_active"
    sandbox.advance(1)
    assert _statuses(sandbox.all_changes(), case_id)[-1] == "paid"
    assert _statuses(sandbox.all_changes(), case_id).count("paused") == 1
    response = sandbox.call("POST", f"/v1/cases/{case_id}/pause", {})
    assert response.status_code == 409 and "closed" in response.json()["error"]


def test_withdraw_and_creditor_payment(sandbox):
    """Withdraw closes a case; a creditor payment of the whole principal closes it as paid without a payment."""
    first = sandbox.register(case_payload(ref())).json()["id"]
    second = sandbox.register(case_payload(ref(), principal=500.0)).json()["id"]
    assert sandbox.call("POST", f"/v1/cases/{first}/withdraw", {"reason": "settled"}).json()["status"] == "withdrawn"
    body = {"amount": 200, "date": "2026-01-06", "reference": "bank"}
    partial = sandbox.call("POST", f"/v1/cases/{second}/creditor-payments", body, {"Idempotency-Key": "p1"})
    assert partial.json() == {"id": second, "status": "collection_active", "principal_remaining": 300.0}
    replay = sandbox.call("POST", f"/v1/cases/{second}/creditor-payments", body, {"Idempotency-Key": "p1"})
    assert replay.json()["principal_remaining"] == 300.0, "a replayed payment is not counted twice"
    rest = sandbox.call("POST", f"/v1/cases/{second}/creditor-payments", {**body, "amount": 300}).json()
    assert rest["status"] == "paid"
    assert sandbox.call("POST", f"/v1/cases/{second}/creditor-payments", {"amount": -1, "date": "x"}).status_code == 422
    sandbox.advance(20)
    changes = sandbox.all_changes()
    assert not [c for c in changes if c["type"] == "payment"]
    assert _statuses(changes, first)[-1] == "withdrawn"
    assert sandbox.call("GET", "/v1/cases/NOPE").status_code == 404


def test_dispute_answer_uphold(sandbox):
    """An upheld dispute resumes collection and the case is paid 14 days after the answer."""
    case_id = sandbox.register(case_payload(ref(), principal=2019.0)).json()["id"]
    assert sandbox.call("POST", f"/v1/cases/{case_id}/dispute-answers", {"answer": "uphold"}).status_code == 409
    sandbox.advance(14)
    assert sandbox.call("POST", f"/v1/cases/{case_id}/dispute-answers", {"answer": "maybe"}).status_code == 422
    answer = sandbox.call("POST", f"/v1/cases/{case_id}/dispute-answers", {"answer": "uphold", "text": "delivered"})
    assert answer.json()["status"] == "collection_active"
    sandbox.advance(14)
    changes = sandbox.all_changes()
    assert _statuses(changes, case_id)[-2:] == ["collection_active", "paid"]
    assert [c["amount"] for c in changes if c["type"] == "payment"] == [2019.0]


def test_faults(sandbox):
    """Injected faults: 500 does nothing, garbage does the work but answers non-JSON, timeout answers late."""
    sandbox.fault("500", 1)
    reference = ref()
    assert sandbox.register(case_payload(reference)).status_code == 500
    assert sandbox.stats()["cases"] == 0
    sandbox.fault("garbage", 1)
    response = sandbox.register(case_payload(reference))
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert sandbox.stats()["cases"] == 1
    sandbox.fault("timeout", 1, sleep=1.0)
    with pytest.raises(requests.Timeout):
        requests.get(sandbox.url + "/v1/info", headers={"X-API-Key": sandbox.api_key}, timeout=0.3)
    assert sandbox.call("GET", "/v1/info").status_code == 200
    assert sandbox.call("POST", "/_sandbox/faults", {"mode": "explode"}).status_code == 422


def test_process_persists_state(tmp_path):
    """The CLI server keeps cases, changes and clock in its SQLite file across a restart."""
    db = tmp_path / "persist.sqlite"
    process, box = start_process_sandbox(db, "--fail-rate", "0")
    try:
        case_id = box.register(case_payload("ref-1")).json()["id"]
        box.advance(3)
    finally:
        process.terminate()
        process.wait(10)
    process, box = start_process_sandbox(db)
    try:
        assert box.register(case_payload("ref-1")).json()["id"] == case_id
        assert box.call("GET", "/v1/info").json()["today"] == "2026-01-08"
        assert len(box.all_changes()) == 3
    finally:
        process.terminate()
        process.wait(10)


def test_fail_rate(tmp_path):
    """--fail-rate 1 answers every /v1 request with 500 but leaves /_sandbox alone."""
    process, box = start_process_sandbox(tmp_path / "f.sqlite", "--fail-rate", "1")
    try:
        assert box.call("GET", "/v1/info").status_code == 500
        assert box.call("GET", "/_sandbox/stats").status_code == 200
    finally:
        process.terminate()
        process.wait(10)


def test_concurrent_registrations_make_one_case(sandbox):
    """Ten clients registering the same key at once get one and the same case."""
    reference = ref()
    answers = []

    def register():
        answers.append(sandbox.register(case_payload(reference)))

    threads = [threading.Thread(target=register) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(answer.status_code for answer in answers) == [200] * 9 + [201]
    assert len({answer.json()["id"] for answer in answers}) == 1
    assert sandbox.stats()["cases"] == 1


def test_disputed_at_registration_starts_paused(sandbox):
    """A claim already disputed at hand-over is paused until resumed, and its schedule waits."""
    case = sandbox.register(case_payload(ref(), disputed=True, dispute_text="never delivered")).json()
    assert case["status"] == "paused"
    sandbox.advance(20)
    assert _statuses(sandbox.all_changes(), case["id"]) == ["registered", "collection_active", "paused"]
    sandbox.call("POST", f"/v1/cases/{case['id']}/resume", {"reason": "dispute settled"})
    sandbox.advance(14)
    assert _statuses(sandbox.all_changes(), case["id"])[-2:] == ["collection_active", "paid"]


def test_demo_clock(tmp_path):
    """--day-every moves the clock by itself (for demos)."""
    process, box = start_process_sandbox(tmp_path / "demo.sqlite", "--day-every", "0.2")
    try:
        time.sleep(1.0)
        assert box.call("GET", "/v1/info").json()["today"] > "2026-01-06"
    finally:
        process.terminate()
        process.wait(10)
