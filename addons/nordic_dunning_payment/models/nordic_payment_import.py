"""A bank's payment file, imported once: what it held, what matched, what was booked."""

import hashlib
import logging
import time

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.nordic_dunning.tools.system import as_system, is_system

from ..tools import FORMATS, PaymentFileError, bgmax, camt054, detect_format, ocr_giro

_logger = logging.getLogger(__name__)


class NordicPaymentImport(models.Model):
    _name = "nordic.payment.import"
    _description = "Payment file"
    _inherit = ["mail.thread"]
    _order = "create_date desc, id desc"
    _check_company_auto = True

    name = fields.Char("File name", required=True, readonly=True)
    journal_id = fields.Many2one(
        "account.journal", required=True, readonly=True, index=True, check_company=True, domain=[("type", "=", "bank")]
    )
    company_id = fields.Many2one(related="journal_id.company_id", store=True, index=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    file_format = fields.Selection(FORMATS, "Format", required=True, readonly=True)
    checksum = fields.Char("SHA-256", required=True, readonly=True, index=True, copy=False)
    bank_reference = fields.Char(
        "Bank's file reference",
        required=True,
        readonly=True,
        copy=False,
        help="BgMax: timestamp and payee bankgiro; "
        "OCR giro: data transmitter and transmission number; camt.054: GrpHdr/MsgId.",
    )
    state = fields.Selection(
        [("to_check", "Payments to check"), ("done", "Done")], required=True, readonly=True, tracking=True
    )
    line_ids = fields.One2many("nordic.payment.import.line", "import_id", "Payments", readonly=True)
    line_count = fields.Integer("Number of payments", readonly=True)
    matched_count = fields.Integer("Matched", readonly=True)
    to_check_count = fields.Integer("To check", readonly=True)
    amount_total = fields.Monetary("Total", readonly=True)
    move_ids = fields.Many2many("account.move", string="Journal entries", readonly=True, copy=False)
    seconds = fields.Float(readonly=True, digits=(16, 2), help="How long the import took.")

    _sql_constraints = [
        ("checksum_unique", "unique(company_id, checksum)", "This payment file was already imported."),
        (
            "bank_reference_unique",
            "unique(journal_id, bank_reference)",
            "A payment file with this bank reference was already imported on this journal.",
        ),
    ]

    # ------------------------------------------------------------------
    # Only the import itself writes a payment file's record
    # ------------------------------------------------------------------

    def _check_system(self):
        if not is_system(self.env):
            raise AccessError(
                _("%s: only the import of a payment file (the upload or the folder) writes these records.")
                % self._description
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_system()
        return super().create(vals_list)

    def write(self, vals):
        if set(vals) - {"message_main_attachment_id"}:
            self._check_system()
        return super().write(vals)

    def unlink(self):
        if not is_system(self.env):
            raise UserError(_("A payment file's import is kept: its checksum is what refuses the same file twice."))
        return super().unlink()

    # ------------------------------------------------------------------
    # Import
    # ------------------------------------------------------------------

    @api.model
    def _import_file(self, journal, filename, data):
        """Import the payment file ``data`` (bytes) on bank ``journal``: parsed, refused if known, matched,
        booked and reconciled in batches. Returns the import. All or nothing: any error raises."""
        self.check_access("create")
        journal.check_access("read")
        if journal.type != "bank":
            raise UserError(_("Payment files are imported on a bank journal, not on %s.", journal.display_name))
        started = time.perf_counter()
        checksum = hashlib.sha256(data).hexdigest()
        known = self.sudo().search([("company_id", "=", journal.company_id.id), ("checksum", "=", checksum)], limit=1)
        if known:
            raise UserError(
                _(
                    "%(file)s was already imported on %(date)s as %(name)s (same contents): it is not imported twice.",
                    file=filename,
                    date=fields.Date.to_string(known.create_date.date()),
                    name=known.name,
                )
            )
        parsed = self._parse(data)
        known = self.sudo().search(
            [("journal_id", "=", journal.id), ("bank_reference", "=", parsed.bank_reference)], limit=1
        )
        if known:
            raise UserError(
                _(
                    "The bank's file %(ref)s was already imported on %(date)s as %(name)s: it is not imported "
                    "twice, even with other contents.",
                    ref=parsed.bank_reference,
                    date=fields.Date.to_string(known.create_date.date()),
                    name=known.name,
                )
            )
        currency = self.env["res.currency"].with_context(active_test=False).search([("name", "=", parsed.currency)])
        if not currency:
            raise UserError(_("The file's currency %s is not known.", parsed.currency))
        record = as_system(self).create(
            {
                "name": filename,
                "journal_id": journal.id,
                "currency_id": currency.id,
                "file_format": parsed.file_format,
                "checksum": checksum,
                "bank_reference": parsed.bank_reference,
                "state": "done",
                "amount_total": float(parsed.total),
                "line_count": len(parsed.rows),
            }
        )
        decisions = record._match(parsed.rows)
        lines = record._create_lines(parsed.rows, decisions)
        record._book_payments(lines, decisions)
        to_check = lines.filtered(lambda line: line.state in ("unmatched", "bad_check_digit"))
        as_system(record).write(
            {
                "matched_count": len(lines) - len(to_check),
                "to_check_count": len(to_check),
                "state": "to_check" if to_check else "done",
                "seconds": time.perf_counter() - started,
            }
        )
        _logger.info(
            "Payment file %s: %s payments, %s to check, in %.2f s", filename, len(lines), len(to_check), record.seconds
        )
        return record.with_env(self.env)  # the caller's environment, never the import's own marker

    def _parse(self, data):
        file_format = detect_format(data)
        if file_format == "bgmax":
            return bgmax.parse(data)
        if file_format == "ocr_giro":
            return ocr_giro.parse(data)
        if file_format == "camt054":
            return camt054.parse(self.env["account.statement.import.camt.parser"], data)
        raise PaymentFileError(_("Not a payment file this import reads (BgMax, Nets OCR giro or camt.054)."))

    def _create_lines(self, rows, decisions):
        """The import's lines, one per payment, written with their match in one batch."""
        self.ensure_one()
        currencies = {c.name: c.id for c in self.env["res.currency"].with_context(active_test=False).search([])}
        vals_list = []
        for row, decision in zip(rows, decisions, strict=True):
            vals_list.append(
                {
                    "import_id": self.id,
                    "sequence": row.line_no,
                    "date": row.date,
                    "amount": float(row.amount),
                    "currency_id": currencies.get(row.currency, self.currency_id.id),
                    "reference": row.reference,
                    "extra_references": " ".join(row.extra_references) or False,
                    "payer_name": row.payer_name or False,
                    "payer_org_no": row.payer_org_no or False,
                    "raw_line": row.raw,
                    "state": decision.state,
                    "match_method": decision.method,
                    "partner_id": decision.partner_id,
                    "move_ids": [fields.Command.set(decision.invoice_ids)] if decision.invoice_ids else False,
                    "message": decision.message,
                }
            )
        return as_system(self.env["nordic.payment.import.line"]).create(vals_list)

    def action_view_to_check(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("nordic_dunning_payment.action_nordic_payment_to_check")
        action["domain"] = [("import_id", "=", self.id)]
        return action
