from datetime import date

from psycopg2 import IntegrityError

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.nordic_dunning.tools.system import as_system

from .common import NordicDunningCommon


@tagged("post_install", "-at_install")
class TestDunningStatus(NordicDunningCommon):
    """The invoice's dunning status lives in its own narrow table and follows the invoice's life."""

    def _pay(self, invoice, amount=None):
        wizard = self.env["account.payment.register"].with_context(active_model="account.move", active_ids=invoice.ids)
        return wizard.create({"amount": amount or invoice.amount_residual})._create_payments()

    def test_status_follows_payment_and_unreconcile(self):
        """Posting creates the status; paying closes it (no run looks at it), removing the payment reopens
        it with its next date intact, so dunning resumes where it stood."""
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        status = invoice.nordic_dunning_status_id
        self.assertTrue(status.is_open)
        self.assertEqual((status.move_id, status.next_date), (invoice, date(2026, 4, 10)))

        payment = self._pay(invoice)
        self.assertFalse(status.is_open, "a paid invoice leaves the runs' index")
        self.assertFalse(self.build_run(date(2026, 4, 10)))

        payment.move_id.line_ids.remove_move_reconcile()
        self.assertTrue(status.is_open)
        self.assertEqual(invoice.nordic_next_dunning_date, date(2026, 4, 10))
        run = self.build_run(date(2026, 4, 10))
        self.assertEqual(run.line_ids.move_id, invoice)

    def test_invoice_fields_search_and_group(self):
        """The invoice's dunning fields read through the status stay searchable, sortable and groupable,
        as the invoice filters and the list's grouping by level need."""
        dunned = self.make_invoice(1000.0, due=date(2026, 4, 1))
        waiting = self.make_invoice(500.0, due=date(2026, 4, 8))
        self.confirm(self.build_run(date(2026, 4, 10)))
        Move = self.env["account.move"]
        self.assertEqual(Move.search([("nordic_dunning_state", "=", "in_dunning")]), dunned)
        self.assertIn(waiting, Move.search([("nordic_dunning_state", "=", "none")]))
        self.assertEqual(
            (dunned.nordic_next_dunning_date, waiting.nordic_next_dunning_date), (date(2026, 4, 17), date(2026, 4, 15))
        )
        ordered = Move.search([("id", "in", (dunned | waiting).ids)], order="nordic_next_dunning_date desc")
        self.assertEqual(ordered.ids, [dunned.id, waiting.id])
        groups = dict(
            Move._read_group([("id", "in", (dunned | waiting).ids)], ["nordic_dunning_level_id"], ["__count"])
        )
        self.assertEqual(groups, {self.levels[0]: 1, self.env["nordic.dunning.level"]: 1})

    def test_line_event_and_one_line_per_invoice(self):
        """A done line shows the event it became, and the event reads its run and level through the line
        (searchable and groupable); a proposed line of a confirmed run is done (nothing rewrites the lines),
        also for searches; a confirmed run cannot be deleted; an invoice cannot be proposed twice in one run."""
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        run = self.build_run(date(2026, 4, 10))
        line = run.line_ids
        Line = self.env["nordic.dunning.run.line"].with_context(active_test=False)
        self.assertFalse(line.event_id)
        self.assertEqual(Line.search([("run_id", "=", run.id), ("state", "=", "proposed")]), line)
        events = self.confirm(run)
        self.assertEqual((line.state, line.decision, line.event_id), ("done", "proposed", events))
        self.assertEqual((events.line_id, events.run_id, events.level_id), (line, run, line.level_id))
        self.assertEqual(run.event_ids, events)
        Event = self.env["nordic.dunning.event"]
        self.assertEqual(Event.search([("run_id", "=", run.id)]), events)
        self.assertEqual(
            dict(Event._read_group([("id", "in", events.ids)], ["level_id"], ["__count"])), {line.level_id: 1}
        )
        with self.assertRaisesRegex(UserError, "audit trail"):
            run.unlink()
        self.assertEqual(Line.search([("run_id", "=", run.id), ("state", "in", ["done", "skipped"])]), line)
        self.assertFalse(Line.search([("run_id", "=", run.id), ("state", "=", "proposed")]))
        self.assertFalse(Line.search([("run_id", "=", run.id), ("state", "!=", "done")]))
        self.assertEqual(run.line_count, 1)
        self.assertEqual(events.user_id, self.env.user)
        self.assertEqual(events.confirm_date, run.confirm_date)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            as_system(self.env["nordic.dunning.run.line"]).sudo().create(
                {"run_id": run.id, "move_id": invoice.id, "level_id": line.level_id.id}
            )

    def test_event_reads_customer_and_company_through_invoice(self):
        """An event's customer and company are its invoice's, searchable like stored fields (the company
        rule and the events list filter on them), and a dunned invoice cannot go back to draft to change
        them; once its measures are cancelled it can. The cancelled run's line stays executed and
        unchangeable, and the run cannot be deleted."""
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        event = self.confirm(self.build_run(date(2026, 4, 10)))
        self.assertEqual((event.partner_id, event.company_id), (invoice.commercial_partner_id, invoice.company_id))
        Event = self.env["nordic.dunning.event"]
        self.assertEqual(Event.search([("partner_id", "=", invoice.partner_id.id)]), event)
        self.assertEqual(Event.search([("company_id", "=", invoice.company_id.id), ("id", "=", event.id)]), event)
        with self.assertRaisesRegex(UserError, "credit note"):
            invoice.button_draft()
        self.assertEqual(invoice.state, "posted")
        self.env["nordic.dunning.cancel"].with_context(
            active_model="nordic.dunning.event", active_ids=event.ids
        ).create({"reason": "Wrong customer on the invoice"}).action_cancel()
        run, line = event.run_id, event.line_id
        self.assertEqual((run.state, line.state), ("cancelled", "done"), "the line was executed all the same")
        with self.assertRaisesRegex(UserError, "audit trail"):
            run.unlink()
        with self.assertRaisesRegex(UserError, "cannot be changed"):
            line.level_id = self.levels[1]
        invoice.button_draft()
        self.assertEqual(invoice.state, "draft")

    def test_schedule_same_invoice_twice_in_one_batch(self):
        """Scheduling rows that name one invoice twice (two disputes rejected at once) keeps the last row."""
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        rows = [
            (invoice.id, self.policy.id, self.levels[0].id, date(2026, 5, 4)),
            (invoice.id, self.policy.id, self.levels[1].id, date(2026, 5, 11)),
        ]
        self.env["account.move"]._nordic_write_schedule(rows)
        self.assertEqual(
            (invoice.nordic_dunning_next_level_id, invoice.nordic_next_dunning_date),
            (self.levels[1], date(2026, 5, 11)),
        )
