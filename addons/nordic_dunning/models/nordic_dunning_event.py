from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools.system import is_system
from ..tools.words import amount_in_words

# What the product may still set on an existing event, once: the documents produced for it and, for a mass
# cancellation, its cancellation. Everything else is the immutable record.
DOCUMENT_FIELDS = {
    "notice_id",
    "mail_message_id",
    "letter_attachment_id",
    "fee_move_line_id",
    "interest_move_line_id",
    "activity_id",
}
CANCEL_FIELDS = {"state", "cancel_reason", "cancel_date", "cancel_user_id"}


class NordicDunningEvent(models.Model):
    """One collection measure taken on one invoice: the append-only audit trail."""

    _name = "nordic.dunning.event"
    _description = "Dunning event"
    _order = "date desc, id desc"
    _check_company_auto = True
    # Events are written by a run's confirmation, in bulk: who and when are the run's confirmation
    # (``user_id``, ``confirm_date``); a cancellation records its own user and time.
    _log_access = False

    name = fields.Char(compute="_compute_name")
    move_id = fields.Many2one("account.move", "Invoice", required=True, index=True, readonly=True, ondelete="restrict")
    # The invoice's customer, company and currency and the run's policy and confirming user: read through
    # them, not copied. An event row is written for every invoice of a run, and each copied reference costs
    # a foreign-key check and an index entry per row. A dunned invoice cannot go back to draft (see
    # account.move.button_draft), so its customer and company are the ones the measure was taken against.
    partner_id = fields.Many2one(related="move_id.commercial_partner_id", string="Customer")
    company_id = fields.Many2one(related="move_id.company_id")
    currency_id = fields.Many2one(related="move_id.currency_id")
    # The reviewed proposal this measure executed; its run and level are read through it (one key check
    # per event instead of two). A line with an event can no longer be deleted, nor its run.
    line_id = fields.Many2one(
        "nordic.dunning.run.line", "Run line", required=True, index=True, readonly=True, ondelete="restrict"
    )
    run_id = fields.Many2one(related="line_id.run_id")
    policy_id = fields.Many2one(related="run_id.policy_id")
    level_id = fields.Many2one(related="line_id.level_id")
    level_sequence = fields.Integer("Level number", readonly=True)
    kind = fields.Selection(related="level_id.kind", store=True)
    date = fields.Date(required=True, readonly=True, index=True)
    deadline_date = fields.Date("Pay by", readonly=True)
    amount_residual = fields.Monetary("Open principal", readonly=True)
    fee_amount = fields.Monetary("Fee", readonly=True)
    fee_charged = fields.Boolean(readonly=True, help="The fee was booked on the customer's account.")
    interest_amount = fields.Monetary("Late interest", readonly=True)
    compensation_amount = fields.Monetary(
        "Late-payment compensation",
        readonly=True,
        help="The statutory compensation a business customer owes once per invoice, booked with the fee.",
    )
    interest_rate = fields.Float("Interest rate (%)", readonly=True, digits=(16, 2))
    interest_charged = fields.Boolean(readonly=True)
    amount_total = fields.Monetary("Total due", readonly=True)
    payment_reference = fields.Char("OCR/KID reference", readonly=True)
    channel_email = fields.Boolean("E-mail", readonly=True)
    channel_letter = fields.Boolean("Letter", readonly=True)
    channel_call = fields.Boolean("Call", readonly=True)
    user_id = fields.Many2one(related="run_id.confirm_user_id", string="Confirmed by")
    confirm_date = fields.Datetime(related="run_id.confirm_date", string="Confirmed on")
    mail_message_id = fields.Many2one("mail.message", "E-mail sent", readonly=True)
    letter_attachment_id = fields.Many2one("ir.attachment", "Letter document", readonly=True)
    activity_id = fields.Many2one("mail.activity", "Call activity", readonly=True)
    # The letter and e-mail this measure went out in (with the customer's other invoices of the run when the
    # policy sends one reminder per customer).
    notice_id = fields.Many2one("nordic.dunning.notice", readonly=True, index="btree_not_null")
    fee_move_line_id = fields.Many2one("account.move.line", "Fee entry", readonly=True)
    interest_move_line_id = fields.Many2one("account.move.line", "Interest entry", readonly=True)
    state = fields.Selection(
        [("done", "Done"), ("cancelled", "Cancelled")], default="done", required=True, readonly=True
    )
    cancel_reason = fields.Char(readonly=True)
    cancel_date = fields.Datetime(readonly=True)
    cancel_user_id = fields.Many2one("res.users", readonly=True)

    @api.depends("move_id.name", "level_id.name")
    def _compute_name(self):
        for event in self:
            event.name = f"{event.move_id.name} – {event.level_id.name}"

    @api.model_create_multi
    def create(self, vals_list):
        # Events are written by a run's confirmation only (in bulk, by SQL): nobody records a measure by hand.
        if not is_system(self.env):
            raise AccessError(_("Dunning events are recorded by confirming a run, never by hand."))
        return super().create(vals_list)

    def write(self, vals):
        """The audit trail: only the product writes, and only a document once or a cancellation once."""
        forbidden = set(vals) - DOCUMENT_FIELDS - CANCEL_FIELDS
        if not is_system(self.env) or forbidden:
            raise AccessError(
                _(
                    "Dunning events are an audit trail and cannot be changed (fields: %s); measures are cancelled "
                    "with the mass cancellation.",
                    ", ".join(sorted(vals)),
                )
            )
        for name in set(vals) & DOCUMENT_FIELDS:
            if any(event[name] and event[name].id != vals[name] for event in self):
                raise AccessError(_("A document recorded on a dunning event cannot be replaced."))
        if set(vals) & CANCEL_FIELDS and (
            vals.get("state") != "cancelled" or any(event.state != "done" for event in self)
        ):
            raise AccessError(_("A dunning event is cancelled once, by the mass cancellation, and stays cancelled."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(_("Dunning events are an audit trail and cannot be deleted; cancel them instead."))

    @api.model
    def _on_measures_cancelled(self, events, reason):
        """Hook: ``events`` were just cancelled for ``reason`` (mass cancellation), their fees reversed and
        their invoices rolled back to the last measure that stands. The engine has nothing more to undo;
        the collection addon (nordic_dunning_collection) withdraws the agency cases those measures opened."""

    def _get_lang(self):
        self.ensure_one()
        return self.partner_id.lang or self.company_id.partner_id.lang or "en_US"

    def _amount_in_words(self):
        """The total due in words, in the customer's language (num2words through Odoo)."""
        self.ensure_one()
        return amount_in_words(self.currency_id, self.amount_total, self._get_lang())

    def action_print_letter(self):
        """The letter this measure went out in (its notice's stored PDF)."""
        if not self.notice_id:
            raise UserError(_("No letter was prepared for this measure."))
        return self.notice_id.action_print()
