"""A hostile agency beside a good one, and login faults, against the real Odoo (odoo-bin on loopback).

The good agency's cases reach it and its changes reach Odoo while the hostile one (a redirect loop) is reported
on its own agency record (``last_error``, from the heartbeat); a login the real Odoo refuses exits 2.

It runs after tests/test_e2e_sync.py (its name sorts after it) on the same Odoo server: that file's first
scenario reads its cases as admin before any sync, and the server's cached list of admin's companies would not
know a company made since by ``odoo-bin shell`` in another process if an earlier test had read as admin.
"""

import textwrap

from tests.conftest import API_KEY
from tests.odoo_process import odoo_shell, run_sidecar
from tests.test_e2e_sync import AMOUNTS, SETUP_FILE, Scenario
from tests.test_hostile_agency import HostileServer


def test_hostile_agency_beside_a_good_one(odoo, tmp_path):
    """One pass: the redirect loop is refused and recorded on its agency in Odoo; the good agency syncs."""
    scenario = Scenario(odoo, tmp_path, "GOOD")
    thief = HostileServer(lambda handler, _body: handler.send(200, {"name": "thief", "environment": "test"}))
    loop = HostileServer(lambda handler, _body: handler.send(302, b"", {"Location": thief.url + handler.path}))
    try:
        code = f"""
            company = env["nordic.collection.agency"].browse({scenario.data["agency_id"]}).company_ids[:1]
            hostile = agency(env, company, {loop.url!r}, {API_KEY!r}, code="HOSTILE")
            env.cr.commit()
            result({{"agency_id": hostile.id}})
        """
        out = odoo_shell(odoo.db, open(SETUP_FILE).read() + "\n" + textwrap.dedent(code))
        assert "RESULT " in out, out
        result = scenario.sync(NORDIC_SIDECAR_AGENCIES="HOSTILE,GOOD")
        assert result.returncode == 1, result.stderr
        assert "redirects are not followed" in result.stderr
        assert scenario.sandbox.stats()["cases"] == len(AMOUNTS)
        assert {case["state"] for case in scenario.cases()} == {"active"}
        agencies = scenario.admin.execute_kw(
            "nordic.collection.agency",
            "search_read",
            [[["code", "in", ["HOSTILE", "GOOD"]]]],
            {"fields": ["code", "last_error", "last_sync"]},
        )
        by_code = {record["code"]: record for record in agencies}
        assert "redirects are not followed" in by_code["HOSTILE"]["last_error"]
        assert not by_code["GOOD"]["last_error"] and by_code["GOOD"]["last_sync"]
        assert len(loop.requests) == 1 and thief.requests == []
    finally:
        for server in (thief, loop):
            server.shutdown()
            server.server_close()
        scenario.close()


def test_real_odoo_refusing_the_login_is_exit_2(odoo, tmp_path):
    """Wrong API key, wrong login, a database that does not exist: the real Odoo refuses, exit 2."""
    scenario = Scenario(odoo, tmp_path, "LOGIN", amounts=[1000.0])
    try:
        for wrong in ({"ODOO_API_KEY": "wrong"}, {"ODOO_LOGIN": "nobody"}, {"ODOO_DB": "nordic_no_such_db"}):
            result = run_sidecar({**scenario.env, **wrong}, "sync")
            assert result.returncode == 2, (wrong, result.stderr)
            assert "refused" in result.stderr and "Traceback" not in result.stderr
    finally:
        scenario.close()
