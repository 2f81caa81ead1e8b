import base64
import io

import openpyxl
from freezegun import freeze_time

from odoo.tests import tagged

from .approval_common import NordicApprovalCommon


@tagged("post_install", "-at_install")
class TestHqLedger(NordicApprovalCommon):
    """The monthly receivables ledger to head office on the 3rd business day (Swedish calendar)."""

    def ledger_mails(self):
        return self.env["mail.mail"].search([("model", "=", "res.company"), ("subject", "like", "receivables ledger")])

    def test_cron_on_third_business_day(self):
        """January 2026 in Sweden: 1st and 6th are holidays, so the 3rd business day is the 7th; one mail per clinic
        with its aged receivables and December's credits."""
        self.company.account_fiscal_country_id = self.env.ref("base.se")
        (self.clinic_a | self.clinic_b).write({"nordic_hq_ledger_last_sent": False})
        self.make_clinic_invoice(1000.0, date="2025-11-01")
        self.make_clinic_invoice(300.0, date="2025-12-20")
        credit = self.make_credit_note(200.0, user=self.cfo, company=self.clinic_b, date="2025-12-15")
        credit.request_validation()
        self.approve(credit, self.manager_b)
        credit.action_post()
        Company = self.env["res.company"]
        with freeze_time("2026-01-06"):
            self.assertFalse(Company._cron_nordic_hq_ledger() & self.clinic_a)
        with freeze_time("2026-01-07"):
            sent = Company._cron_nordic_hq_ledger()
            self.assertIn(self.clinic_a, sent)
            self.assertFalse(Company._cron_nordic_hq_ledger(), "once a month")
        mail = self.ledger_mails().filtered(lambda m: m.res_id == self.clinic_a.id)
        self.assertEqual(mail.email_to, "hq@example.com")
        ledger = mail.attachment_ids.filtered(lambda a: a.name.startswith("Receivables"))
        book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(ledger.datas)))
        sheet = book[self.clinic_a.name]
        rows = list(sheet.iter_rows(min_row=4, values_only=True))
        self.assertEqual([r[5] for r in rows], [1000.0, 300.0, 1300.0], "two items and the total")
        self.assertEqual(rows[-1][6:11], (0.0, 300.0, 0.0, 1000.0, 0.0), "aged: 18 and 67 days overdue")
        credits = (
            self.ledger_mails()
            .filtered(lambda m: m.res_id == self.clinic_b.id)
            .attachment_ids.filtered(lambda a: a.name.startswith("Credits"))
        )
        book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(credits.datas)))
        rows = list(book["Credits"].iter_rows(min_row=2, values_only=True))
        self.assertEqual(rows[0][:3], ("Clinic Kista", "Credit note", credit.name))
        self.assertEqual((rows[0][4], rows[0][5]), ("Patient Ada", 200.0))
        with freeze_time("2026-02-03"):
            self.assertFalse(Company._cron_nordic_hq_ledger() & self.clinic_a, "2nd business day of February")
        with freeze_time("2026-02-04"):
            self.assertIn(self.clinic_a, Company._cron_nordic_hq_ledger(), "3rd business day of February")
        with freeze_time("2026-03-09"):
            self.assertIn(self.clinic_a, Company._cron_nordic_hq_ledger(), "4 March was missed: caught up")

    def test_on_demand(self):
        """The wizard builds the same XLSX for the chosen clinics at any date."""
        self.make_clinic_invoice(250.0, date="2026-01-10")
        wizard = self.env["nordic.hq.ledger.wizard"].create(
            {"company_ids": [(6, 0, self.clinic_a.ids)], "date": "2026-03-31"}
        )
        action = wizard.action_download()
        self.assertIn(str(wizard.attachment_id.id), action["url"])
        book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(wizard.attachment_id.datas)))
        values = [row[5] for row in book[self.clinic_a.name].iter_rows(min_row=4, values_only=True)]
        self.assertEqual(values, [250.0, 250.0])
        row = next(book[self.clinic_a.name].iter_rows(min_row=4, max_row=4, values_only=True))
        self.assertEqual(row[4], 80, "due on the invoice date, 80 days overdue at 31 March")

    def test_aged_at_past_date_uses_residual_then(self):
        """An invoice paid after the ledger's date is in that ledger at its then open amount; a partial payment
        made before the date lowers it; at a date after the payment the invoice is gone."""
        paid_later = self.make_clinic_invoice(400.0, date="2026-01-10")
        part_paid = self.make_clinic_invoice(1000.0, date="2026-01-12")
        for invoice, amount, day in ((paid_later, 400.0, "2026-02-10"), (part_paid, 300.0, "2026-01-20")):
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"amount": amount, "payment_date": day})._create_payments()

        def values(day):
            rows = self.clinic_a._nordic_aged_receivable_rows(day)
            return sorted((row["document"], row["residual"]) for row in rows)

        self.assertEqual(values("2026-01-31"), sorted([(paid_later.name, 400.0), (part_paid.name, 700.0)]))
        self.assertEqual(values("2026-02-28"), [(part_paid.name, 700.0)])
        self.assertEqual(values("2026-01-11"), [(paid_later.name, 400.0)], "not yet booked: not listed")
