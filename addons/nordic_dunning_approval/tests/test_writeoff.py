from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .approval_common import NordicApprovalCommon


@tagged("post_install", "-at_install")
class TestWriteoff(NordicApprovalCommon):
    """Confirmed customer losses: the entry, its approval, the settled invoice and a later recovery."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.loss_account = cls.env["account.account"].create(
            {
                "code": "6351",
                "name": "Konstaterade förluster på kundfordringar",
                "account_type": "expense",
                "company_ids": [(6, 0, cls.company.ids)],
            }
        )
        cls.vat_25 = cls.company_data["default_tax_sale"].copy({"name": "Moms 25 %", "amount": 25.0})
        cls.vat_account = cls.vat_25.invoice_repartition_line_ids.filtered(
            lambda r: r.repartition_type == "tax"
        ).account_id

    def write_off(self, invoice, approver=None, proposer=None, reason="Agency reported failure"):
        """Propose as the CFO (override: no collection case in these tests), approve, post; the entry."""
        proposer = proposer or self.cfo
        wizard = (
            self.as_user(self.env["nordic.writeoff.wizard"], proposer)
            .with_context(default_move_id=invoice.id)
            .create({"reason": reason, "override_reason": "Patient emigrated"})
        )
        action = wizard.action_confirm()
        entry = self.env["account.move"].browse(action["res_id"])
        self.assertEqual(entry.state, "draft")
        self.approve(entry, approver or self.manager_a)
        self.as_user(entry, self.clerk).action_post()
        return entry

    def lines(self, entry):
        return sorted((line.account_id.code, line.debit, line.credit) for line in entry.line_ids)

    def test_writeoff_25_percent_vat(self):
        """1 000 + 25 % VAT: D 6351 1 000, D output VAT 250, C receivable 1 250; invoice settled and marked."""
        invoice = self.make_clinic_invoice(1000.0, taxes=self.vat_25)
        receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable").account_id
        entry = self.write_off(invoice)
        self.assertEqual(
            self.lines(entry),
            sorted(
                [
                    ("6351", 1000.0, 0.0),
                    (self.vat_account.code, 250.0, 0.0),
                    (receivable.code, 0.0, 1250.0),
                ]
            ),
        )
        self.assertEqual(entry.state, "posted")
        self.assertEqual(invoice.payment_state, "paid")
        self.assertTrue(invoice.nordic_written_off)
        self.assertEqual(invoice.nordic_writeoff_move_id, entry)
        self.assertEqual(invoice.nordic_writeoff_date, entry.date)
        self.assertEqual(invoice.nordic_writeoff_override_reason, "Patient emigrated")
        mail = self.env["mail.mail"].search([("model", "=", "account.move"), ("res_id", "=", entry.id)])
        self.assertEqual(mail.email_to, "hq@example.com")
        self.assertIn("Patient Ada", mail.body_html)
        self.assertEqual(self.env["nordic.credit.report"].search([("move_id", "=", entry.id)]).amount, 1250.0)

    def test_writeoff_vat_free_partly_paid(self):
        """A VAT-free invoice of 1 000 with 200 paid: D 6351 800, C receivable 800, nothing on VAT."""
        invoice = self.make_clinic_invoice(1000.0)
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=invoice.ids).create(
            {"amount": 200.0, "payment_date": "2026-02-15"}
        )._create_payments()
        receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable").account_id
        entry = self.write_off(invoice)
        self.assertEqual(self.lines(entry), sorted([("6351", 800.0, 0.0), (receivable.code, 0.0, 800.0)]))
        self.assertEqual(invoice.amount_residual, 0.0)

    def test_writeoff_foreign_currency(self):
        """A EUR invoice is written off in EUR with the company amounts of the invoice: nothing left open."""
        eur = self.setup_other_currency("EUR", rates=[("2026-01-01", 0.1)])
        invoice = (
            self.env["account.move"]
            .with_company(self.clinic_a)
            .create(
                {
                    "move_type": "out_invoice",
                    "company_id": self.clinic_a.id,
                    "partner_id": self.customer.id,
                    "currency_id": eur.id,
                    "invoice_date": "2026-02-01",
                    "invoice_date_due": "2026-02-01",
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Implant", "price_unit": 100.0, "tax_ids": [Command.set(self.vat_25.ids)]}
                        )
                    ],
                }
            )
        )
        invoice.action_post()
        entry = self.write_off(invoice)
        self.assertEqual(
            sorted((line.account_id.code, line.amount_currency, line.balance) for line in entry.line_ids),
            sorted(
                [
                    ("6351", 100.0, 1000.0),
                    (self.vat_account.code, 25.0, 250.0),
                    (
                        invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable").account_id.code,
                        -125.0,
                        -1250.0,
                    ),
                ]
            ),
        )
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(entry.nordic_credit_amount_company, 1250.0)

    def test_recovery_after_writeoff(self):
        """500 received after writing off 1 250: C 6351 400, C VAT 100, D receivable 500; at most the rest later."""
        invoice = self.make_clinic_invoice(1000.0, taxes=self.vat_25)
        receivable = invoice.line_ids.filtered(lambda line: line.account_type == "asset_receivable").account_id
        self.write_off(invoice)
        wizard = (
            self.as_user(self.env["nordic.writeoff.recovery.wizard"], self.clerk)
            .with_context(default_move_id=invoice.id)
            .create({"amount": 500.0})
        )
        self.assertEqual(wizard.open_amount, 1250.0)
        recovery = self.env["account.move"].browse(wizard.action_confirm()["res_id"])
        self.assertEqual(recovery.state, "posted")
        self.assertEqual(
            self.lines(recovery),
            sorted(
                [
                    ("6351", 0.0, 400.0),
                    (self.vat_account.code, 0.0, 100.0),
                    (receivable.code, 500.0, 0.0),
                ]
            ),
        )
        self.assertEqual(invoice._nordic_recoverable_amount(), (1250.0, 750.0))
        with self.assertRaises(UserError):
            invoice._nordic_book_recovery(750.01)
        last = invoice._nordic_book_recovery(750.0)
        self.assertEqual(
            self.lines(last),
            sorted(
                [
                    ("6351", 0.0, 600.0),
                    (self.vat_account.code, 0.0, 150.0),
                    (receivable.code, 750.0, 0.0),
                ]
            ),
        )

    def test_above_threshold_needs_cfo_or_ceo(self):
        """A 7 500 write-off is not the clinic manager's; the CEO approves it."""
        invoice = self.make_clinic_invoice(6000.0, taxes=self.vat_25)
        wizard = (
            self.as_user(self.env["nordic.writeoff.wizard"], self.cfo)
            .with_context(default_move_id=invoice.id)
            .create({"reason": "Failed", "override_reason": "Bankrupt estate"})
        )
        entry = self.env["account.move"].browse(wizard.action_confirm()["res_id"])
        self.assertEqual(entry.nordic_credit_amount_company, 7500.0)
        self.assertTrue(entry.nordic_over_threshold)
        with self.assertRaises(UserError):
            self.as_user(entry, self.manager_a).validate_tier()
        with self.assertRaises(UserError):
            self.as_user(entry, self.cfo).validate_tier()
        self.approve(entry, self.ceo)
        entry.action_post()
        self.assertTrue(invoice.nordic_written_off)

    def test_no_writeoff_without_evidence(self):
        """Without a failed collection case a clerk is refused, even with a reason; only a CFO may override."""
        invoice = self.make_clinic_invoice(400.0)
        self.assertIn("no collection case reported as failed", invoice._nordic_writeoff_blockers())
        Wizard = self.as_user(self.env["nordic.writeoff.wizard"], self.clerk).with_context(default_move_id=invoice.id)
        with self.assertRaises(UserError):
            Wizard.create({"reason": "Failed"}).action_confirm()
        with self.assertRaises(UserError):
            Wizard.create({"reason": "Failed", "override_reason": "I say so"}).action_confirm()
        self.assertFalse(invoice.nordic_writeoff_move_id)
