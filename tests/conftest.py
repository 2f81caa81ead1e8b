"""Fixtures: a sandbox agency on a free loopback port (thread or subprocess), and a deliberately faulty server."""

import json
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from sidecar.mapper import NordicV1Mapper
from sidecar.sandbox import SandboxAgency, SandboxServer
from sidecar.sandbox import spawn as spawn_sandbox
from tests.odoo_process import OdooServer, drop_database, prepare_database

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "sandbox-test-key"
START = date(2026, 1, 5)


class Sandbox:
    """A running sandbox agency and a small client for the tests."""

    def __init__(self, url, agency=None, api_key=API_KEY):
        self.url = url
        self.agency = agency
        self.api_key = api_key

    def call(self, method, path, body=None, headers=None, key=None):
        hdrs = {"X-API-Key": self.api_key if key is None else key, **(headers or {})}
        return requests.request(method, self.url + path, json=body, headers=hdrs, timeout=10)

    def register(self, payload, idempotency_key=None):
        key = idempotency_key or payload["creditor_reference"]
        return self.call("POST", "/v1/cases", payload, {"Idempotency-Key": key})

    def advance(self, days):
        response = self.call("POST", "/_sandbox/clock", {"advance_days": days})
        response.raise_for_status()
        return response.json()

    def fault(self, mode, count=1, **extra):
        response = self.call("POST", "/_sandbox/faults", {"mode": mode, "count": count, **extra})
        response.raise_for_status()

    def all_changes(self):
        response = self.call("GET", "/v1/changes?limit=10000")
        response.raise_for_status()
        return response.json()["changes"]

    def stats(self):
        return self.call("GET", "/_sandbox/stats").json()


def start_thread_sandbox(db_path, environment="test", **options):
    agency = SandboxAgency(str(db_path), API_KEY, environment=environment, start_date=START, **options)
    server = SandboxServer(("127.0.0.1", 0), agency)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, Sandbox(server.url, agency)


@pytest.fixture
def sandbox(tmp_path):
    """A test-environment sandbox agency served from a thread, with its SQLite file in tmp_path."""
    server, box = start_thread_sandbox(tmp_path / "agency.sqlite", fault_sleep=1.5)
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def production_sandbox(tmp_path):
    """A sandbox agency that says it is a production agency."""
    server, box = start_thread_sandbox(tmp_path / "prod.sqlite", environment="production")
    yield box
    server.shutdown()
    server.server_close()


def start_process_sandbox(db_path, *extra, environment="test"):
    """The sandbox as a real process (python -m sidecar.sandbox --port 0); returns (process, Sandbox)."""
    process, url = spawn_sandbox(db_path, API_KEY, "--start-date", START.isoformat(), *extra, environment=environment)
    return process, Sandbox(url)


@pytest.fixture
def sandbox_process(tmp_path):
    """The sandbox agency in its own process."""
    process, box = start_process_sandbox(tmp_path / "agency.sqlite")
    box.process = process
    yield box
    process.terminate()
    process.wait(10)


class FaultyHandler(BaseHTTPRequestHandler):
    """Answers from a script: each request pops the next (status, body, sleep) from server.script."""

    def log_message(self, format, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.requests.append(
            {"method": self.command, "path": self.path, "body": body, "headers": dict(self.headers)}
        )
        status, payload, sleep = self.server.script.pop(0) if self.server.script else (200, {}, 0)
        if sleep:
            time.sleep(sleep)
        raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = _answer


@pytest.fixture
def faulty_server():
    """A real HTTP server whose answers the test scripts: server.script = [(status, body, sleep), ...]."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FaultyHandler)
    server.daemon_threads = True
    server.script = []
    server.requests = []
    server.url = "http://127.0.0.1:%d" % server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def neutral_case(uuid, principal=1000.0, currency="SEK", **extra):
    """A case as Odoo's claim hands it over (the contract's neutral record)."""
    return {
        "uuid": uuid,
        "name": "COL/2026/0001",
        "currency": currency,
        "debtor": {
            "name": "Anna Andersson",
            "id_number": "198112189876",
            "is_company": False,
            "street": "Storgatan 1",
            "zip": "11122",
            "city": "Stockholm",
            "country": "SE",
            "email": "anna@example.com",
            "phone": "+46701234567",
        },
        "debts": [
            {
                "invoice_number": "INV/2026/0001",
                "invoice_date": "2025-11-01",
                "due_date": "2025-12-01",
                "principal": principal,
                "fees": 60.0,
                "interest": 12.5,
                "payment_reference": "1234567897",
            }
        ],
        "disputed": False,
        "dispute_text": "",
        **extra,
    }


def case_payload(reference, principal=1000.0, currency="SEK", **extra):
    """The nordic protocol's registration body of a neutral case, as the sidecar sends it."""
    return {**NordicV1Mapper().to_register_body(neutral_case(reference, principal, currency)), **extra}


@pytest.fixture(scope="session")
def odoo_db():
    """A database with nordic_dunning installed: NORDIC_TEST_DB (scripts/test) or a fresh copy, dropped after."""
    db, created = prepare_database()
    yield db
    if created:
        drop_database(db)


@pytest.fixture(scope="session")
def odoo(odoo_db):
    """odoo-bin serving odoo_db on a free loopback port."""
    server = OdooServer(odoo_db)
    yield server
    server.stop()
