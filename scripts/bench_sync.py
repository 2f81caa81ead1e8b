"""Benchmark: applying N agency changes to Odoo with the sidecar vs a naive per-record odoorpc loop.

Run through ``scripts/bench-sync --cases N`` (default 10000). Against a real Odoo (odoo-bin on a free loopback
port, a fresh database unless ``--db``) and the real sandbox agency (a process, SQLite in a temp dir):

1. setup (not timed): N collection cases in Odoo, registered at the sandbox by the sidecar itself, and the
   registration changes applied; then the sandbox clock passes the deadline. The principals are chosen so each
   case then emits exactly ONE change (status ``surveillance``; the sandbox runs with ``--interest-rate 0``).
2. ours: one ``Syncer.run_once()`` (pages of ``--page`` changes, one ``sidecar_apply_changes`` each); its
   JSON-RPC requests, the login included, are ``rpc_calls``.
3. naive, on the same data (the case states reset first): for each change, ``search`` the case by UUID and
   ``write`` its state, one record at a time over odoorpc, as a per-record integration would.

The LAST line is exactly ``cases=N ours_s=X naive_s=Y ratio=Y/X rpc_calls=R``.
"""

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

import odoorpc  # noqa: E402

from sidecar.agency import AgencyClient  # noqa: E402
from sidecar.config import Settings  # noqa: E402
from sidecar.mapper import NordicV1Mapper  # noqa: E402
from sidecar.odoo import OdooClient  # noqa: E402
from sidecar.sandbox import spawn as spawn_sandbox  # noqa: E402
from sidecar.sync import Syncer  # noqa: E402
from tests.odoo_process import OdooServer, drop_database, odoo_shell, prepare_database  # noqa: E402

SETUP_FILE = ROOT / "tests" / "odoo_setup.py"

SETUP = """
neutralize(env)
company, policy = swedish_company(env, "Bench Tandvård AB")
agency_record = agency(env, company, %(base_url)r, %(api_key)r, code="BENCH")
bench_cases(env, company, agency_record, %(cases)d)
login, key = sidecar_user(env)
env.cr.commit()
result({"login": login, "api_key": key, "agency_id": agency_record.id})
"""

RESET = """
env.cr.execute("UPDATE nordic_collection_case SET state = 'active' WHERE state = 'surveillance'")
env.cr.commit()
"""


def log(message):
    print(message, file=sys.stderr, flush=True)


def start_sandbox(tmp, api_key):
    return spawn_sandbox(Path(tmp) / "bench.sqlite", api_key, "--interest-rate", "0", "--start-date", "2026-01-05")


def settings_for(server, login, key, page):
    return Settings(
        odoo_host="127.0.0.1",
        odoo_port=server.port,
        odoo_db=server.db,
        odoo_login=login,
        odoo_api_key=key,
        odoo_timeout=600,
        batch_size=1000,
        changes_page=page,
        worker="bench",
        agency_backoff=0.1,
        log_format="text",
        log_level="WARNING",
    )


def naive(server, changes):
    """One search and one write per change (mapped as the sidecar maps it), each its own JSON-RPC request."""
    odoo = odoorpc.ODOO("127.0.0.1", port=server.port, timeout=600)
    odoo.login(server.db, "admin", "admin")
    mapper = NordicV1Mapper()
    for change in map(mapper.to_change, changes):
        ids = odoo.execute_kw("nordic.collection.case", "search", [[["uuid", "=", change["uuid"]]]])
        odoo.execute_kw("nordic.collection.case", "write", [ids, {"state": change["state"]}])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--page", type=int, default=1000, help="changes per page / per Odoo call")
    parser.add_argument("--db", help="an existing database with nordic_dunning installed (default: a fresh one)")
    parser.add_argument("--keep", action="store_true", help="keep the fresh database")
    args = parser.parse_args()
    api_key = secrets.token_hex(16)
    db, created = (args.db, False) if args.db else prepare_database(f"nordic_bench_{os.getpid()}")
    server = sandbox = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sandbox, sandbox_url = start_sandbox(tmp, api_key)
            log(f"setup: {args.cases} cases in {db}, sandbox at {sandbox_url}")
            started = time.monotonic()
            code = SETUP_FILE.read_text() + SETUP % {"cases": args.cases, "base_url": sandbox_url, "api_key": api_key}
            out = odoo_shell(db, code, timeout=3600)
            setup = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
            server = OdooServer(db)
            settings = settings_for(server, setup["login"], setup["api_key"], args.page)
            report = Syncer(OdooClient(settings).connect(), settings).run_once()
            log(
                f"setup: submitted {report.totals()['submitted']}, applied {report.totals()['applied']} "
                f"in {time.monotonic() - started:.0f}s"
            )
            agency = AgencyClient(sandbox_url, api_key, timeout=(5, 600))
            agency.session.post(
                sandbox_url + "/_sandbox/clock", json={"advance_days": 14}, headers={"X-API-Key": api_key}, timeout=600
            ).raise_for_status()
            cursor = setup.get("cursor") or report.agencies[0].cursor
            changes, next_cursor, pending = [], cursor, True
            while pending:
                page, next_cursor = agency.changes(since=next_cursor, limit=10000)
                changes += page
                pending = bool(page)
            assert len(changes) == args.cases, f"{len(changes)} changes for {args.cases} cases"

            client = OdooClient(settings)
            started = time.monotonic()
            client.connect()
            ours = Syncer(client, settings).run_once()
            ours_s = time.monotonic() - started
            log(f"ours: {ours.totals()} in {ours_s:.2f}s, {client.calls} RPC calls")
            assert ours.totals()["applied"] == args.cases

            odoo_shell(db, RESET)
            started = time.monotonic()
            naive(server, changes)
            naive_s = time.monotonic() - started
            log(f"naive: {naive_s:.2f}s, {2 * len(changes) + 3} RPC calls")
    finally:
        if server:
            server.stop()
        if sandbox:
            sandbox.terminate()
            sandbox.wait(10)
        if created and not args.keep:
            drop_database(db)
    print(
        f"cases={args.cases} ours_s={ours_s:.2f} naive_s={naive_s:.2f} ratio={naive_s / ours_s:.1f} "
        f"rpc_calls={client.calls}"
    )


if __name__ == "__main__":
    main()
