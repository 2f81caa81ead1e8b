"""Hostile agencies: real HTTP servers on loopback that answer what no honest agency would.

Each attack is a server in a thread that writes its answer byte by byte (a redirect, a body without end, JSON
nested thousands deep, a broken chunked body...). The adapter must turn each into an AgencyError without
following it, reading it all or crashing; the sync pass must report it for that agency (to Odoo, in the
heartbeat) and go on with the next one. Odoo is the contract's stand-in (tests/contract_odoo.py).
"""

import gzip
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sidecar import config
from sidecar.agency import (
    AgencyClient,
    AgencyConfigError,
    AgencyProtocolError,
    AgencyRedirected,
    AgencyUnavailable,
)
from sidecar.sync import EXIT_PARTIAL, EXIT_REFUSED
from tests.conftest import API_KEY, case_payload
from tests.contract_odoo import ContractOdoo
from tests.test_sync_core import syncer

INFO = {"name": "Hostile", "environment": "test"}


class HostileHandler(BaseHTTPRequestHandler):
    """Records every request, then lets the server's ``attack`` write the raw answer."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers)})
        try:
            self.server.attack(self, body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up, as it should on a body too large
        self.close_connection = True

    do_GET = do_POST = _answer

    def end_headers(self):
        # One request per connection, said so: the client never reuses a connection the attack has closed.
        self.send_header("Connection", "close")
        super().end_headers()

    def send(self, status, body=b"", headers=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        headers = {"Content-Type": "application/json", "Content-Length": str(len(raw)), **(headers or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, attack):
        super().__init__(("127.0.0.1", 0), HostileHandler)
        self.attack = attack
        self.requests = []
        self.url = "http://127.0.0.1:%d" % self.server_address[1]
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def hostile():
    """hostile(attack) starts a server whose every answer is ``attack(handler, request_body)``."""
    servers = []

    def start(attack):
        server = HostileServer(attack)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def client_for(url, retries=2, max_body=64 * 1024):
    return AgencyClient(
        url, API_KEY, timeout=(1.0, 2.0), retries=retries, backoff=0.01, sleep=lambda _s: None, max_body=max_body
    )


def with_info(attack):
    """An agency that answers /v1/info honestly and attacks every other request."""

    def answer(handler, body):
        if handler.path == "/v1/info":
            handler.send(200, INFO)
        else:
            attack(handler, body)

    return answer


def endless(handler, _body):
    """A 200 without Content-Length whose body does not end (2000 x 64 KiB = 125 MiB if anyone read it all)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    handler.wfile.write(b'{"changes": ["')
    for _ in range(2000):
        handler.wfile.write(b"x" * 65536)


def broken_chunks(handler, _body):
    """A chunked 200 cut off in its first chunk."""
    handler.send_response(200)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    handler.wfile.write(b'ff\r\n{"changes": [')
    handler.wfile.flush()


# ---------------------------------------------------------------------------------------------- redirects
def test_redirect_loop_is_not_followed(hostile):
    """A redirect to itself: one request, AgencyRedirected at once, no retry and no loop."""
    server = hostile(lambda h, _b: h.send(302, b"", {"Location": h.path}))
    client = client_for(server.url)
    with pytest.raises(AgencyRedirected, match="302"):
        client.info()
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_to_another_host_never_carries_the_key(hostile, status):
    """An agency redirecting to another host: the other host is never asked, so it never sees the API key."""
    thief = hostile(lambda h, _b: h.send(200, INFO))
    thief_url = thief.url.replace("127.0.0.1", "localhost")
    agency = hostile(lambda h, _b: h.send(status, b"", {"Location": thief_url + h.path}))
    client = client_for(agency.url)
    with pytest.raises(AgencyRedirected, match=str(status)):
        client.register_case(case_payload("ref-1"), idempotency_key="ref-1")
    assert agency.requests[0]["headers"]["X-API-Key"] == API_KEY
    assert thief.requests == []


def test_agency_ids_cannot_steer_requests_elsewhere(hostile):
    """An agency case id with '/', '..', '?', '#', '@' stays one quoted path segment on the agency's host."""
    server = hostile(lambda h, _b: h.send(200, {"status": "paused"}))
    client = client_for(server.url)
    client.post_command("../../admin?x=1#@evil.example", "pause", {}, idempotency_key="command-1")
    assert [r["path"] for r in server.requests] == ["/v1/cases/..%2F..%2Fadmin%3Fx%3D1%23%40evil.example/pause"]


# ---------------------------------------------------------------------------------------------- bodies
def test_huge_streamed_body_is_refused_without_reading_it(hostile):
    """A body without Content-Length and without end: refused once past the cap, not retried, not read to the end."""
    server = hostile(endless)
    client = client_for(server.url, max_body=256 * 1024)
    started = time.monotonic()
    with pytest.raises(AgencyProtocolError, match="larger than the 262144 bytes"):
        client.changes()
    assert time.monotonic() - started < 5
    assert len(server.requests) == 1


def test_declared_huge_body_is_refused_before_reading(hostile):
    """A Content-Length beyond the cap is refused from the header alone."""

    def declared(handler, _body):
        handler.send_response(200)
        handler.send_header("Content-Length", str(10**12))
        handler.end_headers()
        handler.wfile.write(b"{}")

    server = hostile(declared)
    with pytest.raises(AgencyProtocolError, match="declares 1000000000000 bytes"):
        client_for(server.url).info()
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000 + b"]" * 200_000,  # deeper than Python's recursion limit
        b'{"changes": [' + b'{"a": ' * 40 + b"1" + b"}" * 40 + b'], "next_cursor": "1"}',  # parses, too deep
    ],
    ids=["beyond-recursion", "beyond-depth"],
)
def test_deep_nesting_is_refused(hostile, body):
    """Deeply nested JSON is a protocol error, never a RecursionError escaping the adapter."""
    server = hostile(lambda h, _b: h.send(200, body))
    with pytest.raises(AgencyProtocolError, match="nested deeper than 32 levels"):
        client_for(server.url, retries=0, max_body=1024 * 1024).changes()


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b'{"name": "x", "environment": "test"',
        b"\xff\xfe\x00garbage",
        b'{"environment": NaN}',
        b'{"environment": "test", "fee": Infinity}',
        b'{"environment": "test", "fee": 1e999}',
        b'"a string"',
        b"null",
    ],
)
def test_invalid_json_is_a_protocol_error(hostile, body):
    """Not JSON, NaN, Infinity, a number beyond float, a non-object: retried, then AgencyProtocolError."""
    server = hostile(lambda h, _b: h.send(200, body))
    with pytest.raises(AgencyProtocolError, match="GET /v1/info"):
        client_for(server.url, retries=1).info()
    assert len(server.requests) == 2


def test_broken_chunked_body_is_unavailable(hostile):
    """A chunked body cut off mid-chunk (ChunkedEncodingError): retried, then AgencyUnavailable."""
    server = hostile(broken_chunks)
    with pytest.raises(AgencyUnavailable, match="ChunkedEncodingError|ProtocolError"):
        client_for(server.url, retries=1).changes()
    assert len(server.requests) == 2


def test_bad_content_encoding_is_unavailable(hostile):
    """A body that claims gzip but is not (ContentDecodingError): AgencyUnavailable, not a raw requests error."""
    server = hostile(lambda h, _b: h.send(200, b"definitely not gzip", {"Content-Encoding": "gzip"}))
    with pytest.raises(AgencyUnavailable, match="ContentDecodingError"):
        client_for(server.url, retries=0).info()


def test_gzip_bomb_is_capped_after_decoding(hostile):
    """A small gzip body that inflates beyond the cap is refused by its decoded size."""
    bomb = gzip.compress(b'{"name": "' + b"a" * (4 * 1024 * 1024) + b'"}')
    server = hostile(lambda h, _b: h.send(200, bomb, {"Content-Encoding": "gzip"}))
    with pytest.raises(AgencyProtocolError, match="larger than"):
        client_for(server.url, retries=0, max_body=1024 * 1024).info()


def test_5xx_is_retried_then_unavailable(hostile):
    """Always 500 with an HTML page: 1 + retries requests, then AgencyUnavailable with the status."""
    server = hostile(lambda h, _b: h.send(500, b"<html>Internal Server Error</html>"))
    with pytest.raises(AgencyUnavailable, match="agency error 500"):
        client_for(server.url, retries=2).info()
    assert len(server.requests) == 3


@pytest.mark.parametrize(
    "url",
    ["agency.example.com/api", "ftp://agency.example.com", "http://[::1", "http://a:port", "http://", "", None, 42],
)
def test_unusable_url_is_a_config_error(url):
    """No scheme, another scheme, an invalid host, nothing: AgencyConfigError before any request."""
    with pytest.raises(AgencyConfigError, match="not an http"):
        client_for(url)


def test_header_injection_in_api_key_is_refused(hostile):
    """An API key with a line break (a header injection) is refused by the request itself, not sent."""
    server = hostile(lambda h, _b: h.send(200, INFO))
    client = AgencyClient(server.url, "key\r\nX-Evil: 1", retries=3, sleep=lambda _s: None)
    with pytest.raises(AgencyConfigError, match="cannot be made"):
        client.info()
    assert server.requests == []


# ---------------------------------------------------------------------------------------------- sync pass
def agency_record(agency_id, code, url, environment="test"):
    return {
        "id": agency_id,
        "code": code,
        "name": code,
        "base_url": url,
        "api_key": API_KEY,
        "environment": environment,
    }


def test_hostile_agencies_do_not_stop_the_pass(hostile, sandbox):
    """Bad URL, redirect loop, endless body, deep JSON, broken chunks and 500s, listed before a good agency:
    each is reported to Odoo in its heartbeat, and the good agency's cases and changes still sync."""
    deep = b"[" * 100_000 + b"]" * 100_000
    attacks = {
        "LOOP": lambda h, _b: h.send(302, b"", {"Location": h.path}),
        "HUGE": with_info(endless),
        "DEEP": with_info(lambda h, _b: h.send(200, deep)),
        "CHUNK": with_info(broken_chunks),
        "FIVE": with_info(lambda h, _b: h.send(503, {"error": "down"})),
        "NOTDICT": with_info(lambda h, _b: h.send(200, {"changes": ["x", 1, None], "next_cursor": "9"})),
    }
    servers = {code: hostile(attack) for code, attack in attacks.items()}
    records = [agency_record(1, "BADURL", "htp:/nowhere"), agency_record(2, "NOSCHEME", "agency.example.com")]
    records += [agency_record(3 + index, code, server.url) for index, (code, server) in enumerate(servers.items())]
    records.append(agency_record(20, "SBX", sandbox.url))
    contract = ContractOdoo(records)
    case = contract.add_case(20, 1000.0)

    report = syncer(contract, agency_max_body=512 * 1024, agency_retries=1).run_once()

    assert report.exit_code == EXIT_PARTIAL
    by_code = {agency.code: agency for agency in report.agencies}
    assert list(by_code) == [r["code"] for r in records]
    good = by_code.pop("SBX")
    assert good.errors == [] and good.submitted == 1 and good.applied == 3
    assert contract.cases[case]["state"] == "active" and contract.cases[case]["fees"] == 180.0
    notdict = by_code.pop("NOTDICT")
    # Not objects: the mapper hands them to Odoo as errors, quarantined there (the stand-in files them under one id).
    assert notdict.errors == [] and notdict.applied == 0 and notdict.quarantined + notdict.duplicates == 3
    for code, agency in by_code.items():
        assert agency.errors, code
    heartbeats = {beat["agency_id"]: beat["stats"] for beat in contract.heartbeats}
    assert heartbeats[20]["error"] == ""
    assert "not an http(s)://host URL" in heartbeats[1]["error"]
    assert "redirects are not followed" in heartbeats[3]["error"]
    assert "larger than the 524288 bytes" in heartbeats[4]["error"]
    assert "nested deeper" in heartbeats[5]["error"]
    assert "agency error 503" in heartbeats[7]["error"]
    assert len(servers["LOOP"].requests) == 1


def test_production_agency_over_http_is_refused(hostile):
    """A production agency at an http:// URL is refused (exit 3) before any request: its key never travels."""
    server = hostile(lambda h, _b: h.send(200, {"name": "P", "environment": "production"}))
    contract = ContractOdoo([agency_record(1, "PROD", server.url, environment="production")], neutralized=False)
    contract.add_case(1, 1000.0)
    report = syncer(contract).run_once()
    assert report.exit_code == EXIT_REFUSED
    assert "not https" in report.agencies[0].refused
    assert server.requests == []
    assert "sidecar_claim" not in contract.calls
    assert "not https" in contract.heartbeats[-1]["stats"]["error"]


def test_production_agency_from_neutralized_database_is_not_contacted():
    """A production agency from a neutralized copy is refused before /v1/info: no connection, so no key sent."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    contract = ContractOdoo(
        [agency_record(1, "PROD", "https://127.0.0.1:%d" % listener.getsockname()[1], environment="production")]
    )
    try:
        report = syncer(contract).run_once()
        assert report.exit_code == EXIT_REFUSED and "neutralized" in report.agencies[0].refused
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()


@pytest.mark.parametrize("next_cursor", ["5", "3", "0004"])
def test_cursor_never_goes_back(hostile, next_cursor):
    """Odoo holds cursor 5; an agency answering a page whose cursor is not past it: nothing applied, the cursor
    Odoo holds stays 5, and the agency's error is reported."""
    page = {
        "changes": [{"id": "chg-1", "case_id": "c1", "type": "fee", "amount": 10.0, "currency": "SEK"}],
        "next_cursor": next_cursor,
    }
    server = hostile(with_info(lambda h, _b: h.send(200, page)))
    contract = ContractOdoo([{**agency_record(1, "BACK", server.url), "cursor": "5"}])
    report = syncer(contract).run_once()
    assert report.exit_code == EXIT_PARTIAL
    assert "does not move past '5'" in report.agencies[0].errors[0]
    assert contract.agencies[1]["cursor"] == "5"
    assert "sidecar_apply_changes" not in contract.calls
    assert [r["path"] for r in server.requests][-1] == "/v1/changes?limit=1000&since=5"


def test_cursor_moves_forward_numerically(hostile):
    """Cursor "10" after "9": numbers, not strings, decide (a string comparison would call it older)."""
    answers = iter([("9", "10")])

    def feed(handler, _body):
        since, after = next(answers, (None, None))
        if since is None:
            handler.send(200, {"changes": [], "next_cursor": "10"})
            return
        change = {"id": "chg-10", "creditor_reference": "nobody", "type": "fee", "amount": 1.0, "currency": "SEK"}
        handler.send(200, {"changes": [change], "next_cursor": after})

    server = hostile(with_info(feed))
    contract = ContractOdoo([{**agency_record(1, "NUM", server.url), "cursor": "9"}])
    report = syncer(contract).run_once()
    assert report.agencies[0].errors == []
    assert contract.agencies[1]["cursor"] == "10"


def test_change_data_that_is_not_an_object_is_quarantined(hostile):
    """A change whose data is a list: mapped with an error, so Odoo quarantines it and applies nothing."""
    change = {"id": "chg-1", "creditor_reference": "x", "type": "status", "status": "paid", "data": [1, 2]}
    server = hostile(with_info(lambda h, _b: h.send(200, {"changes": [change], "next_cursor": "1"})))
    contract = ContractOdoo([agency_record(1, "DATA", server.url)])
    report = syncer(contract).run_once()
    assert report.agencies[0].quarantined == 1 and report.agencies[0].applied == 0
    assert contract.quarantine[(1, "chg-1")].endswith("the change's data is not an object")
    assert contract.agencies[1]["cursor"] == "1"


def test_body_cap_is_a_setting():
    """agency_max_body comes from the environment like every setting, and must be positive."""
    assert config.load(environ={}).agency_max_body == 8 * 1024 * 1024
    assert config.load(environ={"NORDIC_SIDECAR_AGENCY_MAX_BODY": "1024"}).agency_max_body == 1024
    with pytest.raises(config.ConfigError, match="agency_max_body"):
        config.load(environ={"NORDIC_SIDECAR_AGENCY_MAX_BODY": "0"})


class GarbledListing(ContractOdoo):
    """The contract's stand-in, but its listing of agencies is whatever the test says."""

    def __init__(self, listing, agencies):
        super().__init__(agencies)
        self.listing = listing

    def sidecar_agencies(self):
        return self.listing


@pytest.mark.parametrize("listing", [None, [], "agencies", {"agencies": "SBX"}, {"database": [], "agencies": []}])
def test_malformed_agency_listing_is_an_error(sandbox, listing):
    """Odoo answering the listing with something that is not the contract's: exit 1, no agency contacted."""
    contract = GarbledListing(listing, [agency_record(1, "SBX", sandbox.url)])
    report = syncer(contract).run_once()
    assert report.exit_code == EXIT_PARTIAL and report.agencies == []
    assert "not the contract's" in report.errors[0]


def test_request_body_that_is_no_json_is_not_sent(hostile):
    """A registration holding NaN (not JSON) is refused by the request itself: nothing sent, no retry."""
    server = hostile(lambda h, _b: h.send(200, {"id": "c1", "status": "registered"}))
    client = client_for(server.url)
    with pytest.raises(AgencyConfigError, match="InvalidJSONError"):
        client.register_case({"amount": float("nan")}, idempotency_key="ref-1")
    assert server.requests == [] and client.stats["requests"] == 1
