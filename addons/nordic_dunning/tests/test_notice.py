"""One reminder per customer: a run's notices, their letters (many per wkhtmltopdf call, split per notice) and
e-mails, idempotent, and written by the product only."""

import io
import subprocess
from datetime import date

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools.pdf import PdfReader

from ..tools.system import as_system
from .common import NordicDunningCommon


def pdf_text(content):
    """The text a debtor reads in ``content`` (a PDF), by pdftotext (poppler-utils)."""
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    ).stdout.decode()


@tagged("post_install", "-at_install")
class TestNotices(NordicDunningCommon):
    """Notices of a run: grouping, documents, idempotence and the guarantees around them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sale_journal.invoice_reference_model = "se_ocr2"
        cls.other = cls.env["res.partner"].create(
            {"name": "Patient Bo", "email": "bo@example.com", "lang": "en_US", "city": "Uppsala"}
        )

    def notice_mails(self, notices):
        return self.env["mail.mail"].search([("model", "=", "nordic.dunning.notice"), ("res_id", "in", notices.ids)])

    def test_combined_letter_and_email(self):
        """A customer with three overdue invoices gets one notice: one PDF listing the three invoice numbers
        and OCR references and the total, one e-mail with that PDF attached; each event records both."""
        self.customer.write({"nordic_fee_agreed": True, "nordic_fee_agreed_date": date(2026, 1, 1)})
        invoices = [self.make_invoice(amount, due=date(2026, 4, 1)) for amount in (1000.0, 2000.0, 3000.0)]
        run = self.build_run(date(2026, 4, 10))
        self.confirm_and_send(run)
        events = run.event_ids
        self.assertEqual(len(events), 3)
        notice = events.notice_id
        self.assertEqual(len(notice), 1)
        self.assertEqual((notice.event_ids, notice.event_count, notice.partner_id), (events, 3, self.customer))
        self.assertAlmostEqual(notice.amount_total, sum(events.mapped("amount_total")), places=2)
        self.assertEqual(notice.fee_amount, 3 * 60.0, "the fee stays per invoice: three claims, three fees")
        self.assertTrue(notice.attachment_id.raw.startswith(b"%PDF"))
        self.assertEqual(notice.attachment_id.res_model, "nordic.dunning.notice")
        text = pdf_text(notice.attachment_id.raw)
        for invoice in invoices:
            self.assertIn(invoice.name, text)
            self.assertIn(invoice.payment_reference, text)
        self.assertIn(f"{notice.amount_total:,.2f}", text)
        self.assertIn("Pay by", text)
        mails = self.notice_mails(notice)
        self.assertEqual(len(mails), 1)
        self.assertIn(notice.attachment_id, mails.attachment_ids)
        self.assertEqual(mails.recipient_ids, self.customer)
        for invoice in invoices:
            self.assertIn(invoice.payment_reference, mails.body_html)
        self.assertEqual(events.letter_attachment_id, notice.attachment_id)
        self.assertEqual(events.mail_message_id, notice.mail_message_id)
        self.assertEqual(notice.mail_message_id, mails.mail_message_id)
        self.assertEqual(len(events.filtered("letter_attachment_id")), 3)
        self.assertEqual(len(events.filtered("mail_message_id")), 3)

    def test_option_off_one_notice_per_invoice(self):
        """With "One reminder per customer" off, each invoice has its own notice and its own e-mail."""
        self.policy.combine_notices = False
        for amount in (1000.0, 2000.0):
            self.make_invoice(amount, due=date(2026, 4, 1))
        run = self.build_run(date(2026, 4, 10))
        self.confirm_and_send(run, letters=False)
        notices = run.notice_ids
        self.assertEqual(len(notices), 2)
        self.assertEqual(notices.mapped("event_count"), [1, 1])
        self.assertEqual(len(self.notice_mails(notices)), 2)
        self.assertEqual(len(run.event_ids.mail_message_id), 2)

    def test_two_customers_split_per_notice(self):
        """Two customers in one run: two notices, rendered in one call and split so that each stored PDF holds
        only its own customer's invoices, a long letter over several pages included."""
        many = [self.make_invoice(100.0 + i, due=date(2026, 4, 1)) for i in range(60)]
        single = self.make_invoice(700.0, due=date(2026, 4, 1), partner=self.other)
        run = self.build_run(date(2026, 4, 10))
        self.confirm_and_send(run)
        self.assertEqual(len(run.notice_ids), 2)
        by_partner = {notice.partner_id: notice for notice in run.notice_ids}
        long_pdf = by_partner[self.customer].attachment_id.raw
        short_pdf = by_partner[self.other].attachment_id.raw
        self.assertGreater(len(PdfReader(io.BytesIO(long_pdf)).pages), 1, "60 invoices take more than a page")
        long_text, short_text = pdf_text(long_pdf), pdf_text(short_pdf)
        for invoice in many:
            self.assertIn(invoice.payment_reference, long_text)
            self.assertNotIn(invoice.payment_reference, short_text)
        self.assertIn(single.payment_reference, short_text)
        self.assertNotIn(single.payment_reference, long_text)
        self.assertIn("Patient Bo", short_text)
        self.assertNotIn("Patient Bo", long_text)
        # The run's print batch is the stored letters merged, not a new rendering.
        action = run.action_print_letters()
        batch = run.letter_attachment_id
        self.assertIn(str(batch.id), action["url"])
        pages = len(PdfReader(io.BytesIO(long_pdf)).pages) + len(PdfReader(io.BytesIO(short_pdf)).pages)
        self.assertEqual(len(PdfReader(io.BytesIO(batch.raw)).pages), pages)

    def test_second_call_creates_nothing(self):
        """Rendering and sending again the same events (a retried job) writes no notice, no PDF, no e-mail."""
        self.make_invoice(1000.0, due=date(2026, 4, 1))
        self.make_invoice(500.0, due=date(2026, 4, 1), partner=self.other)
        run = self.build_run(date(2026, 4, 10))
        self.confirm_and_send(run)
        events = run.event_ids
        Attachment = self.env["ir.attachment"]
        counts = (
            len(run.notice_ids),
            Attachment.search_count([("res_model", "=", "nordic.dunning.notice")]),
            len(self.notice_mails(run.notice_ids)),
        )
        documents = [(e.notice_id, e.letter_attachment_id, e.mail_message_id) for e in events]
        self.assertEqual(counts, (2, 2, 2))
        run._render_letters(events)
        run._send_emails(events)
        as_system(run)._communicate(events)
        run.invalidate_recordset()
        events.invalidate_recordset()
        self.assertEqual(
            (
                len(run.notice_ids),
                Attachment.search_count([("res_model", "=", "nordic.dunning.notice")]),
                len(self.notice_mails(run.notice_ids)),
            ),
            counts,
        )
        self.assertEqual([(e.notice_id, e.letter_attachment_id, e.mail_message_id) for e in events], documents)

    def test_email_without_letter_is_sent_then_letter_added(self):
        """Confirmed without letters (benchmarks, demo data), the e-mail goes without PDF; a later letter job
        renders the notice's PDF and records it on the events, without a second e-mail."""
        self.make_invoice(1000.0, due=date(2026, 4, 1))
        run = self.build_run(date(2026, 4, 10))
        self.confirm_and_send(run, letters=False)
        notice = run.notice_ids
        self.assertFalse(notice.attachment_id)
        self.assertFalse(self.notice_mails(notice).attachment_ids)
        run._render_letters(run.event_ids)
        self.assertTrue(notice.attachment_id)
        self.assertEqual(run.event_ids.letter_attachment_id, notice.attachment_id)
        self.assertEqual(len(self.notice_mails(notice)), 1)

    def test_notices_are_written_by_the_product_only(self):
        """Attack over RPC (a user's and a manager's rights, any context): create, rewrite or delete a notice,
        or point an event at another notice. All refused; nothing changed."""
        self.make_invoice(1000.0, due=date(2026, 4, 1))
        self.make_invoice(500.0, due=date(2026, 4, 1), partner=self.other)
        run = self.build_run(date(2026, 4, 10))
        self.confirm_and_send(run, letters=False)
        notice, other_notice = run.notice_ids.sorted(lambda n: n.partner_id != self.customer)
        event = notice.event_ids
        forged = {"nordic_dunning_system": True, "tracking_disable": True}
        user = self.company_user("nd_notice_user", "nordic_dunning.group_nordic_dunning_user")
        manager = self.company_user("nd_notice_manager", "nordic_dunning.group_nordic_dunning_manager")
        vals = {
            "run_id": run.id,
            "partner_id": self.customer.id,
            "level_id": self.levels[0].id,
            "company_id": self.company.id,
            "currency_id": self.company.currency_id.id,
            "date": date(2026, 4, 10),
        }
        for attacker in (user, manager):
            notices = self.env["nordic.dunning.notice"].with_user(attacker).with_context(**forged)
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                notices.create(vals)
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                notices.browse(notice.id).write({"amount_total": 1.0})
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                notices.browse(notice.id).unlink()
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                event.with_user(attacker).with_context(**forged).write({"notice_id": other_notice.id})
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                run.with_user(attacker).with_context(**forged).write({"notice_ids": [(3, notice.id)]})
        # Not even the product's own path replaces a recorded notice or deletes one.
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.env["nordic.dunning.notice"].create(vals)
        with self.assertRaises(UserError), self.env.cr.savepoint():
            notice.sudo().unlink()
        event.invalidate_recordset()
        self.assertEqual((event.notice_id, notice.amount_total), (notice, event.amount_total))
