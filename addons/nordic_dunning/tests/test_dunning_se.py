import subprocess
from datetime import date

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import NordicDunningCommon


@tagged("post_install", "-at_install")
class TestDunningSE(NordicDunningCommon):
    """The Swedish clinic routine of seed 002, day by day."""

    country_code = "SE"

    def test_routine_around_easter(self):
        """Reminder 1 five business days after due (Easter skipped), paid by six days later; reminder 2 five
        business days after reminder 1, once that last day has passed; hand-over five business days after
        reminder 2, after its last day to pay; nothing on the days before."""
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        self.assertEqual(invoice.nordic_next_dunning_date, date(2026, 4, 10))
        self.assertEqual(invoice.nordic_dunning_next_level_id, self.levels[0])
        self.assertFalse(self.build_run(date(2026, 4, 9)), "Good Friday and Easter Monday are not business days")

        run = self.build_run(date(2026, 4, 10))
        self.assertEqual(run.line_ids.move_id, invoice)
        event = self.confirm(run)
        self.assertEqual(run.state, "done")
        self.assertEqual(
            (event.level_id, event.date, event.amount_residual), (self.levels[0], date(2026, 4, 10), 1000.0)
        )
        self.assertEqual(event.deadline_date, date(2026, 4, 16))
        self.assertEqual(invoice.nordic_dunning_level_id, self.levels[0])
        self.assertEqual(invoice.nordic_dunning_state, "in_dunning")
        self.assertEqual(invoice.nordic_next_dunning_date, date(2026, 4, 17))

        self.assertFalse(self.build_run(date(2026, 4, 16)))
        second = self.confirm(self.build_run(date(2026, 4, 17)))
        self.assertEqual(second.deadline_date, date(2026, 4, 22))
        self.assertEqual(invoice.nordic_dunning_level_id, self.levels[1])
        self.assertEqual(invoice.nordic_next_dunning_date, date(2026, 4, 24), "five business days to the hand-over")

        self.assertFalse(self.build_run(date(2026, 4, 23)))
        self.confirm(self.build_run(date(2026, 4, 24)))
        self.assertEqual(invoice.nordic_dunning_state, "handed_over")
        self.assertFalse(invoice.nordic_next_dunning_date)
        self.assertEqual(invoice.nordic_dunning_event_ids.mapped("level_sequence"), [3, 2, 1])
        self.assertFalse(self.build_run(date(2026, 5, 30)), "nothing after the last level")

    def test_branch_follows_head_office_policy(self):
        """A clinic (a branch of the head office) is dunned by the head office's policy, in its own company."""
        self.company.write({"child_ids": [Command.create({"name": "Klinik Solna"})]})
        self.cr.precommit.run()  # the branch's accounting setup
        clinic = self.company.child_ids
        self.env.user.company_ids |= clinic
        invoice = self.make_invoice(700.0, due=date(2026, 4, 1), company=clinic)
        self.assertEqual(invoice.company_id, clinic)
        self.assertEqual(invoice.nordic_dunning_policy_id, self.policy)
        event = self.confirm(self.build_run(date(2026, 4, 10)))
        self.assertEqual((event.move_id, event.company_id), (invoice, clinic))

    def test_weekend_due_date(self):
        """Due on a Saturday: the five business days start on Monday."""
        invoice = self.make_invoice(500.0, due=date(2026, 3, 7))
        self.assertEqual(invoice.nordic_next_dunning_date, date(2026, 3, 13))

    def test_no_fee_without_agreement(self):
        """A Swedish reminder fee is charged only when the customer agreed to it before the debt arose."""
        agreed = self.customer.copy(
            {"name": "Agreed", "nordic_fee_agreed": True, "nordic_fee_agreed_date": date(2026, 1, 1)}
        )
        late = self.customer.copy(
            {"name": "Agreed late", "nordic_fee_agreed": True, "nordic_fee_agreed_date": date(2026, 4, 5)}
        )
        inv_plain = self.make_invoice(1000.0, due=date(2026, 4, 1))
        inv_agreed = self.make_invoice(1000.0, due=date(2026, 4, 1), partner=agreed)
        inv_late = self.make_invoice(1000.0, due=date(2026, 4, 1), partner=late)
        events = self.confirm(self.build_run(date(2026, 4, 10)))
        fees = {e.move_id: e.fee_amount for e in events}
        self.assertEqual(fees, {inv_plain: 0.0, inv_agreed: 60.0, inv_late: 0.0})
        fee_event = events.filtered(lambda e: e.move_id == inv_agreed)
        self.assertTrue(fee_event.fee_charged)
        line = fee_event.fee_move_line_id
        self.assertEqual(
            (line.partner_id, line.debit, line.account_id.account_type), (agreed, 60.0, "asset_receivable")
        )
        self.assertFalse(line.move_id.line_ids.tax_ids, "a reminder fee carries no VAT")
        income = line.move_id.line_ids - line
        self.assertEqual((income.account_id.code, income.credit), ("3930", 60.0), "BAS 3930 Påminnelseavgifter")
        self.assertEqual(line.move_id.state, "posted")

    def test_never_sent_invoice_gets_nothing(self):
        """Seed 000: an invoice never sent gets no line, no event, no fee; the run lists it instead."""
        unsent = self.make_invoice(800.0, due=date(2026, 4, 1), sent=False)
        sent = self.make_invoice(900.0, due=date(2026, 4, 1))
        run = self.build_run(date(2026, 4, 10))
        self.assertEqual(run.line_ids.move_id, sent)
        self.assertEqual(run.unsent_move_ids, unsent)
        self.confirm(run)
        self.assertFalse(unsent.nordic_dunning_event_ids)
        unsent.action_nordic_attest_sent()
        self.assertTrue(unsent.nordic_is_sent)
        self.assertEqual(unsent.nordic_sent_attested_by_id, self.env.user)
        self.assertEqual(self.build_run(date(2026, 4, 10)).line_ids.move_id, unsent)

    def test_confirm_refuses_unsent_line(self):
        """A line whose invoice lost its proof of sending stops the whole confirmation, naming it."""
        invoice = self.make_invoice(800.0, due=date(2026, 4, 1))
        other = self.make_invoice(700.0, due=date(2026, 4, 1))
        run = self.build_run(date(2026, 4, 10))
        invoice.is_move_sent = False
        with self.assertRaisesRegex(UserError, invoice.name):
            run.action_confirm()
        self.assertFalse((invoice | other).nordic_dunning_event_ids)

    def test_excluded_customer_and_invoice(self):
        """Excluded customers and invoices never enter a run."""
        excluded_partner = self.customer.copy({"name": "Excluded", "nordic_dunning_excluded": True})
        self.make_invoice(800.0, due=date(2026, 4, 1), partner=excluded_partner)
        held = self.make_invoice(800.0, due=date(2026, 4, 1))
        held.write({"nordic_dunning_excluded": True, "nordic_dunning_exclude_reason": "Payment plan"})
        self.assertFalse(self.build_run(date(2026, 4, 10)))

    def test_paid_invoice_is_skipped(self):
        """An invoice paid between the proposal and the confirmation is skipped, not dunned."""
        invoice = self.make_invoice(800.0, due=date(2026, 4, 1))
        run = self.build_run(date(2026, 4, 10))
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=invoice.ids).create(
            {"payment_date": date(2026, 4, 10)}
        )._create_payments()
        self.confirm(run)
        self.assertEqual(run.line_ids.state, "skipped")
        self.assertFalse(invoice.nordic_dunning_event_ids)

    def test_stopped_line(self):
        """A stopped line is kept for the record and not executed."""
        invoice = self.make_invoice(800.0, due=date(2026, 4, 1))
        run = self.build_run(date(2026, 4, 10))
        run.line_ids.action_stop()
        self.confirm(run)
        self.assertFalse(invoice.nordic_dunning_event_ids)
        self.assertEqual(run.line_ids.state, "stopped")

    def test_events_are_immutable(self):
        """Events can be neither edited nor deleted."""
        self.make_invoice(800.0, due=date(2026, 4, 1))
        event = self.confirm(self.build_run(date(2026, 4, 10)))
        with self.assertRaises(UserError):
            event.amount_residual = 1.0
        with self.assertRaises(UserError):
            event.unlink()

    def test_illegal_fee_refused(self):
        """A 100 kr Swedish reminder fee is refused, citing the law."""
        with self.assertRaisesRegex(ValidationError, "1981:739"):
            self.levels[0].fee_amount = 100.0

    def test_interest_rate_change_partial_payment(self):
        """Interest from the due date at reference rate + 8, split at 1 July 2025 and lowered by a partial payment."""
        invoice = self.make_invoice(10000.0, due=date(2025, 6, 15), invoice_date=date(2025, 6, 1))
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=invoice.ids).create(
            {"payment_date": date(2025, 8, 1), "amount": 4000.0}
        )._create_payments()
        self.assertEqual(invoice.amount_residual, 6000.0)
        run = self.env["nordic.dunning.run"].create({"policy_id": self.policy.id, "date": date(2025, 9, 30)})
        run.action_generate()
        self.assertEqual(run.line_ids.interest_amount, 231.78)
        event = self.confirm(run)
        self.assertEqual((event.amount_residual, event.interest_amount, event.interest_rate), (6000.0, 231.78, 10.0))
        self.assertEqual(event.amount_total, 6231.78)

    def test_letter_renders_with_reference(self):
        """The letter renders to a PDF whose own text carries the OCR reference and the amount (read by pdftotext)."""
        self.sale_journal.invoice_reference_model = "se_ocr2"
        invoice = self.make_invoice(1234.0, due=date(2026, 4, 1))
        self.assertTrue(invoice.payment_reference.isdigit())
        event = self.confirm(self.build_run(date(2026, 4, 10)))
        self.assertEqual(event.payment_reference, invoice.payment_reference)
        html, _fmt = self.env["ir.actions.report"]._render_qweb_html(
            "nordic_dunning.report_dunning_letter", event.notice_id.ids
        )
        html = html.decode()
        self.assertIn(invoice.payment_reference, html)
        self.assertIn("1,234.00", html)
        self.assertIn("thousand", html.lower(), "the amount in words")
        pdf, fmt = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("nordic_dunning.report_dunning_letter", event.notice_id.ids)
        )
        self.assertEqual(fmt, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        # What the debtor receives is the PDF: the reference and the amount must be in its text, in the body.
        text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
        text = text.decode()
        self.assertIn(invoice.payment_reference, text)
        self.assertIn("1,234.00", text)

    def test_letter_in_customer_language(self):
        """A Swedish patient's letter is in Swedish, amount in words included (sv.po and num2words)."""
        self.env["res.lang"]._activate_lang("sv_SE")
        self.env["ir.module.module"]._load_module_terms(["nordic_dunning"], ["sv_SE"])
        self.customer.lang = "sv_SE"
        self.make_invoice(1000.0, due=date(2026, 4, 1))
        event = self.confirm(self.build_run(date(2026, 4, 10)))
        html = self.env["ir.actions.report"]._render_qweb_html(
            "nordic_dunning.report_dunning_letter", event.notice_id.ids
        )[0]
        html = html.decode()
        self.assertIn("Betalningspåminnelse", html)
        self.assertIn("tusen", html.lower(), "the amount in Swedish words")

    def test_email_sent_with_confirmation(self):
        """Confirming a level with the e-mail channel queues the reminder e-mail and links it to the event."""
        self.make_invoice(800.0, due=date(2026, 4, 1))
        run = self.build_run(date(2026, 4, 10))
        self.confirm_and_send(run, letters=False)
        event = run.event_ids
        self.assertTrue(event.mail_message_id)
        self.assertIn("800.00", event.mail_message_id.body)


@tagged("post_install", "-at_install")
class TestRunQueries(NordicDunningCommon):
    """A run's cost grows with batches, not with invoices."""

    def _build_queries(self, count, day):
        for _i in range(count):
            self.make_invoice(100.0, due=date(2026, 4, 1))
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        run = self.build_run(day)
        self.env.flush_all()
        self.assertEqual(len(run.line_ids), count)
        return self.cr.sql_log_count - before

    def test_build_queries_constant(self):
        """Building a run of 30 invoices takes no more queries than a run of 3."""
        small = self._build_queries(3, date(2026, 4, 10))
        self.env["nordic.dunning.run"].search([]).action_cancel()
        self.env["account.move"].search([("move_type", "=", "out_invoice")]).write({"nordic_dunning_excluded": True})
        large = self._build_queries(30, date(2026, 4, 10))
        self.assertLessEqual(large, small + 2, f"{small} queries for 3 invoices, {large} for 30")


@tagged("post_install", "-at_install")
class TestLateInterestWhenPaid(NordicDunningCommon):
    """Interest charged once an invoice is paid late."""

    def test_interest_invoice_after_late_payment(self):
        """An invoice paid 30 days late gets its late interest charged once, on the interest account."""
        self.policy.interest_mode = "charge_when_paid"
        invoice = self.make_invoice(10000.0, due=date(2026, 3, 2))
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=invoice.ids).create(
            {"payment_date": date(2026, 4, 1)}
        )._create_payments()
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        lines = self.policy._charge_late_interest(date(2026, 4, 2))
        # 10000 * 10 % * 30 / 365 = 82.19
        self.assertEqual(
            (lines.debit, lines.partner_id, invoice.nordic_late_interest_line_id), (82.19, self.customer, lines)
        )
        self.assertEqual((lines.move_id.line_ids - lines).account_id.code, "8313")
        self.assertFalse(self.policy._charge_late_interest(date(2026, 4, 3)), "charged only once")


@tagged("post_install", "-at_install")
class TestBusinessCompensation(NordicDunningCommon):
    """Lag (1981:739) 4 a §: a business debtor owes 450 kr förseningsersättning once per late invoice."""

    def test_once_per_invoice_and_never_to_consumers(self):
        """With the policy's compensation on, a company's first reminder carries 450 kr, booked on its account
        with the fee; its second reminder none; a consumer's reminder none."""
        self.policy.b2b_compensation = True
        company = self.customer.copy({"name": "Tandteknik AB", "is_company": True})
        business = self.make_invoice(1000.0, due=date(2026, 4, 1), partner=company)
        consumer = self.make_invoice(1000.0, due=date(2026, 4, 1))
        run = self.build_run(date(2026, 4, 10))
        by_move = {line.move_id: line.compensation_amount for line in run.line_ids}
        self.assertEqual(by_move, {business: 450.0, consumer: 0.0})
        events = self.confirm(run)
        event = events.filtered(lambda e: e.move_id == business)
        self.assertEqual(event.amount_total, 1450.0 + event.interest_amount)
        self.assertTrue(event.fee_charged)
        self.assertEqual(event.fee_move_line_id.debit, 450.0)
        self.assertEqual(event.fee_move_line_id.partner_id, company)
        second = self.confirm(self.build_run(date(2026, 4, 17)))
        self.assertEqual(second.mapped("compensation_amount"), [0.0, 0.0], "once per invoice")

    def test_off_by_default(self):
        """A policy that does not ask for it charges nobody."""
        company = self.customer.copy({"name": "Tandteknik AB", "is_company": True})
        self.make_invoice(1000.0, due=date(2026, 4, 1), partner=company)
        self.assertEqual(self.build_run(date(2026, 4, 10)).line_ids.compensation_amount, 0.0)

    def test_fees_set_off_against_compensation(self):
        """Lag (1981:739) 4 a § third paragraph: a creditor that gets förseningsersättning gets reminder fees only
        where they exceed it. A company that agreed to 60 kr reminder fees pays 450 kr with its first reminder and
        no fee with either reminder; one already charged a 60 kr fee before the policy charged compensation pays
        390 kr more, 450 kr in all."""
        agreed = {"nordic_fee_agreed": True, "nordic_fee_agreed_date": date(2026, 1, 1), "is_company": True}
        early = self.customer.copy({"name": "Tandteknik AB", **agreed})
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1), partner=early)
        self.policy.b2b_compensation = False
        first = self.confirm(self.build_run(date(2026, 4, 10)))
        self.assertEqual((first.fee_amount, first.compensation_amount), (60.0, 0.0))
        self.policy.b2b_compensation = True
        fresh = self.customer.copy({"name": "Labbet AB", **agreed})
        other = self.make_invoice(1000.0, due=date(2026, 4, 1), partner=fresh)
        run = self.build_run(date(2026, 4, 10))
        self.assertEqual(
            [(line.move_id, line.fee_amount, line.compensation_amount) for line in run.line_ids], [(other, 0.0, 450.0)]
        )
        event = self.confirm(run)
        self.assertEqual(
            (event.fee_amount, event.compensation_amount, event.fee_move_line_id.debit), (0.0, 450.0, 450.0)
        )
        second = {e.move_id: e for e in self.confirm(self.build_run(date(2026, 4, 17)))}
        self.assertEqual((second[invoice].fee_amount, second[invoice].compensation_amount), (0.0, 390.0))
        self.assertEqual((second[other].fee_amount, second[other].compensation_amount), (0.0, 0.0))
        charged = invoice.nordic_dunning_event_ids.sorted("date").mapped(lambda e: e.fee_amount + e.compensation_amount)
        self.assertEqual(charged, [60.0, 390.0])
