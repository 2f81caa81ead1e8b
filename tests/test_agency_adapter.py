"""The agency adapter against real HTTP servers: retries on 5xx / timeouts / garbage, never on 4xx."""

import time

import pytest

from sidecar.agency import AgencyClient, AgencyProtocolError, AgencyRejected, AgencyUnavailable
from sidecar.mapper import NordicV1Mapper
from tests.conftest import case_payload


def client_for(url, retries=3, timeout=(1.0, 0.5), api_key="sandbox-test-key"):
    delays = []
    client = AgencyClient(url, api_key, timeout=timeout, retries=retries, backoff=0.01, sleep=delays.append)
    client.delays = delays
    return client


def test_retries_5xx_then_succeeds(faulty_server):
    """Two 503s then a good answer: the client retries with growing delays and returns the answer."""
    faulty_server.script = [
        (503, {"error": "busy"}, 0),
        (500, b"oops", 0),
        (200, {"name": "A", "environment": "test"}, 0),
    ]
    client = client_for(faulty_server.url)
    assert client.info()["environment"] == "test"
    assert len(faulty_server.requests) == 3
    assert client.delays == [0.01, 0.02]
    assert faulty_server.requests[0]["headers"]["X-API-Key"] == "sandbox-test-key"


def test_never_retries_4xx(faulty_server):
    """A 422 is raised at once with the agency's reason, after exactly one request."""
    faulty_server.script = [(422, {"error": "debts must be a non-empty list"}, 0)]
    client = client_for(faulty_server.url)
    with pytest.raises(AgencyRejected) as caught:
        client.register_case({"creditor_reference": "x"}, idempotency_key="x")
    assert caught.value.status == 422
    assert caught.value.reason == "debts must be a non-empty list"
    assert len(faulty_server.requests) == 1
    assert faulty_server.requests[0]["headers"]["Idempotency-Key"] == "x"


def test_gives_up_after_retries(faulty_server):
    """Always 500: AgencyUnavailable after 1 + retries requests."""
    faulty_server.script = [(500, {"error": "down"}, 0)] * 5
    client = client_for(faulty_server.url, retries=2)
    with pytest.raises(AgencyUnavailable, match="500"):
        client.changes()
    assert len(faulty_server.requests) == 3


def test_timeout_is_retried(faulty_server):
    """A server slower than the read timeout is retried; the next, fast answer wins."""
    faulty_server.script = [
        (200, {"changes": [], "next_cursor": "0"}, 1.0),
        (200, {"changes": [], "next_cursor": "7"}, 0),
    ]
    client = client_for(faulty_server.url, timeout=(1.0, 0.3))
    started = time.monotonic()
    assert client.changes(since="7") == ([], "7")
    assert time.monotonic() - started < 1.0
    assert len(faulty_server.requests) == 2


@pytest.mark.parametrize(
    "body",
    [b"<html>502 Bad Gateway</html>", b"[1, 2]", b'{"changes": "nope", "next_cursor": "1"}', b""],
)
def test_malformed_body_raises_clear_error(faulty_server, body):
    """A 200 whose body is not the promised JSON is retried, then raises AgencyProtocolError naming the problem."""
    faulty_server.script = [(200, body, 0)] * 3
    client = client_for(faulty_server.url, retries=2)
    with pytest.raises(AgencyProtocolError) as caught:
        client.changes()
    assert "/v1/changes" in str(caught.value)
    assert len(faulty_server.requests) == (3 if body != b'{"changes": "nope", "next_cursor": "1"}' else 1)


def test_connection_refused_is_unavailable():
    """Nobody listening: AgencyUnavailable after the retries, not a raw requests error."""
    client = client_for("http://127.0.0.1:9", retries=1)
    with pytest.raises(AgencyUnavailable, match="ConnectionError"):
        client.info()
    assert client.stats == {"requests": 2, "retries": 1}


def test_register_through_sandbox_faults(sandbox):
    """Against the sandbox: a 500, a garbage answer (work done) and a timeout (work done) still end in one case."""
    sandbox.fault("500", 1, path="/v1/cases")
    sandbox.fault("garbage", 1, path="/v1/cases")
    sandbox.fault("timeout", 1, path="/v1/cases", sleep=0.8)
    client = client_for(sandbox.url, retries=4, timeout=(1.0, 0.4))
    case = client.register_case(case_payload("ref-42"), idempotency_key="ref-42")
    assert case["creditor_reference"] == "ref-42"
    time.sleep(0.6)  # let the timed-out request finish its work
    stats = sandbox.stats()
    assert stats["cases"] == 1
    assert client.stats["retries"] == 3


def test_commands_carry_idempotency_keys(sandbox):
    """post_command sends the mapped command to its endpoint with its key; a resend changes nothing."""
    client = client_for(sandbox.url)
    mapper = NordicV1Mapper()
    case = client.register_case(case_payload("ref-1", principal=500.0), idempotency_key="ref-1")

    def send(command_id, action, data):
        endpoint, body = mapper.to_command({"command_id": command_id, "action": action, "data": data})
        return client.post_command(case["id"], endpoint, body, idempotency_key=f"command-{command_id}")

    payment = {"amount": 100.0, "date": "2026-01-06", "reference": "bank"}
    assert send(7, "creditor_payment", payment)["principal_remaining"] == 400.0
    assert send(7, "creditor_payment", payment)["principal_remaining"] == 400.0
    assert send(8, "pause", {})["status"] == "paused"
    with pytest.raises(AgencyRejected, match="409"):
        send(10, "dispute_answer", {"answer": "uphold"})
    with pytest.raises(AgencyRejected, match="no agency id"):
        client.post_command("", "pause", {}, idempotency_key="command-11")


def test_wrong_api_key_is_rejected(sandbox):
    """401 is a 4xx: no retry, a clear reason."""
    client = client_for(sandbox.url, api_key="nope")
    with pytest.raises(AgencyRejected, match="X-API-Key"):
        client.info()
    assert client.stats["requests"] == 1
