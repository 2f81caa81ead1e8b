from datetime import date

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..tools.calendar import level_deadline
from .common import NordicDunningCommon


@tagged("post_install", "-at_install")
class TestDispute(NordicDunningCommon):
    """Seed 004: dunning pauses for the disputed part only; a dispute is resolved in writing, both ways."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.write({"nordic_fee_agreed": True, "nordic_fee_agreed_date": date(2026, 1, 1)})

    def _dispute(self, invoice, amount=None, **vals):
        return self.env["nordic.dunning.dispute"].create(
            {
                "move_id": invoice.id,
                "scope": "partial" if amount else "whole",
                "amount": amount or 0.0,
                "reason": "Treatment not given",
                "customer_statement": "I cancelled the second visit.",
                **vals,
            }
        )

    def test_partial_dispute_arithmetic(self):
        """A partial dispute keeps the undisputed remainder in dunning: open amount and interest on it only."""
        disputed = self.make_invoice(1000.0, due=date(2026, 2, 2))
        twin = self.make_invoice(600.0, due=date(2026, 2, 2))
        self._dispute(disputed, 400.0)
        self.assertEqual((disputed.nordic_disputed_amount, disputed.nordic_dispute_open), (400.0, True))
        run = self.build_run(date(2026, 3, 31))
        lines = {line.move_id: line for line in run.line_ids}
        self.assertEqual(lines[disputed].amount_residual, 600.0)
        self.assertEqual(lines[disputed].fee_amount, 60.0)
        self.assertGreater(lines[twin].interest_amount, 0.0)
        self.assertEqual(lines[disputed].interest_amount, lines[twin].interest_amount, "interest on the remainder only")
        events = self.confirm(run)
        event = events.filtered(lambda e: e.move_id == disputed)
        self.assertEqual((event.amount_residual, event.amount_total), (600.0, 600.0 + 60.0 + event.interest_amount))

    def test_whole_dispute_leaves_runs(self):
        """A whole dispute removes the invoice from runs, and tells a collection case what is disputed."""
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        self._dispute(invoice)
        self.assertEqual(invoice.nordic_disputed_amount, 1000.0)
        self.assertFalse(self.build_run(date(2026, 4, 10)))
        disputed, text = invoice._nordic_dispute_info()
        self.assertTrue(disputed)
        self.assertIn("Treatment not given", text)
        self.assertIn("I cancelled the second visit.", text)
        self.assertEqual(self.make_invoice(10.0)._nordic_dispute_info(), (False, ""))

    def test_accepted_in_part_proposes_credit_note(self):
        """Accepting 300 of a 400 dispute proposes a 300 draft credit note; the rest is dunned again."""
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        dispute = self._dispute(invoice, 400.0, accepted_amount=300.0)
        with self.assertRaisesRegex(UserError, "resolution"):
            dispute.action_accept()
        dispute.resolution = "The second visit is credited; the material remains due."
        dispute.action_accept()
        credit_note = dispute.credit_note_id
        self.assertEqual((dispute.state, credit_note.move_type, credit_note.state), ("accepted", "out_refund", "draft"))
        self.assertEqual(credit_note.amount_total, 300.0)
        self.assertEqual(credit_note.reversed_entry_id, invoice)
        self.assertEqual(invoice.nordic_disputed_amount, 300.0, "not dunned until the credit note is set against it")
        self.assertEqual(self.build_run(date(2026, 4, 10)).line_ids.amount_residual, 700.0)

        credit_note.action_post()  # Odoo sets a reversal against its invoice when posting it
        self.assertEqual((invoice.amount_residual, invoice.nordic_disputed_amount), (700.0, 0.0))

    def test_rejected_dispute_resumes_with_fresh_deadline(self):
        """A rejected dispute puts the invoice back into dunning today, with a new deadline in the next letter."""
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        dispute = self._dispute(invoice)
        dispute.resolution = "The treatment was given on 12 March, see the journal."
        dispute.action_reject()
        today = fields.Date.today()
        self.assertEqual((dispute.state, invoice.nordic_disputed_amount), ("rejected", 0.0))
        self.assertEqual(invoice.nordic_next_dunning_date, today)
        event = self.confirm(self.build_run(today))
        self.assertEqual(event.move_id, invoice)
        self.assertEqual(event.deadline_date, level_deadline(today, self.levels[0].payment_term_days, "SE"))

    def test_reply_in_writing_stays_in_chatter(self):
        """The written answer is composed from the template and kept on the invoice as evidence."""
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        self._dispute(invoice, 200.0)
        action = invoice.action_nordic_dispute_reply()
        composer = self.env[action["res_model"]].with_context(**action["context"]).create({})
        self.assertIn(invoice.name, composer.subject)
        composer.action_send_mail()
        message = invoice.message_ids[0]
        self.assertIn("800.00", message.body, "the undisputed part is stated")
        self.assertEqual(message.partner_ids, self.customer)
