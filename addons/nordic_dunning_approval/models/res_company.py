import base64
import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from odoo.addons.nordic_dunning.tools.calendar import nth_business_day_of_month

from ..tools.hq_xlsx import build_aged_receivables_xlsx, build_credits_xlsx

_logger = logging.getLogger(__name__)

LOSS_ACCOUNT_CODES = ("6351", "6350")


class ResCompany(models.Model):
    _inherit = "res.company"

    nordic_credit_threshold = fields.Monetary(
        "Approval threshold",
        currency_field="currency_id",
        default=5000.0,
        help="Credit notes and write-offs up to this amount (company currency) are approved by the clinic "
        "manager; above it only the CFO or the CEO may approve.",
    )
    nordic_clinic_manager_ids = fields.Many2many(
        "res.users",
        "nordic_company_clinic_manager_rel",
        "company_id",
        "user_id",
        string="Clinic managers",
        help="Managers of this clinic (branch): they approve its credit notes and write-offs up to the threshold.",
    )
    nordic_hq_email = fields.Char(
        "Head-office e-mail",
        help="Receives posted credit notes, write-offs and the monthly receivables ledger. A branch without its "
        "own address uses its parent's.",
    )
    nordic_hq_ledger_business_day = fields.Integer(
        "Ledger business day",
        default=3,
        help="The monthly receivables ledger goes to head office on this business day of the month.",
    )
    nordic_hq_ledger_last_sent = fields.Date("Ledger last sent", readonly=True, copy=False)
    nordic_loss_account_id = fields.Many2one(
        "account.account",
        "Confirmed-loss account",
        check_company=True,
        help="Debited when a confirmed customer loss is written off (BAS 6351). Empty: the chart's 6351 or 6350.",
    )
    nordic_writeoff_vat_relief = fields.Boolean(
        "VAT relief on confirmed losses",
        default=True,
        help="Reverse the output VAT share of a confirmed loss (ML 8 kap. 16 §).",
    )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _nordic_get_hq_email(self):
        """The head-office address of this clinic: its own, else the nearest parent's.

        Read as superuser: a clinic's staff may not read the head-office company itself.
        """
        self.ensure_one()
        for company in reversed(self.sudo().parent_ids):
            if company.nordic_hq_email:
                return company.nordic_hq_email
        return False

    def _nordic_get_loss_account(self):
        """The confirmed-loss account: the configured one (here or on a parent), else the chart's 6351, else 6350."""
        self.ensure_one()
        for company in reversed(self.sudo().parent_ids):
            if company.nordic_loss_account_id:
                return company.nordic_loss_account_id.with_env(self.env)
        accounts = self.env["account.account"].search(
            [*self.env["account.account"]._check_company_domain(self), ("code", "in", LOSS_ACCOUNT_CODES)]
        )
        for code in LOSS_ACCOUNT_CODES:
            account = accounts.filtered(lambda a, c=code: a.code == c)[:1]
            if account:
                return account
        raise UserError(
            _("Set a confirmed-loss account on %(company)s (Settings: BAS 6351).", company=self.display_name)
        )

    # ------------------------------------------------------------------
    # Head-office ledger
    # ------------------------------------------------------------------

    @api.model
    def _cron_nordic_hq_ledger(self):
        """Send each clinic's aged receivables to head office on its ledger business day, once a month.

        A day missed (server down) is caught up on the next run of the same month.
        """
        today = fields.Date.context_today(self)
        due = self.search([("nordic_hq_ledger_business_day", ">", 0)]).filtered(
            lambda c: (
                c._nordic_get_hq_email()
                and not (c.nordic_hq_ledger_last_sent and c.nordic_hq_ledger_last_sent >= today.replace(day=1))
                and today >= c._nordic_hq_ledger_day(today.year, today.month)
            )
        )
        for company in due:
            company._nordic_send_hq_ledger(today)
        return due

    def _nordic_hq_ledger_day(self, year, month):
        """The day of the month the ledger is due: its n-th business day on the company's country calendar."""
        self.ensure_one()
        return nth_business_day_of_month(year, month, self.nordic_hq_ledger_business_day, self._nordic_country_code())

    def _nordic_aged_receivable_rows(self, day):
        """Receivable items of these clinics open at ``day``, with their residual as it was then, one dict each.

        The residual at ``day`` is the item's balance less what was reconciled with it up to ``day``
        (a payment received later does not hide an item that was open at the month's end). Only items
        open today or reconciled after ``day`` can qualify, so the whole history is never read.
        """
        self.env.flush_all()
        self.env.cr.execute(
            """
            WITH receivable AS (
                SELECT id FROM account_account WHERE account_type = 'asset_receivable'
            ), candidate AS (
                -- open today (the unreconciled-items index) ...
                SELECT l.id FROM account_move_line l
                 WHERE l.account_id IN (SELECT id FROM receivable)
                   AND l.reconciled IS NOT TRUE AND l.parent_state = 'posted'
                   AND l.company_id = ANY(%(companies)s)
                UNION
                -- ... or settled after the date
                SELECT p.debit_move_id FROM account_partial_reconcile p
                 WHERE p.max_date > %(day)s AND p.company_id = ANY(%(companies)s)
                UNION
                SELECT p.credit_move_id FROM account_partial_reconcile p
                 WHERE p.max_date > %(day)s AND p.company_id = ANY(%(companies)s)
            )
            SELECT l.id, l.balance
                   - COALESCE((SELECT SUM(p.amount) FROM account_partial_reconcile p
                                WHERE p.debit_move_id = l.id AND p.max_date <= %(day)s), 0)
                   + COALESCE((SELECT SUM(p.amount) FROM account_partial_reconcile p
                                WHERE p.credit_move_id = l.id AND p.max_date <= %(day)s), 0)
              FROM candidate c
              JOIN account_move_line l ON l.id = c.id
             WHERE l.company_id = ANY(%(companies)s)
               AND l.account_id IN (SELECT id FROM receivable)
               AND l.parent_state = 'posted'
               AND l.date <= %(day)s
            """,
            {"companies": self.ids, "day": day},
        )
        residuals = {line_id: residual for line_id, residual in self.env.cr.fetchall() if residual}
        lines = self.env["account.move.line"].search(
            [("id", "in", list(residuals))], order="company_id, partner_id, date_maturity, id"
        )
        return [
            {
                "clinic": line.company_id.name,
                "customer": line.partner_id.commercial_partner_id.display_name or "",
                "document": line.move_id.name,
                "date": line.date,
                "due": line.date_maturity,
                "residual": line.company_currency_id.round(float(residuals[line.id])),
                "currency": line.company_currency_id.name,
            }
            for line in lines
        ]

    def _nordic_hq_ledger_attachment(self, day):
        """One XLSX (ir.attachment) of the aged open receivables of these clinics at ``day``."""
        rows = self._nordic_aged_receivable_rows(day)
        content = build_aged_receivables_xlsx(rows, day)
        names = "-".join(self.mapped("name")) if len(self) <= 3 else _("%s clinics", len(self))
        return self.env["ir.attachment"].create(
            {
                "name": _("Receivables %(names)s %(day)s.xlsx", names=names, day=day),
                "datas": base64.b64encode(content),
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "res_model": "res.company",
                "res_id": self[:1].id,
            }
        )

    def _nordic_credits_attachment(self, date_from, date_to):
        """One XLSX of the credit notes and write-offs booked by these clinics in the period."""
        rows = self.env["nordic.credit.report"]._nordic_rows(self, date_from, date_to)
        return self.env["ir.attachment"].create(
            {
                "name": _("Credits %(from)s %(to)s.xlsx", **{"from": date_from, "to": date_to}),
                "datas": base64.b64encode(build_credits_xlsx(rows)),
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "res_model": "res.company",
                "res_id": self[:1].id,
            }
        )

    def _nordic_send_hq_ledger(self, day):
        """Mail the clinic's aged receivables and last month's credits to head office; remember the month."""
        self.ensure_one()
        email = self._nordic_get_hq_email()
        if not email:
            raise UserError(_("%(company)s has no head-office e-mail.", company=self.display_name))
        month_end = day.replace(day=1) - timedelta(days=1)
        attachments = self._nordic_hq_ledger_attachment(day) | self._nordic_credits_attachment(
            month_end.replace(day=1), month_end
        )
        template = self.env.ref("nordic_dunning_approval.mail_template_nordic_hq_ledger")
        template.send_mail(
            self.id,
            email_values={"email_to": email, "attachment_ids": [(6, 0, attachments.ids)]},
        )
        self.nordic_hq_ledger_last_sent = day
        return attachments
