"""Sending a confirmed run in the background: fee booking, letters and e-mails as OCA queue_job jobs."""
# pylint: disable=consider-merging-classes-inherited

from itertools import groupby
from operator import itemgetter

from psycopg2 import OperationalError

from odoo import _, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from odoo.addons.queue_job.delay import chain, group
from odoo.addons.queue_job.job import Job

from ..tools.system import as_system

# Events per job. Letter and e-mail chunks never split a customer's events of the run (a customer with more
# events than this gets a chunk of their own): the combined notice of a customer is made in one chunk.
SEND_CHUNK = 500

# Per kind of work: (what is to do, what shows it done), over the event ``e`` joined to its run ``r``, the
# run's policy ``pol`` and the invoice's customer ``p``. The progress, the chunks' selection and the retry
# all read these, so "done" means the same everywhere.
SEND_KINDS = {
    "fees": (
        "(e.fee_amount + COALESCE(e.compensation_amount, 0) > 0 OR (pol.interest_mode = 'charge' AND "
        "e.interest_amount > 0))",
        "(COALESCE(e.fee_charged, FALSE) OR COALESCE(e.interest_charged, FALSE) OR e.fee_move_line_id IS NOT NULL"
        " OR e.interest_move_line_id IS NOT NULL)",
    ),
    "letters": (
        "(COALESCE(r.send_letters, FALSE) AND COALESCE(e.channel_letter, FALSE))",
        "e.letter_attachment_id IS NOT NULL",
    ),
    "mails": (
        "(COALESCE(r.send_emails, FALSE) AND COALESCE(e.channel_email, FALSE) AND COALESCE(p.email, '') <> '')",
        "e.mail_message_id IS NOT NULL",
    ),
}
SEND_FROM = """
    nordic_dunning_event e
    JOIN nordic_dunning_run_line l ON l.id = e.line_id
    JOIN nordic_dunning_run r ON r.id = l.run_id
    JOIN nordic_dunning_policy pol ON pol.id = r.policy_id
    JOIN account_move m ON m.id = e.move_id
    JOIN res_partner p ON p.id = m.commercial_partner_id
"""


# The run's model is split by concern, one file each (selection, charges, guard, execution, booking,
# communication, sending), to keep every file short.
# pylint: disable=consider-merging-classes-inherited
class NordicDunningRun(models.Model):
    _inherit = "nordic.dunning.run"

    sending_state = fields.Selection(
        [("none", "Nothing to send"), ("sending", "Sending"), ("sent", "Sent"), ("failed", "Failed")],
        default="none",
        required=True,
        readonly=True,
        copy=False,
        tracking=True,
        help="Fees, letters and e-mails of a confirmed run are produced by background jobs: sent once all are "
        "done, failed when a part failed (see the failures; a manager retries).",
    )
    send_letters = fields.Boolean(readonly=True, copy=False, help="The run's letters are rendered.")
    send_emails = fields.Boolean(readonly=True, copy=False, help="The run's e-mails are sent.")
    send_failure_ids = fields.One2many("nordic.dunning.send.failure", "run_id", "Sending failures", readonly=True)
    fees_done = fields.Integer("Fees booked", compute="_compute_sending_progress")
    fees_total = fields.Integer("Fees to book", compute="_compute_sending_progress")
    letters_done = fields.Integer("Letters rendered", compute="_compute_sending_progress")
    letters_total = fields.Integer("Letters to render", compute="_compute_sending_progress")
    mails_done = fields.Integer("E-mails sent", compute="_compute_sending_progress")
    mails_total = fields.Integer("E-mails to send", compute="_compute_sending_progress")
    sending_progress = fields.Char("Progress", compute="_compute_sending_progress")

    def _compute_sending_progress(self):
        progress = self._sending_counts()
        for run in self:
            counts = progress.get(run._origin.id, {})
            parts = []
            for kind, label in (("fees", _("Fees")), ("letters", _("Letters")), ("mails", _("E-mails"))):
                done, total = counts.get(kind, (0, 0))
                run[f"{kind}_done"], run[f"{kind}_total"] = done, total
                if total:
                    parts.append(f"{label} {done}/{total}")
            run.sending_progress = " · ".join(parts)

    def _sending_counts(self):
        """{run id: {kind: (done, total)}}, in one grouped query over the runs' events."""
        run_ids = [run_id for run_id in self._origin.ids if run_id]
        if not run_ids:
            return {}
        self.env.flush_all()
        columns = [
            SQL(
                "COUNT(*) FILTER (WHERE %s AND %s), COUNT(*) FILTER (WHERE %s)",
                SQL(todo),  # constants of this module
                SQL(done),
                SQL(todo),
            )
            for todo, done in SEND_KINDS.values()
        ]
        self.env.cr.execute(
            SQL(
                "SELECT l.run_id, %s FROM %s WHERE l.run_id = ANY(%s) AND e.state = 'done' GROUP BY l.run_id",
                SQL(", ").join(columns),
                SQL(SEND_FROM),
                run_ids,
            )
        )
        return {
            row[0]: {kind: (row[1 + 2 * i], row[2 + 2 * i]) for i, kind in enumerate(SEND_KINDS)}
            for row in self.env.cr.fetchall()
        }

    def _pending_events(self, kind, event_ids=None, lock=False, by_customer=False):
        """[(event id, customer id)] of this run still to do for ``kind`` (of ``event_ids`` only, when given),
        ordered by event or by customer; ``lock`` locks the events (a chunk running twice at once waits, and
        under repeatable read the later one fails and is retried by queue_job, then finds nothing to do)."""
        todo, done = SEND_KINDS[kind]
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT e.id, p.id FROM %s
                    WHERE l.run_id = %s AND e.state = 'done' AND %s AND NOT %s %s
                    ORDER BY %s %s""",
                SQL(SEND_FROM),
                self.id,
                SQL(todo),
                SQL(done),
                SQL("AND e.id = ANY(%s)", list(event_ids)) if event_ids is not None else SQL(""),
                SQL("p.id, e.id") if by_customer else SQL("e.id"),
                SQL("FOR UPDATE OF e") if lock else SQL(""),
            )
        )
        return self.env.cr.fetchall()

    @staticmethod
    def _send_chunks(rows, by_customer=False):
        """Lists of at most SEND_CHUNK event ids; ``by_customer``: a customer's events never split."""
        if not by_customer:
            ids = [row[0] for row in rows]
            return [ids[start : start + SEND_CHUNK] for start in range(0, len(ids), SEND_CHUNK)]
        chunks, chunk = [], []
        for _partner, own in groupby(rows, key=itemgetter(1)):
            own = [row[0] for row in own]
            if chunk and len(chunk) + len(own) > SEND_CHUNK:
                chunks.append(chunk)
                chunk = []
            chunk.extend(own)
        if chunk:
            chunks.append(chunk)
        return chunks

    def _enqueue_sending(self):
        """Enqueue this run's missing work and set its sending state; returns whether anything was enqueued.

        The graph: every fee chunk, then every letter and e-mail chunk, then one job that closes the run's
        sending (``_job_finish_sending``). A letter or e-mail chunk still books its own events' missing fees
        first (``_run_send_chunk``): a fee chunk that failed never lets a letter or e-mail show a fee that was
        not booked, and a retry needs no fee chunk to run first.
        """
        self.ensure_one()
        run = as_system(self)
        labels = dict(self.env["nordic.dunning.send.failure"]._fields["kind"]._description_selection(self.env))
        stages = []
        for kinds in (("fees",), ("letters", "mails")):
            jobs = []
            for kind in kinds:
                by_customer = kind != "fees"
                description = self.env._("%(run)s: %(kind)s", run=run.name, kind=labels[kind])
                for chunk in run._send_chunks(run._pending_events(kind, by_customer=by_customer), by_customer):
                    jobs.append(getattr(run.delayable(description=description), f"_job_{kind}")(chunk))
            if jobs:
                stages.append(group(*jobs))
        if not stages:
            run.sending_state = "sent" if run.sending_state != "none" else "none"
            return False
        run.sending_state = "sending"
        chain(
            *stages, run.delayable(description=self.env._("%s: sending done", run.name))._job_finish_sending()
        ).delay()
        return True

    # ------------------------------------------------------------------
    # Jobs (private: never callable over RPC; queue_job runs them as the confirming user)
    # ------------------------------------------------------------------

    def _job_fees(self, event_ids):
        return as_system(self)._run_send_chunk("fees", event_ids)

    def _job_letters(self, event_ids):
        return as_system(self)._run_send_chunk("letters", event_ids)

    def _job_mails(self, event_ids):
        return as_system(self)._run_send_chunk("mails", event_ids)

    def _run_send_chunk(self, kind, event_ids):
        """One chunk: lock its events still to do and produce ``kind`` for them; idempotent.

        A failure rolls back the chunk's work (savepoint) and is recorded per invoice on the run in the job's
        own transaction, which then commits: the failures and the run's state survive, and the job ends
        with the error as its result. Concurrency errors are raised for queue_job to retry the job.
        """
        self.ensure_one()
        pending = [event_id for event_id, _partner in self._pending_events(kind, event_ids, lock=True)]
        if not pending:
            return _("Nothing left to do.")
        events = self.env["nordic.dunning.event"].browse(pending)
        try:
            with self.env.cr.savepoint():
                self._produce(kind, events)
        except OperationalError:
            raise
        except Exception as err:  # pylint: disable=broad-except
            # Anything else (a rendering, a mail server, a bug) is this chunk's failure, kept per invoice.
            self.env.invalidate_all(flush=False)
            self._record_send_failures(kind, events, str(err) or err.__class__.__name__)
            return _("Failed: %s", err)
        return _("%(count)s event(s) done.", count=len(events))

    def _produce(self, kind, events):
        """Fees, letters or e-mails of ``events``, as of the day each was sent (the event's date)."""
        for day, same_day in groupby(events.sorted(lambda e: (e.date, e.id)), key=lambda e: e.date):
            same_day = events.browse([event.id for event in same_day])
            missing_fees = same_day.browse(
                [event_id for event_id, _partner in self._pending_events("fees", same_day.ids)]
            )
            if missing_fees:
                self._charge_fees(missing_fees, day)
            # The documents are recorded on the audit trail by the product (tools/system).
            if kind == "letters":
                self._render_letters(same_day.sudo())
            elif kind == "mails":
                self._send_emails(same_day.sudo(), with_pdf=self.send_letters)

    def _record_send_failures(self, kind, events, message):
        self.env["nordic.dunning.send.failure"].sudo().create(
            [
                {"run_id": self.id, "event_id": event.id, "move_id": event.move_id.id, "kind": kind, "message": message}
                for event in events
            ]
        )
        self.sending_state = "failed"

    def _job_finish_sending(self):
        """The last job of a sending: the run is sent when nothing is left to do, else failed (what is left
        without a recorded failure gets one)."""
        run = as_system(self)
        failed = set(run.send_failure_ids.event_id.ids)
        for kind in SEND_KINDS:
            left = run.env["nordic.dunning.event"].browse(
                [event_id for event_id, _partner in run._pending_events(kind) if event_id not in failed]
            )
            if left:
                run._record_send_failures(kind, left, _("Not produced by the sending jobs."))
                failed.update(left.ids)
        run.sending_state = "failed" if failed else "sent"
        return run.sending_state

    # ------------------------------------------------------------------
    # Buttons and the product's own callers
    # ------------------------------------------------------------------

    def action_retry_sending(self):
        """A Dunning manager re-enqueues what a failed sending left undone; its failures are cleared."""
        if not self.env.user.has_group("nordic_dunning.group_nordic_dunning_manager"):
            raise AccessError(_("Only a Dunning manager can retry the sending of a run."))
        for run in as_system(self):
            if run.sending_state != "failed":
                raise UserError(_("Run %s has no failed sending to retry.", run.name))
            run.send_failure_ids.sudo().unlink()
            run._enqueue_sending()
        return True

    def _send_pending_now(self):
        """Perform these runs' queued sending jobs in this process, in the graph's order (for the product's
        own scripts: demo data, benchmark, test setup, which have no jobrunner)."""
        order = {"_job_fees": 0, "_job_letters": 1, "_job_mails": 1, "_job_finish_sending": 2}
        for run in self:
            jobs = (
                self.env["queue.job"]
                .sudo()
                .search(
                    [
                        ("model_name", "=", self._name),
                        ("method_name", "in", list(order)),
                        ("state", "in", ("wait_dependencies", "pending", "enqueued")),
                        ("func_string", "=like", f"{self._name}({run.id},).%"),
                    ]
                )
            )
            for record in jobs.sorted(lambda j: (order[j.method_name], j.id)):
                job = Job.load(self.env, record.uuid)
                job.perform()
                job.set_done()
                job.store()
