"""Time the import of a payment file against Odoo's ordinary register-payment path, on the same data.

Builds (once per N) a database ``nordic_bench_pay_<N>`` from the payment addon's template with
``nordic_dunning_payment`` installed, a Swedish company and N posted, sent customer invoices of 1000 kr with
OCR references (Luhn, as l10n_se's ``se_ocr2``), cloned with SQL by scripts/bench.py's ``clone_invoices``
(the setup is not what is measured). A BgMax file paying every invoice is written by the tests' writer.

On a fresh copy of that database (``createdb -T``, not timed), in this one process:
(a) ours: ``nordic.payment.import._import_file`` of the whole file (parse, match, book, reconcile), committed;
(b) naive: the same file's first ``--naive`` payments (default 500) each matched by a search on the reference
    and registered through Odoo's ``account.payment.register`` wizard, one at a time, committed.
The last line printed is ``lines=N seconds=S per_s=P naive_per_s=Q ratio=P/Q`` (naive measured on
``--naive`` payments, said on the line before).
"""

import argparse
import cProfile
import importlib.util
import os
import pstats
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, os.environ.get("ODOO_PATH", "/opt/odoo"))

import bench
import harness
from stdnum import luhn

import odoo
from odoo import SUPERUSER_ID, Command, api

ADDON = "nordic_dunning_payment"
DATA_VERSION = 1


def ensure_database(n):
    db = f"nordic_bench_pay_{n}"
    key = "nordic_bench_pay.invoices"
    if harness.db_exists(db) and harness.psql(f"SELECT value FROM ir_config_parameter WHERE key = '{key}'", db=db) == (
        f"{n}/{DATA_VERSION}"
    ):
        bench.subprocess_run(harness.odoo_cmd(db, "-u", ADDON, "--stop-after-init", "--log-level=warn"))
        return db, False
    template = harness.ensure_template(addons=harness.ADDONS[: harness.ADDONS.index(ADDON) + 1])
    harness.drop_db(db)
    harness.copy_db(template, db)
    bench.subprocess_run(harness.odoo_cmd(db, "-i", ADDON, "--stop-after-init", "--log-level=warn"))
    return db, True


def build_data(env, n):
    """A Swedish company, N/20 customers and N open invoices with OCR references."""
    started = time.time()
    Company = env["res.company"]
    type(Company).install_l10n_modules = lambda self: False
    se = env.ref("base.se")
    company = Company.create(
        {"name": "Bench Pay AB", "country_id": se.id, "currency_id": se.currency_id.id, "iap_enrich_auto_done": True}
    )
    env.user.company_ids |= company
    env["account.chart.template"].try_loading("se", company=company, install_demo=False)
    env = env(context={"allowed_company_ids": company.ids, "tracking_disable": True})
    partners = env["res.partner"].create([{"name": f"Bench payer {i}"} for i in range(max(1, n // 20))])
    journal = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
    today = date.today()
    template = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": partners[0].id,
            "journal_id": journal.id,
            "invoice_date": today - timedelta(days=40),
            "invoice_date_due": today - timedelta(days=10),
            "invoice_line_ids": [
                Command.create({"name": "Service", "quantity": 1, "price_unit": 1000.0, "tax_ids": [Command.clear()]})
            ],
        }
    )
    template.action_post()
    template.is_move_sent = True
    env.flush_all()
    bench.clone_invoices(env.cr, template, partners.ids, n - 1)
    env.cr.execute("SELECT id FROM account_move WHERE company_id = %s AND move_type = 'out_invoice'", [company.id])
    ids = [row[0] for row in env.cr.fetchall()]
    env.cr.execute(
        "UPDATE account_move m SET payment_reference = v.ref FROM unnest(%s::int[], %s::text[]) v(id, ref) "
        "WHERE m.id = v.id",
        [ids, [str(i) + luhn.calc_check_digit(str(i)) for i in ids]],
    )
    env["ir.config_parameter"].set_param("nordic_bench_pay.invoices", f"{n}/{DATA_VERSION}")
    env["ir.config_parameter"].set_param("nordic_bench_pay.company_id", str(company.id))
    env.cr.commit()
    print(f"setup: {n} invoices in {time.time() - started:.1f} s", flush=True)


def company_env(cr):
    env = api.Environment(cr, SUPERUSER_ID, {})
    company_id = int(env["ir.config_parameter"].get_param("nordic_bench_pay.company_id"))
    env = env(context={"allowed_company_ids": [company_id], "tracking_disable": True})
    company = env["res.company"].browse(company_id)
    bank = env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company_id)], limit=1)
    return env, company, bank


def load_writers():
    """The tests' BgMax writer, loaded from its file (the tests package itself imports Odoo's test tools)."""
    path = harness.ROOT / "addons" / ADDON / "tests" / "writers.py"
    spec = importlib.util.spec_from_file_location("nordic_payment_writers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def payment_file(registry):
    """The BgMax file paying every open invoice of the benchmark company, oldest first."""
    with registry.cursor() as cr:
        env, company, _bank = company_env(cr)
        cr.execute(
            "SELECT payment_reference, amount_residual FROM account_move WHERE company_id = %s "
            "AND move_type = 'out_invoice' AND state = 'posted' ORDER BY id",
            [company.id],
        )
        payments = [{"reference": ref, "amount": amount} for ref, amount in cr.fetchall()]
    return payments, load_writers().bgmax(payments, day=date.today())


def ours(registry, data):
    with registry.cursor() as cr:
        env, _company, bank = company_env(cr)
        env.invalidate_all()
        started = time.perf_counter()
        profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
        if profiler:
            profiler.enable()
        record = env["nordic.payment.import"]._import_file(bank, "bench-bgmax.txt", data)
        env.flush_all()
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
                os.environ.get("BENCH_FILTER", ""), 45
            ) if os.environ.get("BENCH_FILTER") else pstats.Stats(profiler).sort_stats(
                os.environ.get("BENCH_SORT", "cumulative")
            ).print_stats(45)
        cr.commit()
        seconds = time.perf_counter() - started
        paid = env["account.move"].search_count(
            [
                ("company_id", "=", bank.company_id.id),
                ("move_type", "=", "out_invoice"),
                ("payment_state", "!=", "not_paid"),
            ]
        )
        print(
            f"  ours: {record.line_count} lines, {record.matched_count} matched, {paid} invoices paid, {seconds:.2f} s"
        )
    return seconds


def naive(registry, payments):
    with registry.cursor() as cr:
        env, company, bank = company_env(cr)
        env.invalidate_all()
        started = time.perf_counter()
        for payment in payments:
            invoice = env["account.move"].search(
                [
                    ("company_id", "=", company.id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_reference", "=", payment["reference"]),
                    ("payment_state", "in", ("not_paid", "partial")),
                ],
                limit=1,
            )
            env["account.payment.register"].with_context(active_model="account.move", active_ids=invoice.ids).create(
                {"journal_id": bank.id, "amount": float(payment["amount"]), "payment_date": date.today()}
            )._create_payments()
        env.flush_all()
        cr.commit()
        seconds = time.perf_counter() - started
        print(f"  naive: {len(payments)} payments through account.payment.register, {seconds:.2f} s")
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10000)
    parser.add_argument("--naive", type=int, default=500, help="payments timed on the naive path")
    args = parser.parse_args()
    n = args.lines
    db, fresh = ensure_database(n)
    registry = bench.open_env(db)
    if fresh:
        with registry.cursor() as cr:
            build_data(api.Environment(cr, SUPERUSER_ID, {}), n)
    payments, data = payment_file(registry)
    odoo.sql_db.close_db(db)
    harness.psql("VACUUM ANALYZE account_move, account_move_line", db=db)
    registry = bench.scratch(db)
    seconds = ours(registry, data)
    odoo.sql_db.close_db(registry.db_name)
    registry = bench.scratch(db)
    subset = payments[: min(args.naive, n)]
    naive_seconds = naive(registry, subset)
    harness.drop_db(registry.db_name)
    per_s, naive_per_s = n / seconds, len(subset) / naive_seconds
    print(f"naive path timed on the first {len(subset)} payments of the same file and data")
    print(
        f"lines={n} seconds={seconds:.2f} per_s={per_s:.0f} "
        f"naive_per_s={naive_per_s:.1f} ratio={per_s / naive_per_s:.1f}"
    )


if __name__ == "__main__":
    main()
