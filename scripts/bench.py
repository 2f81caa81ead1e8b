"""Time our dunning run against OCA ``account_credit_control`` on the same overdue invoices.

Builds (once per N) a database ``nordic_bench_<N>`` from the template with ``account_credit_control``
and ``nordic_dunning`` installed, a Swedish company and N posted, sent, overdue customer invoices over
N/20 customers. The invoices are cloned from one invoice posted through the ORM with plain SQL (the ORM
posts about 29 invoices/s here; the setup is not what is measured).

Each round works on a fresh copy of that database (``createdb -T``, not timed) and times, in this one
process, side by side:
(a) ours, as in production: the run is built in one transaction (the daily cron, which commits) and
    confirmed in another (the reviewer's button or the scheduled confirmation), mail sending switched
    off and letters not rendered (``_confirm(send=False)``), its fee jobs performed in the same process
    (``_send_pending_now``);
(b) OCA: a credit-control run with three equivalent levels generating its credit-control lines, in one
    transaction.
One untimed round runs first (rolled back), as a long-running server has already loaded its code and
caches; then ``--repeat`` timed rounds, of which the median is reported.
The last line printed is ``invoices=N ours_s=X oca_s=Y ratio=Y/X ours_queries_per_invoice=Q``.

``--full`` runs the end-to-end comparison of ``bench_full.py`` instead (fees, letters, e-mails).
"""

import argparse
import cProfile
import os
import pstats
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, os.environ.get("ODOO_PATH", "/opt/odoo"))

import harness

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry

EXTRA = ["account_credit_control"]
# Bumped when the addon's data model changes in a way the reused benchmark data must follow.
DATA_VERSION = 3


def ensure_database(n, per_customer=20):
    db = f"nordic_bench_{n}" if per_customer == 20 else f"nordic_bench_{n}_per{per_customer}"
    if (
        harness.db_exists(db)
        and harness.psql("SELECT value FROM ir_config_parameter WHERE key = 'nordic_bench.invoices'", db=db)
        == f"{n}/{DATA_VERSION}"
    ):
        # Reuse the data, but run the addon's current code.
        subprocess_run(harness.odoo_cmd(db, "-u", "nordic_dunning", "--stop-after-init", "--log-level=warn"))
        return db, False
    template = harness.ensure_template(EXTRA)
    if harness.db_exists(db):
        harness.drop_db(db)
    harness.copy_db(template, db)
    subprocess_run(harness.odoo_cmd(db, "-i", harness.ADDON, "--stop-after-init", "--log-level=warn"))
    return db, True


def subprocess_run(cmd):
    subprocess.run(cmd, check=True)


_configured = []


def open_env(db):
    if not _configured:  # Odoo's configuration is parsed once per process
        configure(db)
        _configured.append(db)
    return Registry(db)


def configure(db):
    odoo.tools.config.parse_config(
        [
            f"--addons-path={os.environ['ADDONS_PATH']}",
            f"--db_host={harness.pg_env()['PGHOST']}",
            f"--db_port={harness.pg_env()['PGPORT']}",
            "-d",
            db,
            "--log-level=warn",
        ]
        + ([f"--db_user={os.environ['PGUSER']}"] if os.environ.get("PGUSER") else [])
    )


def build_data(env, n, per_customer=20):
    """A Swedish company, its policy, N/``per_customer`` customers and N overdue invoices (cloned by SQL)."""
    started = time.time()
    Company = env["res.company"]
    type(Company).install_l10n_modules = lambda self: False  # only the localisations of the template
    se = env.ref("base.se")
    company = Company.create(
        {"name": "Bench AB", "country_id": se.id, "currency_id": se.currency_id.id, "iap_enrich_auto_done": True}
    )
    env.user.company_ids |= company
    env["account.chart.template"].try_loading("se", company=company, install_demo=False)
    env = env(context={"allowed_company_ids": company.ids, "tracking_disable": True})
    company = company.with_env(env)
    # The anomaly guard would rightly hold a first run of this size: the benchmark measures the engine.
    company.write(
        {
            "nordic_anomaly_max_lines": 0,
            "nordic_anomaly_median_factor": 0,
            "nordic_anomaly_first_share": 0,
            "nordic_anomaly_amount_factor": 0,
        }
    )
    policy = env["nordic.dunning.policy"].search([("company_id", "=", company.id)], limit=1) or env[
        "nordic.dunning.policy"
    ]._create_from_profile(company, "SE")
    partners = env["res.partner"].create(
        [{"name": f"Bench customer {i}", "email": f"c{i}@example.com"} for i in range(max(1, n // per_customer))]
    )
    today = date.today()
    journal = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
    template = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": partners[0].id,
            "journal_id": journal.id,
            "invoice_date": today - timedelta(days=70),
            "invoice_date_due": today - timedelta(days=40),
            "invoice_line_ids": [
                Command.create({"name": "Service", "quantity": 1, "price_unit": 1000.0, "tax_ids": [Command.clear()]})
            ],
        }
    )
    template.action_post()
    template.is_move_sent = True
    env.flush_all()
    cr = env.cr
    clone_invoices(cr, template, partners.ids, n - 1)
    # Schedule level 1 for every invoice (the engine's own date arithmetic, once per distinct due date).
    level = policy._get_first_level()
    cr.execute(
        "SELECT id, invoice_date_due FROM account_move WHERE company_id = %s AND move_type = 'out_invoice'",
        [company.id],
    )
    dates = {}
    rows = []
    for move_id, due in cr.fetchall():
        if due not in dates:
            dates[due] = level._compute_date(due)
        rows.append((move_id, policy.id, level.id, dates[due]))
    env["account.move"]._nordic_write_schedule(rows)
    # OCA credit control with equivalent levels (7 days after due, then 7 and 5 days later).
    receivable = template.line_ids.filtered(lambda line: line.display_type == "payment_term").account_id
    mail = env.ref("account_credit_control.email_template_credit_control_base").id
    oca_policy = env["credit.control.policy"].create(
        {
            "name": "Bench",
            "company_id": company.id,
            "account_ids": [Command.set(receivable.ids)],
            "level_ids": [
                Command.create(
                    {
                        "name": "Reminder 1",
                        "level": 1,
                        "computation_mode": "net_days",
                        "delay_days": 7,
                        "channel": "email",
                        "custom_text": "Reminder",
                        "custom_mail_text": "<p>Reminder</p>",
                        "email_template_id": mail,
                    }
                ),
                Command.create(
                    {
                        "name": "Reminder 2",
                        "level": 2,
                        "computation_mode": "previous_date",
                        "delay_days": 7,
                        "channel": "email",
                        "custom_text": "Reminder",
                        "custom_mail_text": "<p>Reminder</p>",
                        "email_template_id": mail,
                    }
                ),
                Command.create(
                    {
                        "name": "Hand-over",
                        "level": 3,
                        "computation_mode": "previous_date",
                        "delay_days": 5,
                        "channel": "letter",
                        "custom_text": "Hand-over",
                        "custom_mail_text": "<p>Hand-over</p>",
                        "email_template_id": mail,
                    }
                ),
            ],
        }
    )
    company.credit_policy_id = oca_policy
    env["ir.config_parameter"].set_param("nordic_bench.invoices", f"{n}/{DATA_VERSION}")
    env["ir.config_parameter"].set_param("nordic_bench.company_id", str(company.id))
    env.cr.commit()
    print(f"setup: {n} invoices in {time.time() - started:.1f} s", flush=True)


def clone_invoices(cr, template, partner_ids, count):
    """Insert ``count`` copies of a posted invoice and its lines with SQL, varying partner and due date."""
    if count <= 0:
        return

    def columns(table):
        cr.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name != 'id'", [table]
        )
        return [c for (c,) in cr.fetchall()]

    move_cols = columns("account_move")
    line_cols = columns("account_move_line")
    overrides = {
        "name": "'BENCH/' || lpad(g::text, 7, '0')",
        "sequence_prefix": "'BENCH/'",
        "sequence_number": "g",
        "partner_id": "(%(partners)s::int[])[1 + g %% %(n_partners)s]",
        "commercial_partner_id": "(%(partners)s::int[])[1 + g %% %(n_partners)s]",
        "invoice_date_due": "invoice_date_due - (g %% 30)",
        "payment_reference": "'BENCH' || g",
        "inalterable_hash": "NULL",
        "secure_sequence_number": "NULL",
        "nordic_dunning_status_id": "NULL",  # each clone gets its own status below
    }
    select = ", ".join(f"{overrides[c]} AS {c}" if c in overrides else c for c in move_cols)
    cr.execute("CREATE TEMP TABLE bench_clone (g int, move_id int) ON COMMIT DROP")
    for start in range(1, count + 1, 20000):
        stop = min(count, start + 19999)
        cr.execute(
            f"""WITH ins AS (
                    INSERT INTO account_move ({", ".join(move_cols)})
                    SELECT {select} FROM account_move, generate_series(%(start)s, %(stop)s) g WHERE id = %(tid)s
                    RETURNING id, sequence_number)
                INSERT INTO bench_clone SELECT sequence_number, id FROM ins""",
            {"start": start, "stop": stop, "tid": template.id, "partners": partner_ids, "n_partners": len(partner_ids)},
        )
    line_overrides = {
        "move_id": "c.move_id",
        "partner_id": "m.partner_id",
        "date_maturity": "CASE WHEN l.date_maturity IS NULL THEN NULL ELSE m.invoice_date_due END",
        "move_name": "m.name",
    }
    line_select = ", ".join(line_overrides.get(c, f"l.{c}") + f" AS {c}" for c in line_cols)
    cr.execute(
        f"""INSERT INTO account_move_line ({", ".join(line_cols)})
            SELECT {line_select} FROM bench_clone c
              JOIN account_move m ON m.id = c.move_id
              JOIN account_move_line l ON l.move_id = %s""",
        [template.id],
    )
    cr.execute("ANALYZE account_move; ANALYZE account_move_line")


def vacuum(db):
    """Each timed run is rolled back: its dead rows would slow the next one down. Start both from clean tables."""
    tables = [
        "account_move",
        "account_move_line",
        "nordic_dunning_status",
        "nordic_dunning_run",
        "nordic_dunning_run_line",
        "nordic_dunning_event",
        "credit_control_run",
        "credit_control_line",
    ]
    harness.psql(f"VACUUM ANALYZE {', '.join(tables)}", db=db)


def company_env(cr, fees=False):
    env = api.Environment(cr, SUPERUSER_ID, {})
    company_id = int(env["ir.config_parameter"].get_param("nordic_bench.company_id"))
    env = env(context={"allowed_company_ids": [company_id], "tracking_disable": True})
    if fees:
        agree_to_fees(env, company_id)
    return env, env["res.company"].browse(company_id)


def timed(registry, label, steps, fees=False, commit=False):
    """Run ``steps`` (functions of (env, company, previous result)), each in its own transaction.

    Committed when ``commit`` (the caller works on a scratch copy), rolled back otherwise.
    """
    vacuum(registry.db_name)
    result = None
    seconds = 0.0
    queries = 0
    for step in steps:
        with registry.cursor() as cr:
            env, company = company_env(cr, fees)
            env.invalidate_all()
            before = odoo.sql_db.sql_counter
            started = time.perf_counter()
            result = step(env, company, result)
            env.flush_all()
            if commit:
                cr.commit()
            seconds += time.perf_counter() - started
            queries += odoo.sql_db.sql_counter - before
            if not commit:
                cr.rollback()
    print(f"{label}: {seconds:.2f} s, {queries} queries, {describe(registry, result)}", flush=True)
    return seconds, queries


def describe(registry, result):
    with registry.cursor() as cr:
        env, _company = company_env(cr)
        return result(env) if callable(result) else result


def agree_to_fees(env, company_id):
    """Every customer agreed to reminder fees before its invoices: each first reminder books a 60 kr fee."""
    env.cr.execute(
        """UPDATE res_partner SET nordic_fee_agreed = TRUE, nordic_fee_agreed_date = '2000-01-01'
            WHERE id IN (SELECT commercial_partner_id FROM account_move WHERE company_id = %s)""",
        [company_id],
    )


def ours_build(env, company, _previous):
    """The daily cron's part: one run per policy, committed for review."""
    policy = env["nordic.dunning.policy"].search([("company_id", "=", company.id)], limit=1)
    return env["nordic.dunning.run"]._build_for_policies(policy, date.today()).ids


def ours_confirm(env, company, run_ids):
    """The reviewer's part: confirm the run (events, next levels) and book its fees (the fee jobs, performed
    in-process), nothing sent."""
    runs = env["nordic.dunning.run"].browse(run_ids)
    runs._confirm(send=False)
    runs._send_pending_now()
    return lambda env: f"{env['nordic.dunning.event'].search_count([('run_id', 'in', run_ids)])} events"


def ours_single(env, company, _previous):
    """Build and confirm in one transaction (the warm-up round, which is rolled back)."""
    return ours_confirm(env, company, ours_build(env, company, None))


def oca(env, company, _previous):
    run = env["credit.control.run"].create(
        {"date": date.today(), "company_id": company.id, "policy_ids": [Command.set(company.credit_policy_id.ids)]}
    )
    run.generate_credit_lines()
    return f"{len(run.line_ids)} credit-control lines"


def scratch(db):
    """A fresh copy of the benchmark database (the timed run of ours commits) and its registry."""
    copy = f"{db}_run"
    odoo.sql_db.close_db(copy)
    harness.copy_db(db, copy)
    return open_env(copy)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3, help="timed rounds (the median is reported)")
    parser.add_argument("--profile", action="store_true", help="only print a cProfile of our run (no ratio)")
    parser.add_argument(
        "--fees", action="store_true", help="also time our run with every customer agreed to reminder fees"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="end to end with fees, letters and e-mails, N/5 customers (see scripts/bench_full.py)",
    )
    parser.add_argument(
        "--oca-sample",
        type=int,
        default=0,
        help="with --full: run OCA's communication step on this many customers only and extrapolate",
    )
    args = parser.parse_args()
    if args.full:
        import bench_full  # noqa: PLC0415 (imports this module)

        bench_full.full(args)
        return
    n = args.invoices
    db, fresh = ensure_database(n)
    registry = open_env(db)
    if fresh:
        with registry.cursor() as cr:
            build_data(api.Environment(cr, SUPERUSER_ID, {}), n)
    odoo.sql_db.close_db(db)
    registry = scratch(db)
    print("warm-up round (not timed, rolled back)", flush=True)
    timed(registry, "  ours, warm-up (rolled back, so 0 events remain)", [ours_single])
    if args.profile:
        # Only ours, profiled (sorted by BENCH_SORT, default cumulative): no figures for the ratio.
        profiler = cProfile.Profile()
        profiler.runcall(timed, registry, "ours (profiled)", [ours_build, ours_confirm], fees=args.fees, commit=True)
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            int(os.environ.get("BENCH_LINES", 35))
        )
        return
    timed(registry, "  OCA, warm-up", [oca])
    if args.fees:
        timed(
            registry,
            "ours with a fee on every reminder (build + confirm + fee entries)",
            [ours_build, ours_confirm],
            fees=True,
            commit=True,
        )
        registry = scratch(db)
    ours_times, oca_times, ours_queries = [], [], []
    for number in range(1, args.repeat + 1):
        if number > 1:
            registry = scratch(db)
        ours_s, ours_q = timed(
            registry, f"round {number}: ours (build, commit; confirm, commit)", [ours_build, ours_confirm], commit=True
        )
        oca_s, _oca_q = timed(registry, f"round {number}: OCA account_credit_control (generate lines)", [oca])
        ours_times.append(ours_s)
        oca_times.append(oca_s)
        ours_queries.append(ours_q)
    ours_s, oca_s = statistics.median(ours_times), statistics.median(oca_times)
    print(
        f"invoices={n} ours_s={ours_s:.2f} oca_s={oca_s:.2f} ratio={oca_s / ours_s:.1f} "
        f"ours_queries_per_invoice={max(ours_queries) / n:.4f}"
    )


if __name__ == "__main__":
    main()
