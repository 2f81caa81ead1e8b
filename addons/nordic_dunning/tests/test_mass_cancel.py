from datetime import date

from odoo import Command
from odoo.tests import tagged

from .common import NordicDunningCommon


@tagged("post_install", "-at_install")
class TestMassCancel(NordicDunningCommon):
    """Seeds 000/003: a wrongful run is cancelled in one go; fees reversed, paid money proposed for refund."""

    def test_cancel_run_of_200_with_20_paid_fees(self):
        """200 cancelled events kept, all fees reversed, 20 paid fees and a double payment to refund, nothing lost."""
        partners = self.env["res.partner"].create(
            [
                {
                    "name": f"Patient {i}",
                    "email": f"p{i}@example.com",
                    "nordic_fee_agreed": True,
                    "nordic_fee_agreed_date": date(2026, 1, 1),
                }
                for i in range(4)
            ]
        )
        invoices = self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partners[i % 4].id,
                    "invoice_date": date(2026, 3, 1),
                    "invoice_date_due": date(2026, 4, 1),
                    "journal_id": self.sale_journal.id,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Visit", "quantity": 1, "price_unit": 500.0, "tax_ids": [Command.clear()]}
                        )
                    ],
                }
                for i in range(200)
            ]
        )
        invoices.action_post()
        invoices.is_move_sent = True
        run = self.build_run(date(2026, 4, 10))
        self.assertEqual((run.state, len(run.line_ids)), ("draft", 200))
        events = self.confirm_and_send(run, send=False) and run.event_ids
        self.assertEqual(len(events), 200)
        self.assertEqual(sum(events.mapped("fee_amount")), 200 * 60.0)

        paid_fees = events[:20].fee_move_line_id
        self.env["account.payment.register"].with_context(
            active_model="account.move.line", active_ids=paid_fees.ids
        ).create({"payment_date": date(2026, 4, 15), "group_payment": False})._create_payments()
        self.assertTrue(all(paid_fees.mapped("reconciled")))
        # A customer paid invoice and reminder twice (seed 003's double payments).
        double = invoices[0]
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=double.ids).create(
            {"payment_date": date(2026, 4, 16)}
        )._create_payments()
        self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": double.partner_id.id,
                "amount": 500.0,
                "date": date(2026, 4, 17),
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        ).action_post()
        receivable_before = self._receivable_by_partner(partners)

        wizard = (
            self.env["nordic.dunning.cancel"]
            .with_context(active_model="nordic.dunning.run", active_id=run.id)
            .create({"reason": "A test file reached the production run", "send_apology": True})
        )
        self.assertEqual(wizard.event_count, 200)
        wizard.action_cancel()

        self.assertEqual(self.env["nordic.dunning.event"].search_count([("run_id", "=", run.id)]), 200)
        self.assertEqual(set(events.mapped("state")), {"cancelled"})
        self.assertEqual(set(events.mapped("cancel_reason")), {"A test file reached the production run"})
        self.assertEqual(run.state, "cancelled")
        fee_lines = events.fee_move_line_id
        self.assertTrue(all(fee_lines.mapped("reconciled")), "every fee is set off by its reversal")
        reversal_lines = fee_lines.matched_credit_ids.credit_move_id.filtered(
            lambda line: line.move_id.ref and "Reversal" in line.move_id.ref
        )
        self.assertEqual(len(reversal_lines), 180, "unpaid fees are matched with their reversal")
        refunds = self.env["nordic.dunning.refund"].search([("partner_id", "in", partners.ids)])
        fee_refunds = refunds.filtered(lambda r: r.source == "fee")
        self.assertEqual(len(fee_refunds), 20)
        self.assertEqual(set(fee_refunds.mapped("amount")), {60.0})
        self.assertEqual(fee_refunds.event_id, events[:20])
        overpayments = refunds.filtered(lambda r: r.source == "overpayment")
        self.assertEqual((overpayments.partner_id, overpayments.amount), (double.partner_id, 500.0))

        # Nothing lost: each customer's balance fell by exactly its cancelled fees, and what it had paid
        # beyond its invoices (paid fees, double payment) is exactly what is proposed for refund.
        receivable_after = self._receivable_by_partner(partners)
        for partner in partners:
            fees = sum(events.filtered(lambda e, p=partner: e.partner_id == p).mapped("fee_amount"))
            self.assertAlmostEqual(receivable_before[partner] - receivable_after[partner], fees)
            open_invoices = sum(invoices.filtered(lambda m, p=partner: m.partner_id == p).mapped("amount_residual"))
            to_refund = sum(refunds.filtered(lambda r, p=partner: r.partner_id == p).mapped("amount"))
            self.assertAlmostEqual(receivable_after[partner], open_invoices - to_refund)
        self.assertEqual(set(invoices.mapped("nordic_dunning_state")), {"none"})
        self.assertEqual(invoices[1:].nordic_dunning_next_level_id, self.levels[0])
        self.assertFalse(invoices.nordic_dunning_level_id)
        self.assertEqual(
            self.env["mail.mail"].search_count([("model", "=", "res.partner"), ("res_id", "in", partners.ids)]),
            4,
            "one apology per customer",
        )

        refunds.action_pay()
        self.assertEqual(set(refunds.mapped("state")), {"done"})
        self.assertTrue(all(refunds.move_line_id.mapped("reconciled")), "refund payments settle the credits")
        self.assertEqual(len(refunds.payment_id), len(refunds.partner_id))

    def test_cancel_selected_events(self):
        """Cancelling one measure of a run keeps the run confirmed and rolls its invoice back a level."""
        first = self.make_invoice(800.0, due=date(2026, 4, 1))
        second = self.make_invoice(900.0, due=date(2026, 4, 1))
        self.confirm(self.build_run(date(2026, 4, 10)))
        run = self.build_run(date(2026, 4, 17))
        events = self.confirm(run)
        self.assertEqual(first.nordic_dunning_level_id, self.levels[1])
        event = events.filtered(lambda e: e.move_id == first)
        self.env["nordic.dunning.cancel"].with_context(
            active_model="nordic.dunning.event", active_ids=event.ids
        ).create({"reason": "Paid at the counter"}).action_cancel()
        self.assertEqual((event.state, run.state), ("cancelled", "done"))
        self.assertEqual(first.nordic_dunning_level_id, self.levels[0])
        self.assertEqual(first.nordic_dunning_next_level_id, self.levels[1])
        self.assertEqual(first.nordic_last_dunning_date, date(2026, 4, 10))
        self.assertEqual(second.nordic_dunning_level_id, self.levels[1])

    def _receivable_by_partner(self, partners):
        lines = self.env["account.move.line"].search(
            [
                ("partner_id", "in", partners.ids),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
            ]
        )
        return {p: sum(lines.filtered(lambda line, p=p: line.partner_id == p).mapped("balance")) for p in partners}
