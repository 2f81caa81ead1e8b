from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .approval_common import NordicApprovalCommon


@tagged("post_install", "-at_install")
class TestCreditApproval(NordicApprovalCommon):
    """Who may approve a customer credit note, and what head office learns when it is posted."""

    def assertNotPosted(self, move):
        """Posting an unapproved credit note leaves it in draft, says who must approve, and books nothing;
        writing its state directly is refused."""
        result = move.action_post()
        self.assertEqual(move.state, "draft")
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn("waits for the approval", result["params"]["message"])
        with self.assertRaises(ValidationError):
            move.write({"state": "posted"})

    def test_manager_approves_up_to_threshold(self):
        """The clinic's manager approves 4 999 with a comment; the credit note then posts and HQ gets a mail."""
        credit = self.make_credit_note(4999.0)
        self.assertFalse(credit.nordic_over_threshold)
        self.as_user(credit, self.clerk).request_validation()
        self.assertNotPosted(self.as_user(credit, self.clerk))
        self.assertEqual(credit.state, "draft", "posting is blocked until approved")
        self.approve(credit, self.manager_a, "Treatment redone")
        self.assertEqual(credit.validation_status, "validated")
        self.assertIn("Treatment redone", "".join(credit.message_ids.mapped("body")))
        self.as_user(credit, self.clerk).action_post()
        self.assertEqual(credit.state, "posted")
        mail = self.env["mail.mail"].search([("model", "=", "account.move"), ("res_id", "=", credit.id)])
        self.assertEqual(mail.email_to, "hq@example.com")
        self.assertIn("Patient Ada", mail.body_html)
        report = self.env["nordic.credit.report"].search([("move_id", "=", credit.id)])
        self.assertEqual(
            (report.kind, report.company_id, report.partner_id, report.amount),
            ("credit_note", self.clinic_a, self.customer, 4999.0),
        )

    def test_manager_cannot_approve_above_threshold(self):
        """5 001 is for the CFO or the CEO only: the clinic manager is refused, the CFO approves."""
        credit = self.make_credit_note(5001.0)
        self.assertTrue(credit.nordic_over_threshold)
        self.as_user(credit, self.clerk).request_validation()
        with self.assertRaises(UserError):
            self.as_user(credit, self.manager_a).validate_tier()
        self.approve(credit, self.cfo)
        self.assertEqual(credit.validation_status, "validated")
        self.as_user(credit, self.clerk).action_post()
        self.assertEqual(credit.state, "posted")

    def test_nobody_approves_their_own(self):
        """The creator is never a reviewer: not the manager of their clinic, not the CFO above the threshold."""
        own = self.make_credit_note(1000.0, user=self.manager_a)
        self.as_user(own, self.manager_a).request_validation()
        self.assertNotIn(self.manager_a, own.review_ids.reviewer_ids)
        with self.assertRaises(UserError):
            self.as_user(own, self.manager_a).validate_tier()
        self.assertNotPosted(self.as_user(own, self.manager_a))
        big = self.make_credit_note(9000.0, user=self.cfo)
        self.as_user(big, self.cfo).request_validation()
        with self.assertRaises(UserError):
            self.as_user(big, self.cfo).validate_tier()
        self.approve(big, self.ceo)
        self.assertEqual(big.validation_status, "validated")

    def test_posting_never_approves_silently(self):
        """A reviewer who posts instead of approving gets the validation error: approvals need a comment."""
        credit = self.make_credit_note(800.0)
        self.assertNotPosted(self.as_user(credit, self.manager_a))
        self.assertEqual(credit.state, "draft")

    def test_other_clinic_manager_cannot_approve(self):
        """The manager of clinic B can neither approve nor reject a credit note of clinic A."""
        credit = self.make_credit_note(300.0)
        self.as_user(credit, self.clerk).request_validation()
        self.assertNotIn(self.manager_b, credit.review_ids.reviewer_ids)
        with self.assertRaises(UserError):
            self.as_user(credit, self.manager_b).validate_tier()
        with self.assertRaises(UserError):
            self.as_user(credit, self.manager_b).reject_tier()

    def test_rejection_is_commented(self):
        """A rejection carries its comment into the chatter and the credit note cannot be posted."""
        credit = self.make_credit_note(200.0)
        self.as_user(credit, self.clerk).request_validation()
        action = self.as_user(credit, self.manager_a).reject_tier()
        self.as_user(self.env["comment.wizard"], self.manager_a).with_context(**action["context"]).create(
            {"comment": "No reason given"}
        ).add_comment()
        self.assertEqual(credit.validation_status, "rejected")
        self.assertIn("No reason given", "".join(credit.message_ids.mapped("body")))
        self.assertNotPosted(self.as_user(credit, self.clerk))

    def test_foreign_currency_converted_at_credit_note_date(self):
        """500 EUR is 5 000 at the March rate (manager) but 6 250 at the June rate (CFO or CEO)."""
        eur = self.setup_other_currency("EUR", rates=[("2026-01-01", 0.1), ("2026-06-01", 0.08)])
        march = self.make_credit_note(500.0, currency=eur, date="2026-03-10")
        june = self.make_credit_note(500.0, currency=eur, date="2026-06-10")
        self.assertEqual(march.nordic_credit_amount_company, 5000.0)
        self.assertFalse(march.nordic_over_threshold, "exactly the threshold is the manager's")
        self.assertEqual(june.nordic_credit_amount_company, 6250.0)
        self.assertTrue(june.nordic_over_threshold)
        self.as_user(march | june, self.clerk).request_validation()
        self.approve(march, self.manager_a)
        with self.assertRaises(UserError):
            self.as_user(june, self.manager_a).validate_tier()

    def test_common_helper_approves(self):
        """The shared test helper approves a credit note of the main company as a CFO so it can be posted."""
        credit = self.make_credit_note(9999.0, user=self.cfo, company=self.company)
        self.nordic_approve(credit)
        credit.action_post()
        self.assertEqual(credit.state, "posted")

    def test_threshold_is_a_company_setting(self):
        """Raising the clinic's threshold moves a 5 001 credit note back to its manager."""
        self.clinic_a.nordic_credit_threshold = 10000.0
        credit = self.make_credit_note(5001.0)
        self.assertFalse(credit.nordic_over_threshold)
