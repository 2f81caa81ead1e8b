"""``scripts/bench --full``: end to end, ours against OCA ``account_credit_control``, on the same data.

N posted, sent, overdue invoices over N/5 customers, every customer agreed to reminder fees (a 60 kr fee
on every first reminder, whose level sends a letter and an e-mail). Each side works on its own fresh copy
of the benchmark database and commits, as in production:

ours  build the run (the daily cron), confirm it (the reviewer's request), then perform what the
      confirmation left to the queue_job jobs (:func:`ours_perform_jobs`): fees booked, letters rendered (PDF),
      e-mails queued in ``mail.mail``;
OCA   generate the credit-control lines, mark them to be sent, its e-mail step
      (``credit.control.emailer``: one communication per customer and level, its template rendered and
      queued with the summary PDF attached) and its letter step (``credit.control.printer``: the
      communications' summary report rendered as PDF, in batches of ``OCA_PRINT_BATCH``).

No web server answers on the report URL in this process: our letters carry their styles inline and fetch
nothing; OCA's summary report tries to fetch its assets and renders without them.
The last line is ``invoices=N ours_s=X oca_s=Y ratio=Y/X letters_per_s=L fees_per_s=F``.
"""

import time
from contextlib import contextmanager
from datetime import date

import bench

import odoo
from odoo import Command

PER_CUSTOMER = 5
# Communications per PDF rendering of OCA's letter step: one, as its e-mail step renders them (for several
# in one call, wkhtmltopdf exited with code 1 on this report here, without a web server for its assets).
OCA_PRINT_BATCH = 1


@contextmanager
def clocked(model_class, method, totals):
    """Time every call of one of our run's private methods (``totals[method]`` += seconds) while inside."""
    original = getattr(model_class, method)

    def timed(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            totals[method] = totals.get(method, 0.0) + time.perf_counter() - started

    setattr(model_class, method, timed)
    try:
        yield totals
    finally:
        setattr(model_class, method, original)


def ours_confirm(env, company, run_ids):
    """The reviewer's request: confirm with everything it sends (as over RPC)."""
    env["nordic.dunning.run"].browse(run_ids)._confirm()
    return run_ids


def ours_perform_jobs(env, company, run_ids):
    """What the confirmation left to the background jobs (fees booked, letters rendered, e-mails queued),
    performed in this process in the jobs' order, as one worker would."""
    env["nordic.dunning.run"].browse(run_ids)._send_pending_now()
    return run_ids


def describe_ours(env, run_ids):
    events = env["nordic.dunning.event"].search([("run_id", "in", run_ids)])
    runs = env["nordic.dunning.run"].browse(run_ids)
    fees = len(events.filtered("fee_move_line_id"))
    letters = len(events.filtered("letter_attachment_id"))
    mails = env["mail.mail"].search_count([("mail_message_id", "in", events.mail_message_id.ids)])
    return {"events": len(events), "fees": fees, "letters": letters, "mails": mails, "entries": len(runs.fee_move_ids)}


def oca_generate(env, company, _previous):
    run = env["credit.control.run"].create(
        {"date": date.today(), "company_id": company.id, "policy_ids": [Command.set(company.credit_policy_id.ids)]}
    )
    run.generate_credit_lines()
    return run.line_ids.ids


def oca_communicate(sample):
    """OCA's communication step on the lines (or on the lines of the first ``sample`` customers)."""

    def step(env, company, line_ids):
        env = env(context=dict(env.context, mail_notify_force_send=False))
        lines = env["credit.control.line"].browse(line_ids)
        if sample:
            partners = lines.partner_id.sorted("id")[:sample]
            lines = lines.filtered(lambda line: line.partner_id in partners)
        lines.write({"state": "to_be_sent"})
        emailer = env["credit.control.emailer"].create({"line_ids": [Command.set(lines.ids)]})
        comms = emailer._send_emails()
        printer = env["credit.control.printer"].create({"line_ids": [Command.set(lines.ids)], "mark_as_sent": False})
        printed = env["credit.control.communication"]._generate_comm_from_credit_lines(
            printer._get_lines(printer.line_ids, printer._credit_line_predicate)
        )
        report = "account_credit_control.report_credit_control_summary"
        for start in range(0, len(printed), OCA_PRINT_BATCH):
            env["ir.actions.report"]._render_qweb_pdf(report, printed[start : start + OCA_PRINT_BATCH].ids)
        env.flush_all()
        mails = env["mail.mail"].search_count(
            [("model", "=", "credit.control.communication"), ("res_id", "in", comms.ids)]
        )
        return {"lines": len(lines), "communications": len(comms), "letters": len(printed), "mails": mails}

    return step


def run_steps(registry, steps):
    """Each step in its own committed transaction; (seconds per step, last result)."""
    bench.vacuum(registry.db_name)
    times, result = [], None
    for step in steps:
        with registry.cursor() as cr:
            env, company = bench.company_env(cr, fees=True)
            started = time.perf_counter()
            result = step(env, company, result)
            env.flush_all()
            cr.commit()
            times.append(time.perf_counter() - started)
    return times, result


def oca_side(registry, line_ids, sample):
    """OCA's communication step; extrapolated to every line from the first ``sample`` customers' when given."""
    times, result = run_steps(registry, [lambda env, company, _previous: line_ids, oca_communicate(sample)])
    seconds = times[1]
    if sample:
        measured = seconds
        seconds = measured * len(line_ids) / result["lines"]
        print(
            f"OCA: communication step measured on {sample} customers ({result}) in {measured:.2f} s, "
            f"extrapolated to {len(line_ids)} lines: {seconds:.1f} s",
            flush=True,
        )
    else:
        print(f"OCA: communication step {seconds:.2f} s ({result})", flush=True)
    return seconds


def full(args):
    n = args.invoices
    db, fresh = bench.ensure_database(n, PER_CUSTOMER)
    registry = bench.open_env(db)
    if fresh:
        with registry.cursor() as cr:
            bench.build_data(odoo.api.Environment(cr, odoo.SUPERUSER_ID, {}), n, PER_CUSTOMER)
    odoo.sql_db.close_db(db)
    registry = bench.scratch(db)
    print("warm-up round (not timed, rolled back)", flush=True)
    bench.timed(registry, "  ours, warm-up with fees (sending off)", [bench.ours_single], fees=True)

    run_class = registry["nordic.dunning.run"]
    totals = {}
    with clocked(run_class, "_charge_fees", totals), clocked(run_class, "_render_letters", totals):
        (build_s, confirm_s, jobs_s), run_ids = run_steps(registry, [bench.ours_build, ours_confirm, ours_perform_jobs])
    with registry.cursor() as cr:
        env, _company = bench.company_env(cr)
        ours = describe_ours(env, run_ids)
    ours_s = build_s + confirm_s + jobs_s
    fee_s, letter_s = totals.get("_charge_fees", 0.0), totals.get("_render_letters", 0.0)
    print(f"ours: build {build_s:.2f} s; {ours}", flush=True)
    print(f"ours: confirm request {confirm_s:.2f} s (fee booking {fee_s:.2f} s, letters {letter_s:.2f} s)", flush=True)
    print(f"ours: jobs after the confirm request {jobs_s:.2f} s", flush=True)

    registry = bench.scratch(db)
    (generate_s,), line_ids = run_steps(registry, [oca_generate])
    print(f"OCA: generate lines {generate_s:.2f} s ({len(line_ids)} lines)", flush=True)
    sample = args.oca_sample if 0 < args.oca_sample < n // PER_CUSTOMER else 0
    oca_s = generate_s + oca_side(registry, line_ids, sample)
    letters_per_s = ours["letters"] / letter_s if letter_s else 0.0
    fees_per_s = ours["fees"] / fee_s if fee_s else 0.0
    print(
        f"invoices={n} ours_s={ours_s:.2f} oca_s={oca_s:.2f} ratio={oca_s / ours_s:.1f} "
        f"letters_per_s={letters_per_s:.0f} fees_per_s={fees_per_s:.0f}"
    )
