"""Letters (and e-mails) per second of a run's notices, on a copy of the benchmark data.

Copies ``nordic_bench_<N>`` (built by ``scripts/bench``: N overdue invoices over N/20 customers) to
``nordic_letters_<N>``, updates the addon there, confirms a run without documents (not timed), then times
``_render_letters`` (many notices per wkhtmltopdf call, split per notice, stored) and ``_send_emails`` (one
``mail.mail`` per notice, its letter attached) on the run's events, and rolls back. ``--per-invoice`` switches the
policy's "One reminder per customer" off and keeps ``--limit`` events, one notice each.
Last line: ``notices=K invoices=I letters_s=X letters_per_s=L mails_s=Y mails_per_s=M``.
"""

import argparse
import cProfile
import pstats
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench
import harness


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoices", type=int, default=10000, help="size of the benchmark data to copy")
    parser.add_argument("--per-invoice", action="store_true", help="one notice per invoice (option off)")
    parser.add_argument("--limit", type=int, default=500, help="notices kept (customers, or invoices when per invoice)")
    parser.add_argument("--profile", action="store_true", help="print where the time of the letters and e-mails goes")
    args = parser.parse_args()
    source, db = f"nordic_bench_{args.invoices}", f"nordic_letters_{args.invoices}"
    if not harness.db_exists(source):
        sys.exit(f"{source} is missing: run scripts/bench --invoices {args.invoices} once")
    if not harness.db_exists(db):
        harness.copy_db(source, db)
    subprocess.run(harness.odoo_cmd(db, "-u", "nordic_dunning", "--stop-after-init", "--log-level=warn"), check=True)
    registry = bench.open_env(db)
    with registry.cursor() as cr:
        env, company = bench.company_env(cr)
        policy = env["nordic.dunning.policy"].search([("company_id", "=", company.id)], limit=1)
        policy.combine_notices = not args.per_invoice
        run = env["nordic.dunning.run"].browse(bench.ours_build(env, company, None))
        run._confirm(send=False)
        events = run.event_ids.filtered("channel_letter")
        if args.per_invoice:
            events = events[: args.limit]
        else:
            customers = set(events.partner_id[: args.limit].ids)
            events = events.filtered(lambda e: e.partner_id.id in customers)
        env.flush_all()
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.runcall(run._render_letters, events)
        else:
            run._render_letters(events)
        env.flush_all()
        letters_s = time.perf_counter() - started
        notices = events.notice_id
        mail_profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if mail_profiler:
            mail_profiler.runcall(run._send_emails, events)
        else:
            run._send_emails(events)
        env.flush_all()
        mails_s = time.perf_counter() - started
        mails = env["mail.mail"].search_count([("model", "=", notices._name), ("res_id", "in", notices.ids)])
        cr.rollback()
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
        pstats.Stats(mail_profiler).sort_stats("cumulative").print_stats(45)
    print(
        f"notices={len(notices)} invoices={len(events)} letters_s={letters_s:.1f} "
        f"letters_per_s={len(notices) / letters_s:.1f} mails_s={mails_s:.1f} mails={mails} "
        f"mails_per_s={mails / mails_s:.1f}"
    )


if __name__ == "__main__":
    main()
