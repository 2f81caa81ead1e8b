"""Run Odoo 18 from source for this project: template databases, test runs, servers.

Used by scripts/test, scripts/demo and scripts/bench (through scripts/lib.sh, which sets
ODOO_PATH, ADDONS_PATH and the virtualenv). Settings come from the environment:

- ``ODOO_PATH``   Odoo 18.0 source (default /opt/odoo)
- ``ADDONS_PATH`` comma-separated addons path (set by lib.sh)
- ``PGHOST``/``PGPORT``/``PGUSER`` PostgreSQL (default 127.0.0.1:5432, current user)

A template database (base modules installed, assets pregenerated) is built once per set
of modules and Odoo version and copied with ``createdb -T`` for every run: a test cycle
then costs seconds, not the minutes an install of ``account`` takes.
"""

import argparse
import ast
import contextlib
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2  # the harness runs in the project virtualenv

ROOT = Path(__file__).resolve().parent.parent
ODOO_PATH = Path(os.environ.get("ODOO_PATH", "/opt/odoo"))
# The project's addons, each on top of the ones before: the engine, payment files, collection agencies,
# approvals. Each is tested on a template with what it and those before it depend on.
ADDONS = ["nordic_dunning", "nordic_dunning_payment", "nordic_dunning_collection", "nordic_dunning_approval"]
# The addon that installs the engine, collection and approvals (demo, benchmark, end-to-end tests).
ADDON = ADDONS[-1]
# Localisations every test and demo database has; the addons themselves do not depend on them.
BASE_MODULES = ["l10n_se", "l10n_no"]


def pg_env():
    env = dict(os.environ)
    env.setdefault("PGHOST", "127.0.0.1")
    env.setdefault("PGPORT", "5432")
    return env


def psql(sql, db="postgres"):
    out = subprocess.run(
        ["psql", "-X", "-qAt", "-d", db, "-c", sql], env=pg_env(), check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def db_exists(name):
    return psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


FILESTORE = Path(os.environ.get("ODOO_DATA_DIR", Path.home() / ".local" / "share" / "Odoo")) / "filestore"


def drop_db(name):
    if db_exists(name):
        psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'")
        subprocess.run(["dropdb", "--if-exists", name], env=pg_env(), check=True)
    shutil.rmtree(FILESTORE / name, ignore_errors=True)


def copy_db(template, name):
    drop_db(name)
    subprocess.run(["createdb", "-T", template, name], env=pg_env(), check=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manifest_depends(addons=ADDONS):
    """The modules outside this project that ``addons`` depend on directly."""
    depends = []
    for addon in addons:
        manifest = ast.literal_eval((ROOT / "addons" / addon / "__manifest__.py").read_text())
        depends += [dep for dep in manifest["depends"] if dep not in ADDONS]
    return depends


def odoo_cmd(db, *args, http_port=None, shell=False):
    """odoo-bin for DB; a free loopback HTTP port unless one is given, no HTTP for a shell."""
    cmd = [sys.executable, str(ODOO_PATH / "odoo-bin")] + (["shell", "--no-http"] if shell else [])
    cmd += [
        f"--addons-path={os.environ['ADDONS_PATH']}",
        f"--db_host={pg_env()['PGHOST']}",
        f"--db_port={pg_env()['PGPORT']}",
        "--without-demo=all",
        "--max-cron-threads=0",
        "-d",
        db,
        f"--db-filter=^{db}$",
    ]
    if not shell:
        cmd += ["--http-interface=127.0.0.1", f"--http-port={http_port or free_port()}", f"--gevent-port={free_port()}"]
    if os.environ.get("PGUSER"):
        cmd.append(f"--db_user={os.environ['PGUSER']}")
    return cmd + list(args)


def template_name(modules):
    key = hashlib.sha1()
    key.update((ODOO_PATH / "odoo" / "release.py").read_bytes())
    key.update(",".join(sorted(modules)).encode())
    key.update((ROOT / "requirements" / "oca-addons.txt").read_bytes())
    return f"nordic_tmpl_{key.hexdigest()[:10]}"


# Attachments (the pregenerated assets among them) are kept in the database, so that a
# `createdb -T` copy is complete without a filestore to copy alongside.
PREGENERATE = (
    "env['ir.config_parameter'].set_param('ir_attachment.location', 'db')\n"
    "env['ir.attachment'].force_storage()\n"
    "env['ir.qweb']._pregenerate_assets_bundles()\n"
    "env.cr.commit()\n"
)


def ensure_template(extra_modules=(), addons=ADDONS):
    """The template for ``addons``: what they depend on outside the project, the localisations and
    ``extra_modules``, installed once."""
    modules = sorted(set(manifest_depends(addons) + BASE_MODULES + list(extra_modules)))
    name = template_name(modules)
    if db_exists(name):
        return name
    with template_lock(name):
        if db_exists(name):  # another run built it while this one waited
            return name
        return build_template(name, modules)


@contextlib.contextmanager
def template_lock(name):
    """A PostgreSQL advisory lock, so that two runs (any checkout, any cache) never build one template twice."""
    env = pg_env()
    conn = psycopg2.connect(dbname="postgres", host=env["PGHOST"], port=env["PGPORT"], user=env.get("PGUSER"))
    try:
        with conn.cursor() as cr:
            cr.execute("SELECT pg_advisory_lock(hashtext(%s))", [name])
        yield
    finally:
        conn.close()  # ends the session, which releases the lock


def build_template(name, modules):
    building = name + "_building"
    drop_db(building)
    print(f"Building template database {name} ({', '.join(modules)}); about a minute, once.", flush=True)
    started = time.time()
    log = ROOT / "var" / f"{name}.log"
    log.parent.mkdir(exist_ok=True)
    with open(log, "w") as fh:
        res = subprocess.run(
            odoo_cmd(building, "-i", ",".join(modules), "--stop-after-init", "--log-level=warn"),
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
        if res.returncode:
            sys.exit(f"Template build failed; see {log}")
        res = subprocess.run(
            odoo_cmd(building, "--log-level=warn", shell=True),
            input=PREGENERATE,
            text=True,
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
        if res.returncode:
            sys.exit(f"Asset pregeneration failed; see {log}")
    psql(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    shutil.rmtree(FILESTORE / building, ignore_errors=True)
    print(f"Template {name} ready in {time.time() - started:.0f} s.", flush=True)
    return name


RESULT_RE = re.compile(r"odoo\.tests\.result: (\d+) failed, (\d+) error\(s\) of (\d+) tests")
SKIP_RE = re.compile(r"odoo\.tests\.result: skipped ")
PROBLEM_RE = re.compile(r"^\S+ \S+ \d+ (ERROR|CRITICAL) ")
WARN_SKIP_RE = re.compile(r"websocket-client module is not installed|Chrome.*not found|skipping", re.I)


def run_odoo_tests(db, addon, tags, log_path):
    """Install ``addon`` on a copy of the template and run the tests ``tags``; return (passed, failed).

    With ``addon`` None nothing is installed: the post_install tests ``tags`` of every installed module run.
    """
    install = ["-i", addon] if addon else []
    cmd = odoo_cmd(db, *install, "--test-enable", f"--test-tags={tags}", "--stop-after-init", "--log-level=test")
    failed = errors = total = skipped = problems = 0
    saw_result = False
    with open(log_path, "w") as fh:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            fh.write(line)
            if " odoo.tests.result: " in line and "tests" in line:
                m = RESULT_RE.search(line)
                if m:
                    saw_result = True
                    failed, errors, total = int(m[1]), int(m[2]), int(m[3])
            if SKIP_RE.search(line):
                skipped += 1
                print("SKIPPED (counts as failure): " + line.strip(), flush=True)
            if PROBLEM_RE.match(line) and " odoo.tests.result: " not in line:
                problems += 1
                print(line.rstrip(), flush=True)
            elif " FAIL: " in line or " ERROR: " in line or line.startswith(("Traceback", "AssertionError")):
                print(line.rstrip(), flush=True)
            elif re.search(r"odoo\.addons\.\w+\.tests\.\S+: Starting ", line):
                print("  " + line.split(": Starting ", 1)[1].rstrip(), flush=True)
        rc = proc.wait()
    if not saw_result:
        print(f"No Odoo test result line found (exit code {rc}); see {log_path}", flush=True)
        return 0, max(1, problems)
    bad = failed + errors + skipped
    # An ERROR line outside a test (e.g. during install) fails the run too, as in Odoo's own CI.
    extra = max(0, problems - failed - errors)
    if rc and not (bad or extra):
        extra = 1
    passed = max(0, total - failed - errors - skipped)
    return passed, bad + extra


def cmd_test(args):
    """Each addon installed alone on its dependencies (a copy of the template each) with its own tests.

    The database of the last one, which has every addon, is kept for the pytest suite's end-to-end tests.
    """
    addons = args.addons or ADDONS
    total_passed = total_failed = 0
    db = ""
    for addon in addons:
        # The addon and those below it, on a template with only what they need (no tier validation for
        # the engine and collection).
        template = ensure_template(addons=ADDONS[: ADDONS.index(addon) + 1])
        db = f"{args.db or f'nordic_test_{os.getpid()}'}_{ADDONS.index(addon)}"
        copy_db(template, db)
        log = ROOT / "var" / f"odoo-tests-{db}.log"
        log.parent.mkdir(exist_ok=True)
        print(f"Running the Odoo tests of {addon} alone on {db} (log: {log})", flush=True)
        passed, failed = run_odoo_tests(db, addon, args.tags or f"/{addon}", log)
        print(f"Odoo tests of {addon}: {passed} passed, {failed} failed", flush=True)
        total_passed += passed
        total_failed += failed
        if addon != addons[-1]:
            drop_db(db)
    Path(args.result).write_text(f"{total_passed} {total_failed} {db}\n")


# Odoo's own tests of the invoice flows the addons change (credit notes, reversals, payments, reconciliation),
# run as a peer's suite on a database with the project installed.
COMPAT_TESTS = (
    "TestAccountMoveOutInvoiceOnchanges",
    "TestAccountMoveOutRefundOnchanges",
    "TestAccountPaymentRegister",
    "TestAccountMoveReconcile",
)


# With nordic_dunning_approval, a customer credit note is only posted once approved: Odoo's tests that post
# one (directly or through "reverse and create a new draft") find it in draft, waiting for approval. Each
# such test, and why it differs; the README lists them too.
_REVERSE = (
    "reverses a posted customer invoice and expects the credit note posted: it stays in draft, approval requested"
)
_REFUND = "posts a customer credit note that no approver approved: it stays in draft, approval requested"
_CABA = (
    "reconciles a posted customer credit note for cash-basis taxes: the credit note stays in draft, approval requested"
)
COMPAT_DIFFERENCES = {
    "nordic_dunning_approval": {
        "TestAccountMoveOutInvoiceOnchanges.test_out_invoice_caba_on_payment": _REVERSE,
        "TestAccountMoveOutInvoiceOnchanges.test_out_invoice_create_refund": _REVERSE,
        "TestAccountMoveOutInvoiceOnchanges.test_out_invoice_create_refund_multi_currency": _REVERSE,
        "TestAccountMoveOutRefundOnchanges.test_out_refund_reverse_caba": _REFUND,
        "TestAccountMoveOutRefundOnchanges.test_out_refund_with_down_payment_caba": _REFUND,
        "TestAccountMoveReconcile.test_cash_basis_full_refund": _REVERSE,
        "TestAccountMoveReconcile.test_reconcile_cash_basis_refund_multicurrency": _CABA,
        "TestAccountMoveReconcile.test_reconcile_cash_basis_tax_grid_refund": _CABA,
        "TestAccountMoveReconcile.test_reconcile_cash_basis_tax_grid_reversal": _REVERSE,
        "TestAccountMoveReconcile.test_reconcile_special_mexican_workflow_1": _CABA,
        "TestAccountMoveReconcile.test_reconcile_special_mexican_workflow_2": _CABA,
    },
}


def cmd_compat(args):
    """Odoo's account tests (COMPAT_TESTS) with ``args.addon`` installed on l10n_se, l10n_no and tier validation."""
    template = ensure_template(extra_modules=["account_move_tier_validation"])
    db = args.db or f"nordic_compat_{os.getpid()}"
    copy_db(template, db)
    log = ROOT / "var" / f"odoo-compat-{db}.log"
    log.parent.mkdir(exist_ok=True)
    try:
        subprocess.run(odoo_cmd(db, "-i", args.addon, "--stop-after-init", "--log-level=warn"), check=True)
        print(f"Odoo's account tests with {args.addon} installed, on {db} (log: {log})", flush=True)
        tags = ",".join(f"/account:{name}" for name in COMPAT_TESTS)
        tags += "".join(f",-/account:{name}" for name in COMPAT_DIFFERENCES.get(args.addon, {}))
        passed, failed = run_odoo_tests(db, None, tags, log)
    finally:
        drop_db(db)
    print(f"Odoo account tests with {args.addon}: {passed} passed, {failed} failed", flush=True)
    Path(args.result).write_text(f"{passed} {failed}\n")


def cmd_template(args):
    print(ensure_template(args.extra))


def cmd_copy(args):
    copy_db(ensure_template(args.extra), args.db)


def cmd_drop(args):
    drop_db(args.db)


def cmd_exec(args):
    os.execv(sys.executable, odoo_cmd(args.db, *args.rest, http_port=args.http_port))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(required=True)
    p = sub.add_parser("test", help="run each addon's Odoo tests on a fresh copy of the template")
    p.add_argument("--addons", nargs="*", choices=ADDONS, help="only these addons (default: all)")
    p.add_argument("--tags", help="test tags instead of /<addon>")
    p.add_argument("--db")
    p.add_argument("--result", required=True, help="file that receives 'passed failed db'")
    p.set_defaults(func=cmd_test)
    p = sub.add_parser("compat", help="run Odoo's own account tests with an addon installed")
    p.add_argument("--addon", default="nordic_dunning_collection", choices=ADDONS)
    p.add_argument("--db")
    p.add_argument("--result", required=True, help="file that receives 'passed failed'")
    p.set_defaults(func=cmd_compat)
    p = sub.add_parser("template", help="build (once) and print the template database name")
    p.add_argument("--extra", nargs="*", default=[])
    p.set_defaults(func=cmd_template)
    p = sub.add_parser("copy", help="copy the template into DB")
    p.add_argument("db")
    p.add_argument("--extra", nargs="*", default=[])
    p.set_defaults(func=cmd_copy)
    p = sub.add_parser("drop")
    p.add_argument("db")
    p.set_defaults(func=cmd_drop)
    p = sub.add_parser("odoo", help="exec odoo-bin on DB with the project's settings")
    p.add_argument("db")
    p.add_argument("--http-port", type=int)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_exec)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
