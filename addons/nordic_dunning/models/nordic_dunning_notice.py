import re
from urllib.parse import quote as url_quote

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools.system import is_system
from ..tools.words import amount_in_words

# What the product may set on an existing notice, once: the documents produced for it.
DOCUMENT_FIELDS = {"attachment_id", "mail_message_id"}


class NordicDunningNotice(models.Model):
    """One communication of a run to one customer at one level: the letter and the e-mail that list its
    invoices (policy option "One reminder per customer"), or a single invoice's when the option is off.

    Written by the product only (the run's confirmation, through ``as_system``); its amounts are the sums of
    its events, which are immutable, so they are stored once at creation. The documents (the letter's PDF and
    the e-mail) are recorded on the notice and on each of its events, the evidence trail."""

    _name = "nordic.dunning.notice"
    _description = "Dunning notice"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _check_company_auto = True

    run_id = fields.Many2one("nordic.dunning.run", required=True, index=True, readonly=True, ondelete="restrict")
    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, readonly=True)
    level_id = fields.Many2one("nordic.dunning.level", required=True, readonly=True, ondelete="restrict")
    kind = fields.Selection(related="level_id.kind")
    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    event_ids = fields.One2many("nordic.dunning.event", "notice_id", "Measures", readonly=True)
    event_count = fields.Integer("Invoices", readonly=True)
    date = fields.Date(required=True, readonly=True)
    deadline_date = fields.Date("Pay by", readonly=True)
    amount_residual = fields.Monetary("Open principal", readonly=True)
    fee_amount = fields.Monetary("Fees", readonly=True)
    interest_amount = fields.Monetary("Late interest", readonly=True)
    compensation_amount = fields.Monetary("Late-payment compensation", readonly=True)
    amount_total = fields.Monetary("Total due", readonly=True)
    attachment_id = fields.Many2one("ir.attachment", "Letter (PDF)", readonly=True)
    mail_message_id = fields.Many2one("mail.message", "E-mail sent", readonly=True)

    @api.depends("run_id.name", "partner_id.name", "level_id.name")
    def _compute_display_name(self):
        for notice in self:
            notice.display_name = f"{notice.run_id.name} – {notice.partner_id.name} ({notice.level_id.name})"

    @api.model_create_multi
    def create(self, vals_list):
        if not is_system(self.env):
            raise AccessError(_("Dunning notices are written by confirming a run, never by hand."))
        return super().create(vals_list)

    def write(self, vals):
        """Only the product writes, and only a document, once."""
        if not is_system(self.env) or set(vals) - DOCUMENT_FIELDS:
            raise AccessError(
                _("Dunning notices are part of the audit trail and cannot be changed (fields: %s).", ", ".join(vals))
            )
        if any(notice[name] and notice[name].id != vals[name] for name in vals for notice in self):
            raise AccessError(_("A document recorded on a dunning notice cannot be replaced."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(_("Dunning notices are part of the audit trail and cannot be deleted."))

    # ------------------------------------------------------------------
    # What the letter and the e-mail show
    # ------------------------------------------------------------------

    def _get_lang(self):
        self.ensure_one()
        return self.partner_id.lang or self.company_id.partner_id.lang or "en_US"

    def _amount_in_words(self):
        """The total due in words, in the customer's language."""
        self.ensure_one()
        return amount_in_words(self.currency_id, self.amount_total, self._get_lang())

    def _sorted_events(self):
        """The notice's invoices in the order the letter lists them: oldest due date first."""
        return self.event_ids.sorted(lambda e: (e.move_id.invoice_date_due or e.date, e.move_id.name or ""))

    def _letter_rows(self):
        """The combined letter's table: one row per invoice, its amounts and due date formatted once with the
        customer's language (a ``t-field`` per cell resolves the language again for each of thousands of
        cells, most of a large letter batch's rendering time)."""
        self.ensure_one()
        lang = self.env["res.lang"]._lang_get(self._get_lang()) or self.env["res.lang"]._lang_get("en_US")
        currency = self.currency_id
        fmt = f"%.{currency.decimal_places}f"
        symbol = currency.symbol or ""

        def money(amount):
            text = lang.format(fmt, currency.round(amount), grouping=True).replace(" ", "\N{NO-BREAK SPACE}")
            return (
                f"{symbol}\N{NO-BREAK SPACE}{text}"
                if currency.position == "before"
                else f"{text}\N{NO-BREAK SPACE}{symbol}"
            )

        rows = []
        for event in self._sorted_events():
            due = event.move_id.invoice_date_due
            rows.append(
                {
                    "invoice": event.move_id.name,
                    "reference": event.payment_reference or "",
                    "due": due.strftime(lang.date_format) if due else "",
                    **{
                        name: money(event[name])
                        for name in (
                            "amount_residual",
                            "fee_amount",
                            "interest_amount",
                            "compensation_amount",
                            "amount_total",
                        )
                    },
                }
            )
        return rows

    def _invoice_names(self):
        """The invoice numbers for the e-mail's subject (the first five)."""
        names = self._sorted_events().move_id.mapped("name")
        return ", ".join(names[:5]) + (" …" if len(names) > 5 else "")

    def _letter_reference(self):
        """The letter number printed on the letter's first page."""
        self.ensure_one()
        return f"{self.run_id.name}-{self.id}"

    def _letter_link(self):
        """The letter number's link on the letter: an e-mail to the company about this letter. Unique per
        notice, it is also what a multi-letter PDF is split by (link annotations are cheap to read)."""
        self.ensure_one()
        return f"mailto:{self.company_id.email or ''}?subject={url_quote(self._letter_reference())}"

    def _letter_filename(self):
        """The name of the letter's stored PDF (the report's ``attachment`` expression)."""
        stem = re.sub(r"[^\w.-]+", "-", f"{self.run_id.name}-{self.partner_id.ref or self.partner_id.id}-{self.id}")
        return f"{stem}.pdf"

    def _bank_account(self):
        """The account to pay to: the first invoice's recipient bank, else the company's."""
        self.ensure_one()
        return self.event_ids.move_id.partner_bank_id[:1] or self.company_id.partner_id.bank_ids[:1]

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------

    def action_print(self):
        """The stored letters of these notices (rendered first if they have none yet), in one PDF; only of
        notices the user may read."""
        self.check_access("read")
        for run, notices in self.sudo().grouped("run_id").items():
            run._render_notice_pdfs(notices)
        return self.env.ref("nordic_dunning.action_report_dunning_letter").report_action(self)
