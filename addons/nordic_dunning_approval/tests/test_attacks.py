"""Attacks on the approval of credit notes and write-offs, made as a user would make them over RPC: the ORM
with that user's rights and any context they like. Each attack is refused, and nothing it aimed at changed."""

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.nordic_dunning_collection.tests.collection_common import NordicCollectionCommon

from .approval_common import NordicApprovalCommon, NordicApproveMixin

# Context keys an attacker may try: base_tier_validation's own switches and the product's old-style keys.
FORGED_CONTEXT = {
    "skip_validation_check": True,
    "skip_check_state_condition": True,
    "tier_validation_defer_compute_can_review": True,
    "nordic_dunning_system": True,
    "tracking_disable": True,
}
REVIEW_FIELDS = ["status", "done_by", "reviewed_date", "comment"]


@tagged("post_install", "-at_install")
class TestApprovalAttacks(NordicApprovalCommon):
    """A clerk (and managers, and an executive) trying to post a credit note nobody validly approved."""

    def as_attacker(self, records, user):
        """``records`` as ``user`` sees them over RPC: their own rights, the context they choose."""
        return (
            records.browse(records.ids)
            .with_user(user)
            .with_context(allowed_company_ids=user.company_ids.ids, **FORGED_CONTEXT)
        )

    def snapshot(self, records, names):
        records.invalidate_recordset()
        return [tuple(record[name] for name in names) for record in records]

    def requested(self, amount, user=None, **kwargs):
        """A draft credit note of ``amount`` by ``user`` (the clerk) with its approval requested."""
        credit = self.make_credit_note(amount, user=user, **kwargs)
        self.as_user(credit, user or self.clerk).request_validation()
        self.assertTrue(credit.review_ids)
        return credit

    def assertStaysDraft(self, credit, user):
        """Posting as ``user`` with the forged context leaves the credit note in draft; writing its state is
        refused."""
        self.as_attacker(credit, user).action_post()
        self.assertEqual(credit.state, "draft")
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.as_attacker(credit, user).write({"state": "posted"})
        credit.invalidate_recordset()
        self.assertEqual((credit.state, credit.posted_before), ("draft", False), "never posted, not numbered")

    # ------------------------------------------------------------------
    # The reviews
    # ------------------------------------------------------------------

    def test_review_cannot_be_written_approved(self):
        """Attack: the clerk who made a 50 000 credit note writes its review to "approved" with the CFO as
        approver and a date, all at once or field by field, with base_tier_validation's skip switches in the
        context; the clinic manager and even the CFO try the same write instead of the Approve button.
        Refused every time; the review is untouched and the credit note does not post."""
        credit = self.requested(50000.0)
        review = credit.review_ids
        before = self.snapshot(review, REVIEW_FIELDS)
        forged = {"status": "approved", "done_by": self.cfo.id, "reviewed_date": fields.Datetime.now()}
        for user in (self.clerk, self.manager_a, self.manager_b, self.cfo):
            for vals in (forged, *({key: value} for key, value in forged.items()), {"status": "rejected"}):
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    self.as_attacker(review, user).write(vals)
        self.assertEqual(self.snapshot(review, REVIEW_FIELDS), before)
        self.assertNotEqual(credit.validation_status, "validated")
        self.assertStaysDraft(credit, self.clerk)

    def test_review_cannot_be_created_or_deleted(self):
        """Attack: the clerk adds an approved review of their own to the credit note, or deletes the pending one
        so that nothing is left to wait for. Both refused; the one pending review is still there."""
        credit = self.requested(50000.0)
        review = credit.review_ids
        vals = {
            "model": "account.move",
            "res_id": credit.id,
            "definition_id": review.definition_id.id,
            "status": "approved",
            "done_by": self.cfo.id,
            "sequence": 1,
        }
        for attempt in (vals, {**vals, "status": "waiting", "done_by": False}):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                self.as_attacker(self.env["tier.review"], self.clerk).create(attempt)
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_attacker(review, self.clerk).unlink()
        credit.invalidate_recordset()
        self.assertEqual(credit.review_ids, review)
        self.assertIn(review.status, ("waiting", "pending"))
        self.assertStaysDraft(credit, self.clerk)

    def test_comment_wizard_cannot_decide_for_others(self):
        """Attack: the clerk (its author) and the clinic manager (not allowed above the threshold) call the
        comment wizard's "validate" directly with the credit note's review. Refused; nothing is approved."""
        credit = self.requested(50000.0)
        review = credit.review_ids
        before = self.snapshot(review, REVIEW_FIELDS)
        for user in (self.clerk, self.manager_a):
            wizard = self.as_attacker(self.env["comment.wizard"], user).create(
                {
                    "res_model": "account.move",
                    "res_id": credit.id,
                    "review_ids": [Command.set(review.ids)],
                    "validate_reject": "validate",
                    "comment": "Fine by me",
                }
            )
            with self.assertRaises(UserError), self.env.cr.savepoint():
                wizard.add_comment()
        self.assertEqual(self.snapshot(review, REVIEW_FIELDS), before)
        self.assertFalse(review.done_by)
        self.assertStaysDraft(credit, self.clerk)

    # ------------------------------------------------------------------
    # The posting gate
    # ------------------------------------------------------------------

    def test_posting_gate_rechecks_the_approval(self):
        """Attack: an approval that got in by another way (here written straight into the table, as a flaw
        elsewhere might) in the clerk's own name, then Post with every skip switch, or the state written
        directly. The credit note stays in draft: posting itself checks who approved and for how much."""
        credit = self.requested(50000.0)
        self.env.cr.execute(
            "UPDATE tier_review SET status = 'approved', done_by = %s, reviewed_date = now() WHERE id IN %s",
            [self.clerk.id, tuple(credit.review_ids.ids)],
        )
        self.env.cr.execute(
            "UPDATE account_move SET nordic_approved_amount = 50000 WHERE id = %s",
            [credit.id],
        )
        self.env.invalidate_all()
        self.assertEqual(credit.review_ids.status, "approved")
        self.assertStaysDraft(credit, self.clerk)
        self.assertStaysDraft(credit, self.cfo)

    def test_approved_amount_cannot_be_forged(self):
        """Attack: the clerk sets the approved amount or the authors of the credit note (to leave themselves
        out). Refused; both read as the product recorded them."""
        credit = self.make_credit_note(300.0)
        before = self.snapshot(credit, ["nordic_approved_amount", "nordic_author_ids"])
        for vals in (
            {"nordic_approved_amount": 300.0},
            {"nordic_author_ids": [Command.set([])]},
            {"nordic_author_ids": [Command.set(self.manager_b.ids)]},
        ):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                self.as_attacker(credit, self.clerk).write(vals)
        self.assertEqual(self.snapshot(credit, ["nordic_approved_amount", "nordic_author_ids"]), before)
        self.assertEqual(before[0][1], self.clerk)

    def test_raising_the_amount_restarts_the_approval(self):
        """Attack: 100 approved by the clinic manager, then the clerk raises the line to 50 000, writing the
        line directly or through the credit note with the skip switch. The approval is dropped, the credit note
        does not post, and it now waits for the CFO or the CEO."""
        for path in ("line", "move"):
            credit = self.requested(100.0)
            self.approve(credit, self.manager_a)
            self.assertEqual((credit.validation_status, credit.nordic_approved_amount), ("validated", 100.0))
            line = credit.invoice_line_ids
            if path == "line":
                self.as_attacker(line, self.clerk).write({"price_unit": 50000.0})
            else:
                self.as_attacker(credit, self.clerk).write(
                    {"invoice_line_ids": [Command.update(line.id, {"price_unit": 50000.0})]}
                )
            self.assertEqual(credit.nordic_credit_amount_company, 50000.0)
            self.assertFalse(credit.review_ids, "the approval of 100 does not hold for 50 000")
            self.assertEqual(credit.nordic_approved_amount, 0.0)
            self.assertStaysDraft(credit, self.clerk)
            self.assertTrue(credit.nordic_over_threshold)
            self.assertEqual(credit.review_ids.reviewer_ids, self.cfo | self.ceo)
            with self.assertRaises(UserError):
                self.as_user(credit, self.manager_a).validate_tier()

    def test_customer_swap_restarts_the_approval(self):
        """Attack: once the clinic manager approved a credit of 900 to one patient, the clerk gives it to another
        customer (with the skip switch that lets a draft under validation be written). The approval is dropped
        and the credit note does not post."""
        credit = self.requested(900.0)
        self.approve(credit, self.manager_a)
        friend = self.env["res.partner"].create({"name": "Friend of the clerk"})
        self.as_attacker(credit, self.clerk).write({"partner_id": friend.id})
        self.assertFalse(credit.review_ids)
        self.assertStaysDraft(credit, self.clerk)

    def test_mass_posting_wizard_holds_unapproved(self):
        """Attack: the clerk posts their unapproved 50 000 credit note with Odoo's "Post entries" wizard, forced.
        It stays in draft, waiting for the CFO or the CEO."""
        credit = self.requested(50000.0)
        wizard = self.as_attacker(self.env["validate.account.move"], self.clerk).create(
            {"move_ids": [Command.set(credit.ids)], "force_post": True}
        )
        wizard.validate_move()
        self.assertEqual((credit.state, credit.posted_before), ("draft", False))
        self.assertEqual(credit.review_ids.reviewer_ids, self.cfo | self.ceo)

    def test_split_credit_notes_count_together(self):
        """Attack: 8 000 credited on one invoice as two credit notes of 4 000, each under the threshold. The
        second one counts the first: the clinic manager may not approve it, and an approval the manager gave
        while both were drafts does not post once the first is posted."""
        invoice = self.make_clinic_invoice(10000.0)
        first = self.make_credit_note(4000.0)
        second = self.make_credit_note(4000.0)
        (first | second).write({"reversed_entry_id": invoice.id})
        self.as_user(first | second, self.clerk).request_validation()
        self.assertFalse(first.nordic_over_threshold or second.nordic_over_threshold)
        self.approve(first, self.manager_a)
        self.approve(second, self.manager_a)
        self.as_user(first, self.clerk).action_post()
        self.assertEqual(first.state, "posted")
        self.assertEqual(second.nordic_credit_cumulative_company, 8000.0)
        self.assertTrue(second.nordic_over_threshold)
        self.assertStaysDraft(second, self.clerk)
        self.assertNotEqual(second.validation_status, "validated", "the manager's approval was dropped")
        with self.assertRaises(UserError):
            self.as_user(second, self.manager_a).validate_tier()
        self.approve(second, self.cfo)
        self.as_user(second, self.clerk).action_post()
        self.assertEqual(second.state, "posted")

    # ------------------------------------------------------------------
    # Authors
    # ------------------------------------------------------------------

    def test_editor_becomes_author(self):
        """Attack: the clinic manager edits a colleague's draft (to the amount they like) and then approves it;
        an approver who changes an approved draft approves it again. Both refused: whoever changes the lines is
        an author, and another person approves."""
        credit = self.make_credit_note(1000.0)
        self.as_attacker(credit.invoice_line_ids, self.manager_a).write({"price_unit": 1500.0})
        self.assertEqual(credit.nordic_author_ids, self.clerk | self.manager_a)
        self.as_user(credit, self.clerk).request_validation()
        self.assertNotIn(self.manager_a, credit.review_ids.reviewer_ids)
        with self.assertRaises(UserError):
            self.as_user(credit, self.manager_a).validate_tier()
        self.approve(credit, self.cfo)
        self.as_attacker(credit.invoice_line_ids, self.cfo).write({"price_unit": 1400.0})
        self.assertFalse(credit.review_ids)
        self.as_user(credit, self.clerk).request_validation()
        with self.assertRaises(UserError):
            self.as_user(credit, self.cfo).validate_tier()
        self.assertStaysDraft(credit, self.clerk)
        self.approve(credit, self.ceo)
        self.as_user(credit, self.clerk).action_post()
        self.assertEqual(credit.state, "posted")

    # ------------------------------------------------------------------
    # Write-offs, recovery, settings
    # ------------------------------------------------------------------

    def test_writeoff_marks_cannot_be_forged(self):
        """Attack: the clerk marks an invoice as written off (or links a write-off entry to it), and makes a
        journal entry of their own the "write-off" or "recovery" of an invoice. Refused; the invoice is as it
        was, and recovery after a write-off that never happened is refused too."""
        invoice = self.make_clinic_invoice(700.0)
        names = ["nordic_written_off", "nordic_writeoff_date", "nordic_writeoff_move_id", "nordic_writeoff_reason"]
        before = self.snapshot(invoice, names)
        for vals in (
            {"nordic_written_off": True},
            {"nordic_writeoff_date": "2026-03-01"},
            {"nordic_writeoff_reason": "Gone"},
            {"nordic_writeoff_override_reason": "Said so"},
        ):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                self.as_attacker(invoice, self.clerk).write(vals)
        journal = invoice._nordic_default_misc_journal()
        for link in ("nordic_writeoff_invoice_id", "nordic_recovery_invoice_id"):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                self.as_attacker(self.env["account.move"], self.clerk).create(
                    {"move_type": "entry", "journal_id": journal.id, link: invoice.id}
                )
        self.assertEqual(self.snapshot(invoice, names), before)
        wizard = (
            self.as_attacker(self.env["nordic.writeoff.recovery.wizard"], self.clerk)
            .with_context(default_move_id=invoice.id)
            .create({"amount": 100.0})
        )
        with self.assertRaises(UserError):
            wizard.action_confirm()
        self.assertFalse(invoice.nordic_recovery_move_ids)

    def test_writeoff_override_only_by_cfo(self):
        """Attack: the clinic manager and the CEO write off an invoice without a failed collection case by
        giving an override reason. Only a CFO may override; no write-off entry is proposed."""
        invoice = self.make_clinic_invoice(900.0)
        for user in (self.manager_a, self.ceo):
            wizard = (
                self.as_attacker(self.env["nordic.writeoff.wizard"], user)
                .with_context(default_move_id=invoice.id)
                .create({"reason": "Failed", "override_reason": "Trust me"})
            )
            with self.assertRaises(UserError), self.env.cr.savepoint():
                wizard.action_confirm()
        invoice.invalidate_recordset()
        self.assertFalse(invoice.nordic_writeoff_move_id)

    def test_settings_are_not_the_approvers(self):
        """Attack: the clinic manager raises the clinic's threshold or makes the clerk a manager; the CFO names
        themselves manager of a clinic. Refused: the settings belong to the administrator."""
        names = ["nordic_credit_threshold", "nordic_clinic_manager_ids"]
        before = self.snapshot(self.clinic_a, names)
        for user, vals in (
            (self.manager_a, {"nordic_credit_threshold": 100000.0}),
            (self.manager_a, {"nordic_clinic_manager_ids": [Command.link(self.clerk.id)]}),
            (self.cfo, {"nordic_clinic_manager_ids": [Command.link(self.cfo.id)]}),
        ):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                self.as_attacker(self.clinic_a, user).write(vals)
        self.assertEqual(self.snapshot(self.clinic_a, names), before)

    def test_ledger_only_of_own_clinics(self):
        """Attack: the clerk of clinic A asks the head-office ledger wizard for clinic B's receivables (download
        or send). Refused; no file is made and nothing is sent."""
        self.make_clinic_invoice(2500.0, company=self.clinic_b)
        wizard = self.as_attacker(self.env["nordic.hq.ledger.wizard"], self.clerk).create(
            {"company_ids": [Command.set((self.clinic_a | self.clinic_b).ids)], "date": "2026-03-31"}
        )
        mails = self.env["mail.mail"].search_count([])
        for action in (wizard.action_download, wizard.action_send):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                action()
        self.assertFalse(wizard.attachment_id)
        self.assertEqual(self.env["mail.mail"].search_count([]), mails)

    def test_credit_report_is_read_only(self):
        """Attack: the clerk rewrites or deletes a line of the head-office list of credited customers, or adds
        one. Refused: the list is what was posted."""
        credit = self.requested(700.0)
        self.approve(credit, self.manager_a)
        self.as_user(credit, self.clerk).action_post()
        report = self.env["nordic.credit.report"].search([("move_id", "=", credit.id)])
        Report = self.as_attacker(report, self.clerk)
        for attack in (
            lambda: Report.write({"amount": 1.0}),
            lambda: Report.unlink(),
            lambda: Report.create({"move_id": credit.id, "amount": 1.0}),
        ):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                attack()
        report.invalidate_recordset()
        self.assertEqual(report.amount, 700.0)


@tagged("post_install", "-at_install")
class TestCaseWriteOffAttacks(NordicApproveMixin, NordicCollectionCommon):
    """A Dunning user (who may edit collection cases) trying to turn a case into a write-off."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.company_user("nd_case_attacker", "nordic_dunning.group_nordic_dunning_user")

    def test_case_state_is_no_agency_report(self):
        """Attack: the user writes a running case to "failed" themselves and writes the invoice off as a
        confirmed loss, or marks it written off through the case. Refused: only the agency's report of the
        failure is the evidence, and the write-off marks are the product's own (the case only shows them); nothing
        is proposed and the invoice is not marked."""
        case = self.make_case(600.0)
        self.submit(case)
        attacker = case.with_user(self.user).with_context(**FORGED_CONTEXT)
        with self.assertRaises(AccessError):
            attacker.write({"state": "failed"})
        self.assertNotEqual(case.state, "failed")
        invoice = case.move_id
        self.assertIn("no collection case reported as failed", invoice._nordic_writeoff_blockers())
        with self.assertRaises(UserError):
            attacker.action_write_off()
        # The case shows the invoice's mark read-only: writing it through the case does not reach the invoice.
        attacker.write({"written_off": True})
        invoice.invalidate_recordset()
        self.assertEqual((invoice.nordic_writeoff_move_id, invoice.nordic_written_off), (invoice.browse(), False))
