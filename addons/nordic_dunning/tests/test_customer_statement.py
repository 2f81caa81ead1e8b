import io
import subprocess
from datetime import date

import openpyxl

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import NordicDunningCommon

STATEMENT_DAY = date(2026, 4, 20)


@tagged("post_install", "-at_install")
class TestCustomerStatement(NordicDunningCommon, HttpCase):
    """The customer statement: open items with dunning state, fees and interest, as PDF, XLSX and e-mail."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("sv_SE")
        cls.env["ir.module.module"]._load_module_terms(["nordic_dunning"], ["sv_SE"])
        cls.customer.write(
            {"lang": "sv_SE", "nordic_fee_agreed": True, "nordic_fee_agreed_date": date(2026, 1, 1), "ref": "K-7"}
        )
        cls.sale_journal.invoice_reference_model = "se_ocr2"
        cls.unpaid = cls.make_invoice(1000.0, due=date(2026, 4, 1))
        cls.partly_paid = cls.make_invoice(2000.0, due=date(2026, 4, 1))
        cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=cls.partly_paid.ids
        ).create({"payment_date": date(2026, 4, 5), "amount": 500.0})._create_payments()
        run = cls.env["nordic.dunning.run"]._build_for_policies(cls.policy, date(2026, 4, 10))
        cls.confirm_and_send(run, letters=False)
        cls.events = run.event_ids
        # Contact Creation, which Odoo gives internal users by default, lets the user post on the customer.
        cls.user = cls.company_user(
            "statement_user", "nordic_dunning.group_nordic_dunning_user,base.group_partner_manager"
        )

    def item(self, data, move):
        return next(line for line in data["lines"] if line["number"] == move.name)

    def test_statement_content(self):
        """Two open invoices, one partly paid, each reminded with a 60 kr fee: the statement lists both with
        original and open amounts, 19 days overdue, the fee charged and the interest accrued to the day
        (10 % a year: 1000 x 19 days = 5.21; 2000 x 4 days + 1500 x 15 days = 8.36), the two fee entries as
        open items of their own, and totals."""
        self.assertEqual(self.events.mapped("fee_amount"), [60.0, 60.0])
        data = self.customer.with_user(self.user)._nordic_statement_data(STATEMENT_DAY)
        unpaid, partly = self.item(data, self.unpaid), self.item(data, self.partly_paid)
        self.assertEqual(
            (unpaid["original"], unpaid["open"], unpaid["days_overdue"], unpaid["fees"], unpaid["interest_accrued"]),
            (1000.0, 1000.0, 19, 60.0, 5.21),
        )
        self.assertEqual(
            (partly["original"], partly["open"], partly["days_overdue"], partly["fees"], partly["interest_accrued"]),
            (2000.0, 1500.0, 19, 60.0, 8.36),
        )
        self.assertEqual(unpaid["reference"], self.unpaid.payment_reference)
        self.assertTrue(unpaid["reference"].isdigit(), "the OCR reference")
        self.assertEqual(unpaid["level"], self.levels[0].name)
        self.assertTrue(unpaid["state"])
        fee_lines = [line for line in data["lines"] if line["number"] not in (self.unpaid.name, self.partly_paid.name)]
        self.assertEqual(sorted(line["open"] for line in fee_lines), [60.0, 60.0])
        self.assertEqual(
            sorted(line["label"] for line in fee_lines),
            sorted(f"Reminder fee for {move.name}" for move in (self.unpaid, self.partly_paid)),
        )
        self.assertEqual(
            (data["totals"]["open"], data["totals"]["fees"], data["totals"]["interest_accrued"], data["totals"]["due"]),
            (2620.0, 120.0, 13.57, 2633.57),
        )

    def test_pdf_in_customer_language(self):
        """The PDF is in the customer's language (sv_SE: ISO dates, 1 500,00 with a comma, the dunning state
        in Swedish), and its text carries the invoices, the open amounts and the OCR references."""
        report = self.env["ir.actions.report"].with_user(self.user)
        html = report._render_qweb_html("nordic_dunning.report_customer_statement", self.customer.ids)[0].decode()
        self.assertIn("1\N{NO-BREAK SPACE}500,00", html.replace(" ", "\N{NO-BREAK SPACE}"))
        self.assertIn("2026-04-01", html, "sv_SE dates")
        self.assertNotIn("04/01/2026", html)
        self.assertIn("Under kravhantering", html, "the dunning state in Swedish")
        pdf, fmt = report.with_context(force_report_rendering=True)._render_qweb_pdf(
            "nordic_dunning.report_customer_statement", self.customer.ids
        )
        self.assertEqual(fmt, "pdf")
        text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
        text = text.decode()
        for expected in (self.unpaid.name, self.partly_paid.name, self.unpaid.payment_reference, "2026-04-01"):
            self.assertIn(expected, text)
        self.assertIn("500,00", text)

    def test_xlsx_over_http(self):
        """The XLSX downloaded over HTTP (the partner form's button) shows the same numbers as the statement."""
        action = self.customer.with_user(self.user).action_nordic_statement_xlsx()
        self.authenticate("statement_user", "statement_user")
        response = self.url_open(action["url"])
        self.assertEqual(response.status_code, 200)
        self.assertIn("spreadsheetml", response.headers["Content-Type"])
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        data = (
            self.customer.with_user(self.user)._nordic_statement_in_lang()._nordic_statement_data(fields.Date.today())
        )
        # Row 7 holds the headers, then one row per item, the totals and the total due.
        items, totals, due = (
            rows[7 : 7 + len(data["lines"])],
            rows[7 + len(data["lines"])],
            rows[8 + len(data["lines"])],
        )
        self.assertEqual(len(items), 4)
        for row, line in zip(items, data["lines"]):
            self.assertEqual(
                (row[0], row[4], row[5] or "", row[6], row[7], row[8] or "", row[10], row[12]),
                (
                    line["number"],
                    line["days_overdue"],
                    line["reference"],
                    line["original"],
                    line["open"],
                    line["state"],
                    line["fees"],
                    line["interest_accrued"],
                ),
            )
        partly = next(row for row in items if row[0] == self.partly_paid.name)
        self.assertEqual((partly[6], partly[7], partly[8], partly[10]), (2000.0, 1500.0, "Under kravhantering", 60.0))
        self.assertEqual((totals[7], totals[10]), (2620.0, 120.0))
        self.assertEqual(due[7], data["totals"]["due"])

    def test_access_refused(self):
        """A dunning user of another company gets neither this company's customer nor, for a shared customer,
        this company's items; a user outside the dunning groups gets no statement; the route answers 403."""
        other = self.env["res.company"].create({"name": "Other Clinic AB"})
        outsider = new_test_user(
            self.env,
            login="other_company_user",
            groups="nordic_dunning.group_nordic_dunning_user",
            company_id=other.id,
            company_ids=other.ids,
        )
        shared = self.customer.with_user(outsider).with_company(other)
        self.assertFalse(shared._nordic_statement_data(STATEMENT_DAY)["lines"], "no item of another company")

        self.customer.company_id = self.company
        with self.assertRaises(AccessError):
            self.customer.with_user(outsider)._nordic_statement_data(STATEMENT_DAY)
        self.authenticate("other_company_user", "other_company_user")
        response = self.url_open(f"/nordic_dunning/statement/{self.customer.id}.xlsx")
        self.assertEqual(response.status_code, 403)

        clerk = self.company_user("invoicing_only", "account.group_account_invoice")
        with self.assertRaises(AccessError) as cm:
            self.customer.with_user(clerk)._nordic_statement_data(STATEMENT_DAY)
        self.assertIn("dunning users", str(cm.exception))
        with self.assertRaises(AccessError):
            self.customer.with_user(clerk).action_nordic_statement_send()

    def test_send_statement_attaches_pdf(self):
        """Send statement opens the composer with the statement template; the e-mail sent carries the PDF, named
        in the customer's language (Swedish: Kontoutdrag)."""
        action = self.customer.with_user(self.user).action_nordic_statement_send()
        self.assertEqual(action["res_model"], "mail.compose.message")
        composer = (
            self.env["mail.compose.message"]
            .with_user(self.user)
            .with_context(**action["context"], force_report_rendering=True)
            .create({})
        )
        self.assertIn(self.customer, composer.partner_ids)
        self.assertEqual(len(composer.attachment_ids), 1)
        composer.action_send_mail()
        message = self.customer.message_ids[0]
        attachment = message.attachment_ids
        self.assertEqual(attachment.name, "Kontoutdrag - Patient Ada.pdf")
        self.assertEqual(attachment.mimetype, "application/pdf")
        self.assertTrue(attachment.raw.startswith(b"%PDF"))
        self.assertIn(self.customer, message.partner_ids)
