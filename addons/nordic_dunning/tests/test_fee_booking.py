from datetime import date

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from ..models.nordic_dunning_policy_booking import CHARGE_COLUMNS
from .common import NordicDunningCommon

DAY = date(2026, 4, 10)


@tagged("post_install", "-at_install")
class TestFeeBooking(NordicDunningCommon):
    """Fees booked set-based (copies of one ORM-created receivable line per account and currency) keep every
    accounting invariant of an entry Odoo would have created line by line: balanced, posted, named,
    reconcilable by payments, residuals and the partner ledger right, hashable, reversible by a cancellation."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = cls.env["res.partner"].create(
            [
                {
                    "name": f"Fee customer {i}",
                    "email": f"fee{i}@example.com",
                    "nordic_fee_agreed": True,
                    "nordic_fee_agreed_date": date(2026, 1, 1),
                }
                for i in range(3)
            ]
        )
        cls.eur = cls.setup_other_currency("EUR")

    def _invoices(self, count, currency=None):
        invoices = self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customers[i % 3].id,
                    "invoice_date": date(2026, 3, 1),
                    "invoice_date_due": date(2026, 4, 1),
                    "journal_id": self.sale_journal.id,
                    "currency_id": (currency or self.company.currency_id).id,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Visit", "quantity": 1, "price_unit": 500.0 + i, "tax_ids": [Command.clear()]}
                        )
                    ],
                }
                for i in range(count)
            ]
        )
        invoices.action_post()
        invoices.is_move_sent = True
        return invoices

    def _book(self, count, currency=None):
        invoices = self._invoices(count, currency)
        run = self.build_run(DAY)
        self.confirm_and_send(run, send=False)
        return invoices, run, run.event_ids.sorted("id")

    def _ledger(self):
        """Receivable balance per customer from the posted journal items (the partner ledger's totals)."""
        groups = self.env["account.move.line"].read_group(
            [
                ("partner_id", "in", self.customers.ids),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
            ],
            ["balance:sum", "amount_residual:sum"],
            ["partner_id"],
        )
        return {g["partner_id"][0]: (g["balance"], g["amount_residual"]) for g in groups}

    def test_booked_lines_are_those_odoo_computes(self):
        """One posted, balanced, named entry; each fee a receivable line of the invoice's account and customer,
        open for the full fee, equal to the ORM-created template line in every stored field but its own."""
        invoices, run, events = self._book(30)
        move = run.fee_move_ids
        self.assertEqual(len(move), 1)
        self.assertEqual((move.state, move.move_type, move.date), ("posted", "entry", DAY))
        self.assertTrue(move.name and move.name != "/")
        with move._check_balanced({"records": move}):
            pass
        move._check_fiscal_lock_dates()
        self.assertAlmostEqual(move.amount_total, 30 * 60.0)
        lines = events.fee_move_line_id
        self.assertEqual(len(lines), 30)
        self.assertTrue(all(events.mapped("fee_charged")))
        for event in events:
            line = event.fee_move_line_id
            receivable = event.move_id.line_ids.filtered(lambda x: x.display_type == "payment_term").account_id
            self.assertEqual(
                (line.account_id, line.partner_id, line.debit, line.credit, line.amount_currency),
                (receivable, event.move_id.commercial_partner_id, 60.0, 0.0, 60.0),
            )
            self.assertEqual(
                (line.amount_residual, line.amount_residual_currency, line.reconciled), (60.0, 60.0, False)
            )
            self.assertEqual((line.parent_state, line.move_name, line.date), ("posted", move.name, DAY))
            self.assertEqual(line.date_maturity, event.deadline_date)
            self.assertEqual(line.name, f"Reminder fee {event.move_id.name}")
            self.assertFalse(line.tax_ids or line.tax_line_id or line.analytic_distribution)
        income = move.line_ids - lines
        self.assertEqual((len(income), income.credit, income.account_id), (1, 30 * 60.0, self.policy.fee_account_id))
        # The copies are the template (the lowest id, created through the ORM) but for the charge's own columns.
        template, *copies = lines.sorted("id")
        stored = [
            name
            for name, field in lines._fields.items()
            # who wrote last: the posting rewrites the template line (as the job's user), not its copies
            if field.store and field.column_type and name not in (*CHARGE_COLUMNS, "id", "write_uid")
        ]
        self.env.invalidate_all()
        for copy in copies:
            self.assertEqual(
                {name: copy[name] for name in stored}, {name: template[name] for name in stored}, copy.name
            )
        ledger = self._ledger()
        for customer in self.customers:
            own = invoices.filtered(lambda m, c=customer: m.partner_id == c)
            expected = sum(own.mapped("amount_total")) + 60.0 * len(own)
            self.assertAlmostEqual(ledger[customer.id][0], expected)
            self.assertAlmostEqual(ledger[customer.id][1], expected)

    def test_payments_reconcile_fees_and_invoices(self):
        """Payments registered on fee lines, on an invoice with its fee, and a partial one leave the right
        residuals, payment states and ledger."""
        invoices, run, events = self._book(9)
        fees = events.fee_move_line_id
        paid = fees[:4]
        self.env["account.payment.register"].with_context(active_model="account.move.line", active_ids=paid.ids).create(
            {"payment_date": DAY, "group_payment": False}
        )._create_payments()
        self.assertTrue(all(paid.mapped("reconciled")))
        self.assertEqual(paid.mapped("amount_residual"), [0.0] * 4)
        self.assertTrue(all(paid.full_reconcile_id))
        # An invoice and its fee in one payment.
        event = events[5]
        both = event.fee_move_line_id | event.move_id.line_ids.filtered(lambda x: x.display_type == "payment_term")
        self.env["account.payment.register"].with_context(active_model="account.move.line", active_ids=both.ids).create(
            {"payment_date": DAY, "group_payment": True}
        )._create_payments()
        self.assertTrue(all(both.mapped("reconciled")))
        self.assertIn(event.move_id.payment_state, ("paid", "in_payment"))
        # 25 of a 60 kr fee.
        partial = events[6].fee_move_line_id
        self.env["account.payment.register"].with_context(
            active_model="account.move.line", active_ids=partial.ids
        ).create({"payment_date": DAY, "amount": 25.0})._create_payments()
        self.assertEqual((partial.amount_residual, partial.reconciled), (35.0, False))
        self.assertEqual(run.fee_move_ids.state, "posted")
        open_amount = sum(invoices.mapped("amount_residual")) + sum(fees.mapped("amount_residual"))
        self.assertAlmostEqual(sum(residual for _b, residual in self._ledger().values()), open_amount)
        # Open: the invoices but the one paid, and the fees but the five paid, less 25 kr.
        self.assertAlmostEqual(
            open_amount, sum(invoices.mapped("amount_total")) - event.move_id.amount_total + 4 * 60 - 25
        )

    def test_foreign_currency_fee(self):
        """A euro invoice's fee is a euro receivable line at the day's rate, paid off in euros to zero in both
        currencies."""
        _invoices, run, events = self._book(3, currency=self.eur)
        for event in events:
            line = event.fee_move_line_id
            self.assertEqual(line.currency_id, self.eur)
            self.assertAlmostEqual(line.amount_currency, event.fee_amount)
            expected = self.eur._convert(event.fee_amount, self.company.currency_id, self.company, DAY)
            self.assertAlmostEqual(line.balance, expected)
            self.assertEqual(
                (line.amount_residual, line.amount_residual_currency), (line.balance, line.amount_currency)
            )
        move = run.fee_move_ids
        with move._check_balanced({"records": move}):
            pass
        income = move.line_ids - events.fee_move_line_id
        self.assertEqual(income.currency_id, self.eur)
        self.assertAlmostEqual(-income.amount_currency, sum(events.mapped("fee_amount")))
        lines = events.fee_move_line_id
        self.env["account.payment.register"].with_context(
            active_model="account.move.line", active_ids=lines.ids
        ).create({"payment_date": DAY, "group_payment": False, "currency_id": self.eur.id})._create_payments()
        self.assertTrue(all(lines.mapped("reconciled")))
        self.assertEqual(lines.mapped("amount_residual_currency"), [0.0] * 3)
        self.assertEqual(lines.mapped("amount_residual"), [0.0] * 3)

    def test_hashed_journal_and_lock_date(self):
        """On a journal whose entries are hashed, the fee entry is hashed with every line and the chain
        verifies, and the posted lines cannot be altered."""
        journal = self.policy.fee_journal_id
        journal.restrict_mode_hash_table = True
        _invoices, run, _events = self._book(6)
        move = run.fee_move_ids
        self.assertTrue(move.inalterable_hash)
        results = self.company._check_hash_integrity()["results"]
        self.assertTrue(results)
        self.assertTrue(all(result["status"] == "verified" for result in results), results)
        with self.assertRaises(UserError):
            move.line_ids[0].write({"debit": 61.0})

    def test_locked_period_moves_to_first_open_day(self):
        """With the books locked up to the sending day, Odoo's own posting dates the entry after the lock;
        every line follows its entry and the sequence matches the new date."""
        self.company.fiscalyear_lock_date = DAY
        _invoices, run, events = self._book(4)
        move = run.fee_move_ids
        self.assertGreater(move.date, DAY)
        self.assertEqual(set(move.line_ids.mapped("date")), {move.date})
        self.assertEqual(set(move.line_ids.mapped("move_name")), {move.name})
        self.assertTrue(move._sequence_matches_date())
        with move._check_balanced({"records": move}):
            pass
        self.assertEqual(len(events.fee_move_line_id), 4)

    def test_cancel_reverses_booked_fees(self):
        """The cancel wizard reverses the set-based fees: open fees reconciled away, a paid fee's reversal left
        as the customer's credit, the ledger back to the invoices alone."""
        invoices, run, events = self._book(6)
        paid = events[0].fee_move_line_id
        self.env["account.payment.register"].with_context(active_model="account.move.line", active_ids=paid.ids).create(
            {"payment_date": DAY}
        )._create_payments()
        self.env["nordic.dunning.cancel"].with_context(active_model="nordic.dunning.run", active_id=run.id).create(
            {"reason": "Booked by mistake"}
        ).action_cancel()
        fees = events.fee_move_line_id
        self.assertTrue(all(fees.mapped("reconciled")))
        self.assertEqual(fees.mapped("amount_residual"), [0.0] * 6)
        reversals = fees.matched_credit_ids.credit_move_id.move_id - paid.matched_credit_ids.credit_move_id.move_id
        self.assertTrue(reversals)
        for reversal in reversals | fees.full_reconcile_id.reconciled_line_ids.move_id:
            with reversal._check_balanced({"records": reversal}):
                pass
        refund = self.env["nordic.dunning.refund"].search([("event_id", "=", events[0].id)])
        self.assertEqual(refund.amount, 60.0)
        # Everything but the paid fee (now the customer's credit against the refund proposal) is back to the invoices.
        residual = sum(residual for _b, residual in self._ledger().values())
        self.assertAlmostEqual(residual, sum(invoices.mapped("amount_residual")) - 60.0)
        self.assertEqual(fields.Date.to_string(run.fee_move_ids.date), fields.Date.to_string(DAY))
