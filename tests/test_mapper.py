"""The nordic protocol's mapper: neutral cases become registrations the sandbox accepts, every change the
sandbox's lifecycle emits becomes a neutral change Odoo can apply, and what cannot be mapped says why."""

import pytest

from sidecar.contract import CASE_STATES, CHANGE_KINDS, COMMAND_ACTIONS, REGISTERED_STATES
from sidecar.mapper import PROTOCOLS, MappingError, NordicV1Mapper, UnknownProtocol, mapper_for
from tests.conftest import neutral_case

MAPPER = NordicV1Mapper()


def test_vocabulary_maps_onto_the_contract():
    """Every agency status maps to a case state an agency may report, every change type to a kind, and every
    Odoo command action to an endpoint."""
    assert set(MAPPER.STATES.values()) <= set(CASE_STATES)
    assert set(MAPPER.KINDS.values()) == set(CHANGE_KINDS)
    assert set(MAPPER.COMMANDS) == set(COMMAND_ACTIONS)
    assert mapper_for("nordic_v1").code == "nordic_v1" and set(PROTOCOLS) == {"nordic_v1"}
    with pytest.raises(UnknownProtocol, match="'edifact_v9' is not one this sidecar speaks"):
        mapper_for("edifact_v9")
    with pytest.raises(UnknownProtocol):
        mapper_for(None)


def test_register_body_is_accepted_by_the_agency(sandbox):
    """The neutral case becomes the protocol's registration: UUID as creditor reference, the debtor's address
    nested, the invoice's payment reference as the debt's OCR; the sandbox registers it."""
    case = neutral_case("uuid-1", principal=1234.5, disputed=True, dispute_text="never delivered")
    body = MAPPER.to_register_body(case)
    assert (body["creditor_reference"], body["first_action"], body["currency"]) == ("uuid-1", "debt_collection", "SEK")
    assert body["debtor"]["address"] == {"street": "Storgatan 1", "zip": "11122", "city": "Stockholm", "country": "SE"}
    assert body["debts"][0]["ocr"] == "1234567897" and body["debts"][0]["principal"] == 1234.5
    assert (body["disputed"], body["dispute_text"]) == (True, "never delivered")
    answer = sandbox.register(body, idempotency_key="uuid-1")
    assert answer.status_code == 201, answer.text
    submission = MAPPER.to_submission(case, answer.json())
    assert submission == {
        "uuid": "uuid-1",
        "external_id": answer.json()["id"],
        "ocr": answer.json()["ocr"],
        "state": "paused",
        "agency_status": "paused",
    }, "a claim disputed before hand-over is held at once"


@pytest.mark.parametrize(
    ("status", "state"),
    [("registered", "submitted"), ("collection_active", "active"), ("paused", "paused"), ("disputed", "paused")],
)
def test_submission_state(status, state):
    """The registration's answer names the state when collection can start from it; anything else is
    submitted, and the change feed tells the rest."""
    assert MAPPER.submission_state(status) == state
    assert state in REGISTERED_STATES


@pytest.mark.parametrize("status", ["paid", "failed", "teleported", None, {"x": 1}])
def test_submission_state_falls_back_to_submitted(status):
    assert MAPPER.submission_state(status) == "submitted"


def test_every_lifecycle_change_maps(sandbox):
    """Every change the sandbox emits over a whole lifecycle maps without error to a kind and, for states and
    disputes, a case state with the agency's word kept as label."""
    for principal in (1000.0, 1004.0, 1006.0, 1008.0, 1009.0):
        sandbox.register(MAPPER.to_register_body(neutral_case(f"ref-{principal}", principal=principal)))
    sandbox.advance(14)
    sandbox.advance(30)
    changes = sandbox.all_changes()
    neutral = [MAPPER.to_change(change) for change in changes]
    assert not [n for n in neutral if "error" in n]
    assert {n["kind"] for n in neutral} == set(CHANGE_KINDS)
    for change, mapped in zip(changes, neutral, strict=True):
        assert (mapped["id"], mapped["uuid"], mapped["external_id"]) == (
            change["id"],
            change["creditor_reference"],
            change["case_id"],
        )
        assert mapped["data"] == change["data"], "the agency's details are kept as evidence"
        if mapped["kind"] in ("state", "dispute"):
            assert mapped["state"] == MAPPER.STATES[change["status"]]
            assert mapped["agency_status"] == change["status"]
        else:
            assert (mapped["amount"], mapped["currency"]) == (change["amount"], change["currency"])
    failed = next(n for n in neutral if n.get("state") == "failed")
    assert (failed["agency_status"], failed["data"]["closure_code"]) == ("failed", "no_means")
    dispute = next(n for n in neutral if n["kind"] == "dispute")
    assert (dispute["state"], dispute["agency_status"]) == ("paused", "disputed")
    assert dispute["data"]["reply_by"] == "2026-01-29"


def test_disputes_in_either_form():
    """A dispute change without a status, and a status change to disputed, are both neutral disputes (paused)."""
    base = {"id": "c", "case_id": "A-1", "creditor_reference": "u", "occurred_at": "2026-01-05T12:00:00+00:00"}
    for change in ({**base, "type": "dispute"}, {**base, "type": "status", "status": "disputed"}):
        mapped = MAPPER.to_change(change)
        assert (mapped["kind"], mapped["state"], mapped["agency_status"]) == ("dispute", "paused", "disputed")


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"id": "c1", "type": "status", "status": "exploded"}, "unknown agency status 'exploded'"),
        ({"id": "c2", "type": "status"}, "unknown agency status None"),
        ({"id": "c3", "type": "status", "status": ["paid"]}, "unknown agency status ['paid']"),
        ({"id": "c4", "type": "refund", "amount": 5}, "unknown change type 'refund'"),
        ({"id": "c5", "type": {"a": 1}}, "unknown change type {'a': 1}"),
        ("garbage", "the agency's change is not an object"),
    ],
)
def test_unmappable_change_carries_its_error(change, error):
    """A change the mapper cannot read is never guessed: it goes to Odoo with the reason, to be quarantined."""
    mapped = MAPPER.to_change(change)
    assert mapped["error"] == error
    assert "state" not in mapped
    assert mapped["id"] == (change.get("id") if isinstance(change, dict) else None)


def test_commands():
    """Odoo's actions become the protocol's endpoints and bodies; an action it does not have is refused."""
    assert MAPPER.to_command({"action": "pause", "data": {"reason": "debtor disputes"}}) == (
        "pause",
        {"reason": "debtor disputes"},
    )
    assert MAPPER.to_command({"action": "withdraw", "data": None}) == ("withdraw", {"reason": ""})
    payment = {"amount": 100.0, "date": "2026-01-06", "reference": "bank", "reason": ""}
    assert MAPPER.to_command({"action": "creditor_payment", "data": payment}) == (
        "creditor-payments",
        {"amount": 100.0, "date": "2026-01-06", "reference": "bank"},
    )
    answer = {"answer": "withdraw", "text": "", "reason": ""}
    assert MAPPER.to_command({"action": "dispute_answer", "data": answer}) == (
        "dispute-answers",
        {"answer": "withdraw", "text": ""},
    )
    with pytest.raises(MappingError, match="unknown command action 'explode'"):
        MAPPER.to_command({"action": "explode", "data": {}})
    with pytest.raises(MappingError, match="unknown dispute answer 'maybe'"):
        MAPPER.to_command({"action": "dispute_answer", "data": {"answer": "maybe"}})
