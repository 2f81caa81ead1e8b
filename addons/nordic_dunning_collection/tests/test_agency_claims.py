from datetime import date

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from odoo.addons.nordic_dunning.tools.system import as_system

from .collection_common import NordicCollectionCommon


@tagged("post_install", "-at_install")
class TestAgencyClaims(NordicCollectionCommon):
    """The agency hears what it must: payments and credit notes set against a handed-over invoice in Odoo, the
    open amount at registration, disputes and holds; never twice, never a payment it paid out itself."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = cls.company_user("claims_accountant", "account.group_account_invoice")
        cls.dunning_user = cls.company_user(
            "claims_dunning_user", "account.group_account_invoice,nordic_dunning.group_nordic_dunning_user"
        )

    def submitted_case(self, amount=1000.0, partner=None):
        case = self.make_case(amount, partner=partner)
        self.submit(case)
        self.assertEqual(case.state, "submitted")
        return case

    def pay(self, invoices, amount, day=date(2026, 5, 4), user=None):
        """Register a payment of ``amount`` for ``invoices`` (one payment for all of them), as ``user``."""
        wizard = (
            self.env["account.payment.register"]
            .with_user(user or self.accountant)
            .with_context(active_model="account.move", active_ids=invoices.ids)
            .create({"amount": amount, "payment_date": day, "group_payment": True})
        )
        return wizard._create_payments()

    def claim_commands(self, cases):
        return cases.command_ids.filtered(lambda c: c.action == "creditor_payment")

    # ------------------------------------------------------------------
    # Payments and credit notes
    # ------------------------------------------------------------------

    def test_payment_in_odoo_reported_once(self):
        """A partial payment registered by an invoicing user (who may only read cases) queues one creditor
        payment with its amount, date and reference; the hook run again for the same reconciliation adds none."""
        case = self.submitted_case(1000.0)
        payment = self.pay(case.move_id, 300.0)
        command = self.claim_commands(case)
        self.assertEqual(len(command), 1)
        self.assertEqual(command.state, "pending")
        self.assertEqual(
            (command.data["amount"], command.data["date"], command.data["reference"], command.data["kind"]),
            (300.0, "2026-05-04", payment.move_id.name, "payment"),
        )
        partial = command.partial_id
        self.assertTrue(partial)
        self.assertFalse(self.Case._queue_claim_reductions(partial), "a reconciliation is reported once")
        self.assertEqual(len(self.claim_commands(case)), 1)
        pending = self.Case.with_user(self.sidecar_user).sidecar_pending_commands(self.agency.id, 10)
        self.assertEqual(
            [(c["action"], c["data"]["amount"]) for c in pending if c["case_uuid"] == case.uuid],
            [("creditor_payment", 300.0)],
        )

    def test_unreconciled_payment(self):
        """A payment taken off the invoice before the sidecar sent its report: the report is dropped. Taken off
        after the agency was told: the report stays, and the case says the agency now claims too little."""
        case = self.submitted_case(1000.0)
        payment = self.pay(case.move_id, 300.0)
        payment.move_id.line_ids.with_user(self.accountant).remove_move_reconcile()
        self.assertFalse(self.claim_commands(case))
        self.assertTrue(case.message_ids.filtered(lambda m: "Not sent to the agency" in (m.body or "")))
        later = self.pay(case.move_id, 200.0)
        api = self.Case.with_user(self.sidecar_user)
        pending = api.sidecar_pending_commands(self.agency.id, 10)
        api.sidecar_ack_commands(self.agency.id, [{"command_id": c["command_id"], "ok": True} for c in pending])
        later.move_id.line_ids.with_user(self.accountant).remove_move_reconcile()
        command = self.claim_commands(case)
        self.assertEqual((command.state, command.data["amount"]), ("done", 200.0))
        self.assertTrue(case.message_ids.filtered(lambda m: "claims 200.0 too" in (m.body or "")))

    def test_credit_note_reported(self):
        """A credit note of the invoice, set against it as Odoo posts it, lowers the claim: a creditor payment of
        the credited amount."""
        case = self.submitted_case(1000.0)
        refund = (
            self.env["account.move"]
            .with_user(self.accountant)
            .create(
                {
                    "move_type": "out_refund",
                    "partner_id": self.customer.id,
                    "journal_id": self.sale_journal.id,
                    "invoice_date": date(2026, 5, 6),
                    "reversed_entry_id": case.move_id.id,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Goodwill", "quantity": 1, "price_unit": 250.0, "tax_ids": [Command.clear()]}
                        )
                    ],
                }
            )
        )
        refund.action_post()  # Odoo sets a credit note of the invoice against it when posted
        self.assertEqual(case.move_id.amount_residual, 750.0)
        command = self.claim_commands(case)
        self.assertEqual(len(command), 1)
        self.assertEqual(
            (command.data["amount"], command.data["kind"], command.data["reference"]),
            (250.0, "credit_note", refund.name),
        )

    def test_batch_payment_of_many_invoices(self):
        """One payment reconciled with 30 invoices at once: one creditor payment per invoice, each its own amount;
        the invoices whose case is closed or still unsent get none."""
        cases = self.Case
        for index in range(30):
            cases |= self.make_case(100.0 + index)
        self.submit(cases)
        closed = cases[:2]
        as_system(closed[0].sudo()).write({"state": "paid"})
        as_system(closed[1].sudo()).write({"state": "withdrawn"})
        outbox = self.make_case(500.0)
        invoices = cases.move_id | outbox.move_id
        total = sum(invoices.mapped("amount_residual"))
        # Measured 189 queries for the 31 invoices (250 with the case guards); the queue adds a fixed handful,
        # nothing per invoice.
        with self.assertQueryCount(accountman=260):
            self.pay(invoices, total)
        self.assertTrue(all(move.payment_state in ("paid", "in_payment") for move in invoices))
        for case in cases - closed:
            command = self.claim_commands(case)
            self.assertEqual(len(command), 1, case.name)
            self.assertEqual(command.data["amount"], case.move_id.amount_total)
        self.assertFalse(self.claim_commands(closed | outbox), "closed and unsent cases are not told")

    def test_agency_payment_not_reported_back(self):
        """A payment the agency paid out (the sidecar records it from the agency's changes) is reconciled with
        the invoice but never reported back to the agency as a creditor payment."""
        case = self.submitted_case(1000.0)
        api = self.Case.with_user(self.sidecar_user)
        api.sidecar_apply_changes(self.agency.id, [self.change(case, "pay-1", kind="payment", amount=400.0)])
        self.assertEqual(case.move_id.amount_residual, 600.0)
        self.assertEqual(len(case.payment_ids), 1)
        self.assertFalse(self.claim_commands(case))

    # ------------------------------------------------------------------
    # Registration
    # ------------------------------------------------------------------

    def test_registration_sends_open_amount(self):
        """A case still in the outbox: a payment is not a command, the registration claims the invoice's open
        amount and records it; a payment after the claim is a command; a registration sent again (expired lease)
        claims the same amount as the first."""
        case = self.make_case(1000.0)
        self.pay(case.move_id, 200.0)
        self.assertFalse(self.claim_commands(case), "the agency has nothing yet: the registration will say it")
        api = self.Case.with_user(self.sidecar_user)
        claimed = api.sidecar_claim(self.agency.id, 10, "w1")
        self.assertEqual(claimed[0]["case"]["debts"][0]["principal"], 800.0)
        self.assertEqual(case.amount_registered, 800.0)
        self.pay(case.move_id, 100.0, day=date(2026, 5, 5))
        self.assertEqual(self.claim_commands(case).data["amount"], 100.0, "paid while being submitted")
        as_system(case.sudo()).claimed_at = date(2026, 1, 1)  # the lease expired: the sidecar died
        again = api.sidecar_claim(self.agency.id, 10, "w2")
        self.assertEqual(again[0]["case"]["debts"][0]["principal"], 800.0, "the same registration")
        self.assertFalse(api.sidecar_pending_commands(self.agency.id, 10), "sent once the agency has the case")
        api.sidecar_record_submissions(
            self.agency.id, [{"uuid": case.uuid, "external_id": "AG-1", "state": "submitted"}]
        )
        pending = api.sidecar_pending_commands(self.agency.id, 10)
        self.assertEqual([(c["action"], c["data"]["amount"]) for c in pending], [("creditor_payment", 100.0)])

    # ------------------------------------------------------------------
    # Disputes and holds
    # ------------------------------------------------------------------

    def actions(self, case):
        return case.command_ids.sorted("id").mapped("action")

    def test_dispute_pauses_and_resumes(self):
        """A dispute opened by an invoicing user pauses the case once (a second dispute adds nothing); rejecting
        one leaves it paused while another is open; closing the last resumes it."""
        case = self.submitted_case(1000.0)
        Dispute = self.env["nordic.dunning.dispute"].with_user(self.dunning_user)
        first = Dispute.create({"move_id": case.move_id.id, "reason": "Never delivered"})
        self.assertEqual(self.actions(case), ["pause"])
        self.assertIn("Never delivered", case.command_ids.reason)
        second = Dispute.create({"move_id": case.move_id.id, "reason": "Wrong price", "scope": "partial", "amount": 10})
        self.assertEqual(self.actions(case), ["pause"])
        first.write({"resolution": "Delivered on 2 March", "state": "rejected"})
        self.assertEqual(self.actions(case), ["pause"])
        second.write({"resolution": "The price was agreed", "state": "rejected"})
        self.assertEqual(self.actions(case), ["pause", "resume"])

    def test_holds_pause_and_resume(self):
        """Excluding the invoice or the customer from dunning after hand-over pauses the case; lifting the last
        hold resumes it; the agency's own dispute hold waits for our answer instead."""
        case = self.submitted_case(1000.0)
        invoice = case.move_id.with_user(self.dunning_user)
        invoice.write({"nordic_dunning_excluded": True, "nordic_dunning_exclude_reason": "Payment plan"})
        self.assertEqual(self.actions(case), ["pause"])
        self.customer.write({"nordic_dunning_excluded": True, "nordic_dunning_exclude_reason": "Bankruptcy"})
        self.assertEqual(self.actions(case), ["pause"])
        invoice.write({"nordic_dunning_excluded": False})
        self.assertEqual(self.actions(case), ["pause"], "the customer is still held")
        self.customer.write({"nordic_dunning_excluded": False})
        self.assertEqual(self.actions(case), ["pause", "resume"])
        as_system(case.sudo()).write({"dispute_at_agency": True})
        invoice.write({"nordic_dunning_excluded": True})
        invoice.write({"nordic_dunning_excluded": False})
        self.assertEqual(self.actions(case), ["pause", "resume", "pause"], "the agency awaits our answer")

    # ------------------------------------------------------------------
    # Attacks
    # ------------------------------------------------------------------

    def test_attack_command_for_a_reconciliation(self):
        """A dunning user creates a command claiming a future reconciliation (to have the real one refused):
        refused, nothing created."""
        case = self.submitted_case(1000.0)
        Command_ = self.env["nordic.collection.case.command"].with_user(self.dunning_user)
        partial = self.env["account.partial.reconcile"].search([], order="id desc", limit=1)
        with self.assertRaises(AccessError):
            Command_.create({"case_id": case.id, "action": "creditor_payment", "partial_id": partial.id})
        self.assertFalse(case.command_ids)

    def test_attack_registered_amount(self):
        """A dunning user lowers the amount registered at the agency: refused, the amount is unchanged."""
        case = self.make_case(1000.0)
        self.submit(case)
        with self.assertRaises(AccessError):
            case.with_user(self.dunning_user).write({"amount_registered": 1.0})
        self.assertEqual(case.amount_registered, 1000.0)
