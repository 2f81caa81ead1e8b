from datetime import date
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.queue_job.tests.common import trap_jobs

from ..models import nordic_dunning_run_sending
from ..tools.system import as_system
from .common import NordicDunningCommon


@tagged("post_install", "-at_install")
class TestSendingJobs(NordicDunningCommon):
    """Confirming writes the events; fees, letters and e-mails are queue_job jobs, chunked, idempotent."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        agreed = {"nordic_fee_agreed": True, "nordic_fee_agreed_date": date(2026, 1, 1)}
        cls.customer.write(agreed)
        cls.customers = cls.customer | cls.env["res.partner"].create(
            [
                {"name": "Patient Bo", "email": "bo@example.com", **agreed},
                {"name": "Patient Cy", "email": "cy@example.com", **agreed},
            ]
        )
        # Ada has two invoices: her letter and e-mail chunks hold both.
        cls.invoices = cls.make_invoice(800.0) | cls.make_invoice(700.0)
        for partner in cls.customers[1:]:
            cls.invoices |= cls.make_invoice(600.0, partner=partner)

    def fee_lines(self):
        return self.env["account.move.line"].search_count(
            [("partner_id", "in", self.customers.ids), ("name", "=like", "Reminder fee%")]
        )

    def mails(self, events):
        """The e-mails queued for ``events``: one per notice (Ada's two invoices go out as one reminder)."""
        return self.env["mail.mail"].search_count(
            [("model", "=", "nordic.dunning.notice"), ("res_id", "in", events.notice_id.ids)]
        )

    def test_confirm_enqueues_chunks_and_jobs_send(self):
        """Confirming books and sends nothing itself: it enqueues fee chunks, then letter and e-mail chunks
        that keep a customer's events together, then the closing job; performed, they book every fee (dated
        the sending day, not the job's), attach the letters, queue the e-mails and mark the run sent."""
        run = self.build_run(date(2026, 4, 10))
        with patch.object(nordic_dunning_run_sending, "SEND_CHUNK", 2), trap_jobs() as trap:
            run._confirm()
            events = run.event_ids
            self.assertEqual(len(events), 4)
            self.assertFalse(events.fee_move_line_id or run.fee_move_ids)
            self.assertFalse(events.letter_attachment_id or events.mail_message_id)
            self.assertFalse(self.mails(events))
            self.assertEqual(run.sending_state, "sending")
            self.assertEqual(run.sending_progress, "Fees 0/4 · Letters 0/4 · E-mails 0/4")
            by_channel = {}
            for job in trap.enqueued_jobs:
                by_channel.setdefault(job.channel, []).append(job)
            self.assertEqual(
                {channel: len(jobs) for channel, jobs in by_channel.items()},
                {
                    "root.nordic_dunning.fees": 2,
                    "root.nordic_dunning.letters": 2,
                    "root.nordic_dunning.mails": 2,
                    "root.nordic_dunning": 1,
                },
            )
            ada = events.filtered(lambda e: e.partner_id == self.customer)
            for channel in ("root.nordic_dunning.letters", "root.nordic_dunning.mails"):
                chunks = [set(job.args[0]) for job in by_channel[channel]]
                self.assertIn(set(ada.ids), chunks, "a customer's events are in one chunk")
            fee_jobs = by_channel["root.nordic_dunning.fees"]
            letter_job = by_channel["root.nordic_dunning.letters"][0]
            self.assertTrue(all(fee_job in letter_job.depends_on for fee_job in fee_jobs), "fees first")
            trap.perform_enqueued_jobs()
        run.invalidate_recordset()
        events.invalidate_recordset()
        self.assertEqual(len(events.fee_move_line_id), 4)
        self.assertEqual(set(events.fee_move_line_id.mapped("date")), {date(2026, 4, 10)})
        self.assertTrue(all(events.mapped("letter_attachment_id")))
        self.assertTrue(all(events.mapped("mail_message_id")))
        self.assertEqual(self.mails(events), 3)
        self.assertEqual((run.sending_state, run.sending_progress), ("sent", "Fees 4/4 · Letters 4/4 · E-mails 4/4"))

    def test_chunk_run_twice_is_a_no_op(self):
        """A chunk performed again (a retried or duplicated job) books no fee and sends no e-mail twice."""
        run = self.build_run(date(2026, 4, 10))
        events = self.confirm(run)
        self.assertEqual((self.fee_lines(), self.mails(events), run.sending_state), (4, 3, "sent"))
        for method in (run._job_fees, run._job_mails):
            self.assertEqual(method(events.ids), "Nothing left to do.")
        self.assertEqual((self.fee_lines(), self.mails(events)), (4, 3))

    def test_failed_chunk_recorded_per_invoice_and_retried(self):
        """A chunk failing halfway (its fee or e-mail already made) is rolled back and leaves one failure
        per invoice and the run failed; a manager's retry finishes the rest and books no fee nor sends any
        e-mail twice."""
        registry_class = type(self.env["nordic.dunning.run"])
        calls = {"_charge_fees": 0, "_send_emails": 0}

        def flaky(name):
            original = getattr(registry_class, name)

            def method(run, *args, **kwargs):
                result = original(run, *args, **kwargs)
                calls[name] += 1
                if calls[name] == 2:
                    raise UserError(run.env._("%s broke halfway", name))
                return result

            return method

        self.patch(registry_class, "_charge_fees", flaky("_charge_fees"))
        self.patch(registry_class, "_send_emails", flaky("_send_emails"))
        run = self.build_run(date(2026, 4, 10))
        with patch.object(nordic_dunning_run_sending, "SEND_CHUNK", 1):
            events = self.confirm(run)
        run.invalidate_recordset()
        self.assertEqual(run.sending_state, "failed")
        failures = run.send_failure_ids
        self.assertEqual(set(failures.mapped("kind")), {"fees", "mails"})
        self.assertEqual(failures.move_id, failures.event_id.move_id, "one failure per invoice of the chunk")
        self.assertTrue(all("broke halfway" in message for message in failures.mapped("message")))
        failed_mails = failures.filtered(lambda f: f.kind == "mails").event_id
        self.assertFalse(failed_mails.mail_message_id, "the failed chunk's e-mails were rolled back")
        self.assertEqual(self.mails(events), len((events - failed_mails).notice_id))
        self.assertLessEqual(self.fee_lines(), 4)

        with self.assertRaises(AccessError):
            run.with_user(
                self.company_user("sender", "nordic_dunning.group_nordic_dunning_user")
            ).action_retry_sending()
        with trap_jobs() as trap:
            run.action_retry_sending()
            self.assertFalse(run.send_failure_ids)
            self.assertEqual(run.sending_state, "sending")
            trap.perform_enqueued_jobs()
        run.invalidate_recordset()
        self.assertEqual(run.sending_state, "sent")
        self.assertEqual((self.fee_lines(), self.mails(events)), (4, 3), "nothing twice")
        self.assertEqual(len(events.fee_move_line_id), 4)
        with self.assertRaises(UserError):
            run.action_retry_sending()

    def test_send_pending_now_performs_the_stored_jobs(self):
        """The product's scripts (no jobrunner) perform a run's stored jobs in-process: everything is sent
        and the jobs are done."""
        run = self.build_run(date(2026, 4, 10))
        run._confirm(letters=False)
        jobs = self.env["queue.job"].sudo().search([("model_name", "=", "nordic.dunning.run"), ("state", "!=", "done")])
        self.assertEqual(set(jobs.mapped("method_name")), {"_job_fees", "_job_mails", "_job_finish_sending"})
        self.assertFalse(run.event_ids.fee_move_line_id)
        run._send_pending_now()
        run.invalidate_recordset()
        self.assertEqual(set(jobs.mapped("state")), {"done"})
        self.assertEqual((run.sending_state, self.fee_lines(), self.mails(run.event_ids)), ("sent", 4, 3))

    def test_run_without_anything_to_send(self):
        """A run whose measures carry no fee and whose documents are switched off has nothing to send."""
        self.customers.write({"nordic_fee_agreed": False})
        run = self.build_run(date(2026, 4, 10))
        with trap_jobs() as trap:
            run._confirm(send=False)
            trap.assert_jobs_count(0)
        self.assertEqual((run.sending_state, run.sending_progress), ("none", ""))

    def test_sending_fields_refused_to_users(self):
        """A Dunning user (over RPC) can neither set a run's sending state or progress nor create, change
        or delete its failures."""
        run = self.build_run(date(2026, 4, 10))
        self.confirm(run)
        user = self.company_user("sender", "nordic_dunning.group_nordic_dunning_user")
        manager = self.company_user("boss", "nordic_dunning.group_nordic_dunning_manager")
        for vals in ({"sending_state": "sent"}, {"send_letters": True}, {"fees_done": 4}, {"send_failure_ids": [(5,)]}):
            for who in (user, manager):
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    run.with_user(who).write(vals)
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.env["nordic.dunning.run"].with_user(user).create(
                {"policy_id": self.policy.id, "sending_state": "sent"}
            )
        Failure = self.env["nordic.dunning.send.failure"]
        vals = {"run_id": run.id, "event_id": run.event_ids[0].id, "kind": "mails", "message": "forged"}
        for who in (user, manager):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                Failure.with_user(who).create(vals)
        failure = Failure.sudo().with_context(nordic_dunning_system=True)
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            failure.create(vals)  # a context value is not the product's marker
        self.assertFalse(run.send_failure_ids)
        recorded = as_system(Failure.sudo()).create(vals).with_env(self.env)
        for who in (user, manager):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                recorded.with_user(who).write({"message": "nothing happened"})
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                recorded.with_user(who).unlink()
        self.assertEqual(recorded.message, "forged")
