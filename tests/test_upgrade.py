"""A database of the release before the split (``nordic_dunning`` 18.0.1.4.0, one addon) upgrades to the three
addons with every record kept.

The previous release's code comes from git (a worktree of :data:`PREVIOUS_RELEASE`); it is installed on a
copy of the template, given the demo's 60 days of dunning plus agency cases, changes, commands, disputes,
approvals and group members (tests/upgrade/activity.py), and then updated with today's code
(``-u nordic_dunning``), as an administrator would. Before and after, the test reads the row count of every
table of the project, a checksum of the events, of the fee and interest lines they booked and of the cases,
and the members of every group the project defines.
"""

import os
import subprocess
import sys

import pytest

from tests.odoo_process import ROOT, drop_database, harness, odoo_env

# The last commit with the single nordic_dunning addon (18.0.1.4.0).
PREVIOUS_RELEASE = "227eb8a4d650312f73665fddf19e647e4e84620c"
ADDONS = ("nordic_dunning", "nordic_dunning_collection", "nordic_dunning_approval")

CHECKSUMS = {
    "events": """SELECT md5(string_agg(concat_ws('|', id, move_id, line_id, state, date, fee_amount, interest_amount,
                        amount_residual, fee_move_line_id, interest_move_line_id, cancel_reason), ',' ORDER BY id))
                   FROM nordic_dunning_event""",
    "fees": """SELECT md5(string_agg(concat_ws('|', l.id, l.move_id, l.account_id, l.debit, l.credit,
                      l.amount_residual, l.reconciled, l.partner_id), ',' ORDER BY l.id))
                 FROM account_move_line l
                WHERE l.id IN (SELECT fee_move_line_id FROM nordic_dunning_event
                               UNION SELECT interest_move_line_id FROM nordic_dunning_event)""",
    "cases": """SELECT md5(string_agg(concat_ws('|', id, uuid, move_id, agency_id, state, external_id, ocr,
                       amount_principal, amount_fees, amount_interest, agency_status), ',' ORDER BY id))
                  FROM nordic_collection_case""",
    "case history": """SELECT md5(string_agg(concat_ws('|', id, case_id, old_state, new_state), ',' ORDER BY id))
                         FROM nordic_collection_case_history""",
    "commands": """SELECT md5(string_agg(concat_ws('|', id, case_id, action, state, reason), ',' ORDER BY id))
                     FROM nordic_collection_case_command""",
    "agency changes": """SELECT md5(string_agg(concat_ws('|', id, change_id, state, case_id), ',' ORDER BY id))
                           FROM nordic_collection_case_change""",
    "tier reviews": """SELECT md5(string_agg(concat_ws('|', id, res_id, status, definition_id), ',' ORDER BY id))
                         FROM tier_review WHERE model = 'account.move'""",
}
# Who is in each group of the project, by the group's name in its module (the module may change).
GROUP_MEMBERS = """
    SELECT d.name, string_agg(r.uid::text, ',' ORDER BY r.uid)
      FROM ir_model_data d
      JOIN res_groups_users_rel r ON r.gid = d.res_id
     WHERE d.model = 'res.groups' AND d.module LIKE 'nordic_dunning%'
     GROUP BY d.name
"""


def psql(db, sql):
    return harness().psql(sql, db=db)


def snapshot(db):
    tables = psql(db, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'nordic_%'")
    counts = {table: int(psql(db, f'SELECT count(*) FROM "{table}"')) for table in tables.split()}
    sums = {name: psql(db, sql) for name, sql in CHECKSUMS.items()}
    members = dict(line.split("|") for line in psql(db, GROUP_MEMBERS).splitlines())
    return counts, sums, members


def odoo(addons_dir, db, *args, input_text=None):
    """odoo-bin (or its shell with ``input_text``) on db with ``addons_dir`` as the project's addons."""
    h = harness()
    cmd = h.odoo_cmd(db, "--log-level=warn", *args, shell=input_text is not None)
    paths = [p for p in odoo_env()["ADDONS_PATH"].split(",") if p.rstrip("/") != str(ROOT / "addons")]
    cmd = [f"--addons-path={','.join([*paths, str(addons_dir)])}" if a.startswith("--addons-path=") else a for a in cmd]
    result = subprocess.run(cmd, input=input_text, text=True, capture_output=True, env=odoo_env(), timeout=1800)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-6000:]
    return result.stdout


@pytest.fixture
def previous_release(tmp_path):
    """The previous release's checkout (a git worktree, removed afterwards)."""
    path = tmp_path / "previous"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), PREVIOUS_RELEASE],
        check=True,
        capture_output=True,
    )
    yield path
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=True)


def test_upgrade_from_single_addon_keeps_every_record(previous_release, capsys):
    """Every project table keeps its row count, events/fees/cases/commands/changes/reviews their checksum, and
    every group its members; the three addons end installed at their new versions, and no record of the
    moved models is left to the old module."""
    h = harness()
    db = f"nordic_upgrade_{os.getpid()}"
    h.copy_db(h.ensure_template(), db)
    try:
        old_addons = previous_release / "addons"
        odoo(old_addons, db, "-i", "nordic_dunning", "--stop-after-init")
        demo = (previous_release / "scripts" / "demo_data.py").read_text()
        odoo(old_addons, db, input_text=demo)
        out = odoo(old_addons, db, input_text=(ROOT / "tests" / "upgrade" / "activity.py").read_text())
        assert "UPGRADE-DATA" in out
        before = snapshot(db)
        counts, sums, members = before
        assert counts["nordic_dunning_event"] > 50 and counts["nordic_collection_case"] > 0
        assert counts["nordic_collection_case_command"] > 0 and counts["nordic_collection_case_change"] > 0
        assert {"group_nordic_cfo", "group_nordic_clinic_manager", "group_nordic_dunning_sidecar"} <= set(members)

        rates_sql = "SELECT id, country_code, rate_type, date_from, value FROM nordic_dunning_rate ORDER BY id"
        rates = psql(db, rates_sql).splitlines()
        odoo(ROOT / "addons", db, "-u", "nordic_dunning", "--stop-after-init")

        after = snapshot(db)
        # The legal rates are data: the upgrade adds the newly shipped ones (Denmark, Finland, compensation)
        # and keeps every rate an accountant had, unchanged.
        assert psql(db, rates_sql).splitlines()[: len(rates)] == rates, "the legal rates kept"
        assert after[0].pop("nordic_dunning_rate") >= counts.pop("nordic_dunning_rate")
        # 18.0.3.0.0's table of sending failures starts empty: the old runs sent in their confirming request.
        assert after[0].pop("nordic_dunning_send_failure") == 0
        # Notices (one reminder per customer) are written by runs confirmed after the upgrade.
        assert after[0].pop("nordic_dunning_notice") == 0
        assert after[0] == counts, "row counts of the project's tables"
        assert after[1] == sums, "checksums of events, fees, cases, commands, changes and reviews"
        assert after[2] == members, "group members"
        states = dict(
            line.split("|")
            for line in psql(db, "SELECT name, state || ' ' || latest_version FROM ir_module_module").splitlines()
            if line.split("|")[0] in ADDONS
        )
        assert states == {
            "nordic_dunning": "installed 18.0.3.0.0",
            "nordic_dunning_collection": "installed 18.0.1.0.0",
            "nordic_dunning_approval": "installed 18.0.1.0.0",
        }
        owners = psql(
            db,
            "SELECT module FROM ir_model_data WHERE model = 'ir.model' AND name = 'model_nordic_collection_case'",
        ).split()
        assert "nordic_dunning_collection" in owners and "nordic_dunning" not in owners
        stale = psql(
            db,
            "SELECT count(*) FROM ir_model_data WHERE module = 'nordic_dunning'"
            " AND (name LIKE 'model_nordic_collection%' OR name LIKE 'field_nordic_collection%'"
            "      OR name IN ('group_nordic_cfo', 'group_nordic_dunning_sidecar', 'seq_nordic_collection_case'))",
        )
        assert stale == "0", "the old module still holds moved records"
        kinds = psql(db, "SELECT string_agg(DISTINCT type, ',' ORDER BY type) FROM nordic_collection_case_change")
        assert set(kinds.split(",")) <= {"state", "payment", "fee", "interest", "dispute"}, "the neutral kinds"
        assert "state" in kinds.split(",")
        protocols = psql(db, "SELECT string_agg(DISTINCT protocol, ',') FROM nordic_collection_agency")
        assert protocols == "nordic_v1", "existing agencies speak the protocol they spoke"
        with capsys.disabled():
            sys.stdout.write(
                f"\nupgrade kept {sum(counts.values())} rows in {len(counts)} tables "
                f"({counts['nordic_dunning_event']} events, {counts['nordic_collection_case']} cases)\n"
            )
    finally:
        drop_database(db)
