"""The customer statement: a customer's open items in the current company, with their dunning state, the
fees and interest charged so far and the interest accrued to date (PDF, XLSX, e-mail)."""
# pylint: disable=consider-merging-classes-inherited

import io
from collections import defaultdict
from decimal import Decimal

import xlsxwriter

from odoo import _, fields, models
from odoo.exceptions import AccessError

from ..tools.interest import late_interest

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
AMOUNT_KEYS = ("original", "open", "fees", "interest_charged", "interest_accrued")


class ResPartner(models.Model):
    _inherit = "res.partner"

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_nordic_statement_pdf(self):
        self._nordic_check_statement_access()
        return self.env.ref("nordic_dunning.action_report_customer_statement").report_action(self)

    def action_nordic_statement_xlsx(self):
        self.ensure_one()
        self._nordic_check_statement_access()
        return {
            "type": "ir.actions.act_url",
            "url": f"/nordic_dunning/statement/{self.id}.xlsx",
            "target": "download",
        }

    def action_nordic_statement_send(self):
        """Open the composer with the statement e-mail, the PDF attached (as Odoo's Send)."""
        self.ensure_one()
        self._nordic_check_statement_access()
        template = self.env.ref("nordic_dunning.mail_template_customer_statement")
        return {
            "type": "ir.actions.act_window",
            "name": _("Send statement"),
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": "res.partner",
                "default_res_ids": self.ids,
                "default_template_id": template.id,
                "default_composition_mode": "comment",
                "default_subtype_xmlid": "mail.mt_comment",
                "force_email": True,
            },
        }

    # ------------------------------------------------------------------
    # Content
    # ------------------------------------------------------------------

    def _nordic_check_statement_access(self):
        """Statements are for dunning users, of customers they may read (record rules and company included)."""
        if not self.env.user.has_group("nordic_dunning.group_nordic_dunning_user"):
            raise AccessError(_("Customer statements are for dunning users."))
        self.check_access("read")

    def _nordic_statement_lang(self):
        """The language of this customer's statement: the customer's, else the company's."""
        self.ensure_one()
        return self.commercial_partner_id.lang or self.env.company.partner_id.lang or "en_US"

    def _nordic_statement_in_lang(self):
        """This partner in an environment in the statement's language (labels, states, level names)."""
        return self.with_context(lang=self._nordic_statement_lang())

    def _nordic_statement_data(self, day=None):
        """The statement of this customer (its commercial entity) in the current company on ``day``.

        :return: dict with ``partner``, ``company``, ``currency``, ``date``, ``lines`` (one dict per open
            receivable item, oldest due first) and ``totals``; amounts in the company's currency.
        """
        self.ensure_one()
        self._nordic_check_statement_access()
        partner = self.commercial_partner_id
        company = self.env.company
        currency = company.currency_id
        day = day or fields.Date.context_today(self)
        # Read as the user: record rules keep other companies' and inaccessible entries out.
        items = self.env["account.move.line"].search(
            [
                ("partner_id", "child_of", partner.id),
                ("company_id", "child_of", company.id),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("amount_residual", "!=", 0),
            ],
            order="date_maturity, date, id",
        )
        moves = items.move_id
        events = self.env["nordic.dunning.event"].search(
            ["|", ("move_id", "in", moves.ids), ("fee_move_line_id", "in", items.ids), ("state", "=", "done")]
        )
        by_move = defaultdict(events.browse)
        fee_of_line = {}
        for event in events:
            by_move[event.move_id.id] |= event
            if event.fee_move_line_id:
                fee_of_line[event.fee_move_line_id.id] = event
        accrued = self._nordic_statement_interest(moves.filtered(lambda m: m.move_type == "out_invoice"), by_move, day)
        states = dict(self.env["nordic.dunning.status"]._fields["state"]._description_selection(self.env))
        lines = []
        for item in items:
            move = item.move_id
            move_events = by_move.get(move.id, events.browse())
            fee_event = fee_of_line.get(item.id)
            due = item.date_maturity or move.invoice_date_due or move.date
            lines.append(
                {
                    "number": move.name,
                    "label": _("Reminder fee for %s", fee_event.move_id.name) if fee_event else (move.ref or ""),
                    "date": move.invoice_date or move.date,
                    "due": due,
                    "days_overdue": max((day - due).days, 0) if item.balance > 0 else 0,
                    "reference": move.payment_reference or "",
                    "original": item.balance,
                    "open": item.amount_residual,
                    "state": states.get(move.nordic_dunning_state, "") if move.nordic_dunning_state else "",
                    "level": move.nordic_dunning_level_id.name or "",
                    "disputed": move.nordic_dispute_open,
                    "fees": sum(e.fee_amount + e.compensation_amount for e in move_events if e.fee_charged),
                    "interest_charged": sum(e.interest_amount for e in move_events if e.interest_charged),
                    "interest_accrued": accrued.get(move.id, 0.0),
                }
            )
        totals = {key: currency.round(sum(line[key] for line in lines)) for key in AMOUNT_KEYS}
        totals["due"] = currency.round(totals["open"] + totals["interest_accrued"])
        totals["overdue"] = currency.round(sum(line["open"] for line in lines if line["days_overdue"]))
        return {
            "partner": partner,
            "company": company,
            "currency": currency,
            "date": day,
            "lines": lines,
            "totals": totals,
        }

    def _nordic_statement_interest(self, invoices, events_by_move, day):
        """{move_id: statutory late interest accrued up to ``day`` and not yet charged}, in company currency.

        As a run computes it (tools/interest.py): from the due date, or from the last measure that charged
        interest, on the open amount, lowered by each payment from its date; none where the policy has none.
        """
        overdue = invoices.filtered(
            lambda m: (
                m.invoice_date_due
                and m.invoice_date_due < day
                and m.nordic_dunning_policy_id
                and m.nordic_dunning_policy_id.interest_mode != "none"
            )
        )
        if not overdue:
            return {}
        payments = self.env["nordic.dunning.run"]._payments_by_move(overdue.ids)
        periods_by_country = {}
        result = {}
        for move in overdue:
            country = move.nordic_dunning_policy_id.country_code
            if country not in periods_by_country:
                periods_by_country[country] = [
                    (d, Decimal(str(v))) for d, v in self.env["nordic.dunning.rate"]._late_interest_periods(country)
                ]
            charged = events_by_move.get(move.id, self.env["nordic.dunning.event"]).filtered("interest_charged")
            start = max([move.invoice_date_due] + charged.mapped("date"))
            paid = [(d, Decimal(str(a))) for d, a in payments.get(move.id, [])]
            base = Decimal(str(move.amount_total)) - sum((a for d, a in paid if d <= start), Decimal(0))
            amount = late_interest(
                base,
                start,
                day,
                periods_by_country[country],
                [(d, a) for d, a in paid if d > start],
                precision=Decimal(str(move.currency_id.rounding)),
            )
            interest = float(amount)
            if move.currency_id != move.company_currency_id:
                interest = move.currency_id._convert(interest, move.company_currency_id, move.company_id, day)
            result[move.id] = interest
        return result

    def _nordic_statement_xlsx(self, day=None):
        """The statement as an XLSX workbook (bytes), in the customer's language."""
        self.ensure_one()
        partner = self._nordic_statement_in_lang()
        return partner._nordic_statement_workbook(partner._nordic_statement_data(day))

    def _nordic_statement_workbook(self, data):
        output = io.BytesIO()
        # Names and references are text, never formulas or links (a customer named "=HYPERLINK(...)").
        workbook = xlsxwriter.Workbook(
            output, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        sheet = workbook.add_worksheet(_("Statement")[:31])
        bold = workbook.add_format({"bold": True})
        date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
        digits = data["currency"].decimal_places
        money = workbook.add_format({"num_format": "#,##0" + ("." + "0" * digits if digits else "")})
        money_bold = workbook.add_format({"bold": True, "num_format": "#,##0" + ("." + "0" * digits if digits else "")})
        sheet.write(0, 0, _("Statement of account"), bold)
        sheet.write(1, 0, data["partner"].display_name)
        sheet.write(2, 0, data["company"].name)
        sheet.write(3, 0, _("Date"))
        sheet.write_datetime(3, 1, fields.Datetime.to_datetime(data["date"]), date_format)
        sheet.write(4, 0, _("Currency"))
        sheet.write(4, 1, data["currency"].name)
        headers = [
            _("Number"),
            _("Description"),
            _("Date"),
            _("Due date"),
            _("Days overdue"),
            _("Payment reference (OCR/KID)"),
            _("Original amount"),
            _("Open amount"),
            _("Dunning state"),
            _("Dunning level"),
            _("Fees charged"),
            _("Interest charged"),
            _("Interest accrued"),
        ]
        header_row = 6
        for col, header in enumerate(headers):
            sheet.write(header_row, col, header, bold)
        row = header_row
        for line in data["lines"]:
            row += 1
            sheet.write(row, 0, line["number"])
            sheet.write(row, 1, line["label"])
            sheet.write_datetime(row, 2, fields.Datetime.to_datetime(line["date"]), date_format)
            sheet.write_datetime(row, 3, fields.Datetime.to_datetime(line["due"]), date_format)
            sheet.write_number(row, 4, line["days_overdue"])
            sheet.write(row, 5, line["reference"])
            sheet.write_number(row, 6, line["original"], money)
            sheet.write_number(row, 7, line["open"], money)
            sheet.write(row, 8, line["state"])
            sheet.write(row, 9, line["level"])
            sheet.write_number(row, 10, line["fees"], money)
            sheet.write_number(row, 11, line["interest_charged"], money)
            sheet.write_number(row, 12, line["interest_accrued"], money)
        totals = data["totals"]
        row += 1
        sheet.write(row, 0, _("Total"), bold)
        for col, key in ((6, "original"), (7, "open"), (10, "fees"), (11, "interest_charged")):
            sheet.write_number(row, col, totals[key], money_bold)
        sheet.write_number(row, 12, totals["interest_accrued"], money_bold)
        row += 1
        sheet.write(row, 0, _("Total due with interest to date"), bold)
        sheet.write_number(row, 7, totals["due"], money_bold)
        sheet.set_column(0, 1, 22)
        sheet.set_column(2, 4, 12)
        sheet.set_column(5, 12, 16)
        workbook.close()
        return output.getvalue()

    def _nordic_statement_filename(self, extension):
        self.ensure_one()
        name = (self.commercial_partner_id.name or str(self.id)).replace("/", "-")
        return f"{_('Statement')} - {name}.{extension}"
