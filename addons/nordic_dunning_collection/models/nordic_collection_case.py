import uuid

from stdnum.no import fodselsnummer as no_fodselsnummer
from stdnum.no import orgnr as no_orgnr
from stdnum.se import orgnr as se_orgnr
from stdnum.se import personnummer as se_personnummer

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.nordic_dunning.tools.sql import execute_values
from odoo.addons.nordic_dunning.tools.system import as_system

from .nordic_collection_agency import CLOSED_STATES

STATES = [
    ("to_submit", "To submit"),
    ("submitting", "Submitting"),
    ("submitted", "Submitted"),
    ("active", "Active"),
    ("paused", "Paused"),
    ("paid", "Paid"),
    ("partly_paid", "Partly paid"),
    ("surveillance", "Surveillance"),
    ("failed", "Failed"),
    ("withdrawn", "Withdrawn"),
    ("cancelled", "Cancelled"),
]
# The states an agency's report may put a case in: the outbox and a cancellation are Odoo's alone.
AGENCY_STATES = tuple(state for state, _label in STATES if state not in ("to_submit", "submitting", "cancelled"))
# The states a case may be in once an agency has registered it: collection starts, or is held.
REGISTERED_STATES = ("submitted", "active", "paused")
# Validators of the debtor's id number: (country, is_company) -> modules tried in order.
# A Swedish sole trader's organisation number is the owner's personnummer.
ID_VALIDATORS = {
    ("SE", True): (se_orgnr, se_personnummer),
    ("SE", False): (se_personnummer,),
    ("NO", True): (no_orgnr,),
    ("NO", False): (no_fodselsnummer,),
}


class StateLog:
    """How a state change is written in the status history: who caused it (Odoo, the sidecar, the agency), a
    note and the agency's word. Only the product's code builds one (:meth:`NordicCollectionCase._logged`); a
    caller's context value is never one, so no RPC caller can make a history row say "the agency reported it"."""

    __slots__ = ("agency_status", "note", "source")

    def __init__(self, source="odoo", note=False, agency_status=False):
        self.source, self.note, self.agency_status = source, note, agency_status


STATE_LOG_KEY = "nordic_case_state_log"


def normalize_id_number(number, country_code, is_company):
    """(compact number, error or False): the id number checked with python-stdnum for SE and NO."""
    if not number:
        return False, False
    validators = ID_VALIDATORS.get((country_code, bool(is_company)))
    if not validators:
        return number.strip(), False
    for module in validators:
        if module.is_valid(number):
            return module.compact(number), False
    kind = _("organisation number") if is_company else _("personal id number")
    return False, _("%(number)s is not a valid %(country)s %(kind)s.", number=number, country=country_code, kind=kind)


class NordicCollectionCase(models.Model):
    """An invoice handed over to a collection agency, and everything the agency reports about it."""

    _name = "nordic.collection.case"
    _description = "Collection case"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(required=True, readonly=True, default="/", copy=False)
    uuid = fields.Char(
        "Idempotency key",
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: str(uuid.uuid4()),
        help="Sent to the agency as creditor reference and idempotency key: the agency never registers it twice.",
    )
    agency_id = fields.Many2one("nordic.collection.agency", tracking=True, index=True, ondelete="restrict")
    move_id = fields.Many2one(
        "account.move", "Invoice", required=True, readonly=True, index=True, ondelete="restrict", check_company=True
    )
    event_id = fields.Many2one("nordic.dunning.event", "Hand-over event", readonly=True, ondelete="set null")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    partner_id = fields.Many2one("res.partner", "Debtor", required=True, readonly=True, index=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    user_id = fields.Many2one("res.users", "Responsible", tracking=True)
    state = fields.Selection(STATES, default="to_submit", required=True, tracking=True, index=True, copy=False)
    agency_status = fields.Char(readonly=True, copy=False, help="The last status the agency reported.")
    external_id = fields.Char("Agency case id", readonly=True, copy=False, index="btree_not_null", tracking=True)
    ocr = fields.Char("Agency OCR", readonly=True, copy=False)
    # Debtor snapshot at hand-over: only what the agency needs.
    debtor_name = fields.Char(required=True)
    debtor_is_company = fields.Boolean()
    debtor_street = fields.Char()
    debtor_zip = fields.Char()
    debtor_city = fields.Char()
    debtor_country_id = fields.Many2one("res.country")
    debtor_phone = fields.Char()
    debtor_email = fields.Char()
    debtor_id_number = fields.Char(
        "Organisation / personal id number",
        help="Checked with python-stdnum: organisation number for companies, personnummer / fødselsnummer for "
        "private persons.",
    )
    # Amounts
    amount_principal = fields.Monetary("Principal", readonly=True)
    amount_fees = fields.Monetary("Fees claimed", readonly=True, help="Our reminder fees on the invoice.")
    amount_interest = fields.Monetary("Interest claimed", readonly=True, help="Our late interest up to hand-over.")
    agency_fees = fields.Monetary("Agency fees", readonly=True)
    agency_interest = fields.Monetary("Agency interest", readonly=True)
    amount_paid = fields.Monetary("Paid via agency", readonly=True, copy=False)
    amount_excess = fields.Monetary(
        "Paid above the claim",
        readonly=True,
        copy=False,
        help="What the agency forwarded above the open claim: held for review, never credited to the customer.",
    )
    excess_review = fields.Boolean("Excess to review", readonly=True, copy=False, tracking=True, index="btree_not_null")
    amount_remaining = fields.Monetary("Remaining", compute="_compute_amount_remaining", store=True)
    recovery_rate = fields.Float(
        "Recovery (%)",
        compute="_compute_amount_remaining",
        store=True,
        aggregator="avg",
        help="Paid via the agency, in percent of the principal.",
    )
    payment_ids = fields.Many2many(
        "account.payment",
        "nordic_collection_case_payment_rel",
        "case_id",
        "payment_id",
        string="Agency payments",
        readonly=True,
        copy=False,
    )
    # Dispute
    disputed = fields.Boolean(tracking=True, copy=False)
    dispute_text = fields.Text(copy=False)
    dispute_at_agency = fields.Boolean(
        "Disputed at the agency",
        readonly=True,
        copy=False,
        tracking=True,
        help="The agency holds the case until the debtor's dispute is answered; cleared when the agency lifts "
        "its hold itself.",
    )
    dispute_reply_by = fields.Date("Reply to the dispute by", readonly=True, copy=False, tracking=True)
    dispute_reminded = fields.Boolean(readonly=True, copy=False)
    dispute_answer = fields.Selection(
        [("uphold", "Claim upheld"), ("withdraw", "Claim withdrawn")], readonly=True, copy=False, tracking=True
    )
    # Sync bookkeeping
    claimed_by = fields.Char(readonly=True, copy=False)
    claimed_at = fields.Datetime(readonly=True, copy=False)
    submitted_date = fields.Datetime("Submitted on", readonly=True, copy=False)
    closed_date = fields.Datetime("Closed on", readonly=True, copy=False)
    handling_days = fields.Float(
        "Handling time (days)",
        compute="_compute_handling_days",
        store=True,
        aggregator="avg",
        help="Days from submission to the agency until the case was closed.",
    )
    last_sync = fields.Datetime(readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    history_ids = fields.One2many("nordic.collection.case.history", "case_id", string="Status history")
    change_ids = fields.One2many("nordic.collection.case.change", "case_id", string="Agency changes")
    command_ids = fields.One2many("nordic.collection.case.command", "case_id", string="Commands")
    pending_command_count = fields.Integer(compute="_compute_pending_command_count")

    _sql_constraints = [("uuid_uniq", "unique(uuid)", "The idempotency key of a case must be unique.")]

    def init(self):
        res = super().init()
        # One open case per invoice; a withdrawn or cancelled case may be followed by a new one.
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS nordic_collection_case_open_move_uniq
                ON nordic_collection_case (move_id) WHERE state NOT IN ('withdrawn', 'cancelled')
            """
        )
        # The sidecar's claim reads this index only.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS nordic_collection_case_claim_idx
                ON nordic_collection_case (agency_id, id) WHERE state IN ('to_submit', 'submitting')
            """
        )
        return res

    @api.depends("amount_principal", "amount_fees", "amount_interest", "agency_fees", "agency_interest", "amount_paid")
    def _compute_amount_remaining(self):
        for case in self:
            owed = (
                case.amount_principal
                + case.amount_fees
                + case.amount_interest
                + case.agency_fees
                + case.agency_interest
            )
            case.amount_remaining = case.currency_id.round(max(owed - case.amount_paid, 0.0))
            case.recovery_rate = (
                min(case.amount_paid / case.amount_principal, 1.0) * 100.0 if case.amount_principal else 0.0
            )

    @api.depends("submitted_date", "closed_date")
    def _compute_handling_days(self):
        for case in self:
            if case.submitted_date and case.closed_date:
                case.handling_days = round((case.closed_date - case.submitted_date).total_seconds() / 86400.0, 1)
            else:
                case.handling_days = 0.0

    def _compute_pending_command_count(self):
        counts = dict(
            self.env["nordic.collection.case.command"]._read_group(
                [("case_id", "in", self.ids), ("state", "=", "pending")], ["case_id"], ["__count"]
            )
        )
        for case in self:
            case.pending_command_count = counts.get(case, 0)

    @api.constrains("debtor_id_number", "debtor_country_id", "debtor_is_company")
    def _check_debtor_id_number(self):
        for case in self:
            _number, error = normalize_id_number(
                case.debtor_id_number, case.debtor_country_id.code, case.debtor_is_company
            )
            if error:
                raise ValidationError(error)

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        moves = self.env["account.move"].browse([vals["move_id"] for vals in vals_list if vals.get("move_id")])
        unsent = moves.filtered(lambda m: not m.nordic_is_sent)
        if unsent:
            # Seed 000: never a collection case for an invoice the customer never received.
            raise UserError(
                _("No collection case for invoices without proof of sending:\n%s", "\n".join(unsent.mapped("name")))
            )
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("nordic.collection.case") or "/"
        cases = super().create(vals_list)
        note = _("Handed over")
        cases._log_states([(case.id, False, case.state, False, "odoo", note) for case in cases])
        return cases

    def write(self, vals):
        if "state" not in vals:
            return super().write(vals)
        old = {case.id: case.state for case in self}
        now = fields.Datetime.now()
        closing = vals["state"] in CLOSED_STATES
        extra = {}
        if closing and "closed_date" not in vals:
            extra["closed_date"] = now
        elif not closing and vals["state"] != "cancelled":
            extra["closed_date"] = False
        result = super().write(dict(vals, **extra))
        log = self.env.context.get(STATE_LOG_KEY)
        if not isinstance(log, StateLog):
            log = StateLog()
        self._log_states(
            [
                (case_id, old_state, vals["state"], log.agency_status, log.source, log.note)
                for case_id, old_state in old.items()
                if old_state != vals["state"]
            ]
        )
        return result

    def _logged(self, source, note=False, agency_status=False):
        """These cases as the product's own writer, whose state changes the history records as caused by
        ``source`` ("odoo", "sidecar" or "agency") with ``note`` and the agency's word ``agency_status``."""
        return as_system(self).with_context(**{STATE_LOG_KEY: StateLog(source, note, agency_status)})

    def _log_states(self, rows):
        """Insert history rows (case_id, old, new, agency status, source, note) in one statement."""
        if not rows:
            return
        now = fields.Datetime.now()
        uid = self.env.uid
        execute_values(
            self.env.cr,
            """
            INSERT INTO nordic_collection_case_history
                (case_id, company_id, date, old_state, new_state, agency_status, source, note, user_id,
                 create_uid, write_uid, create_date, write_date)
            SELECT v.case_id, c.company_id, v.date::timestamp, v.old_state, v.new_state, v.agency_status, v.source,
                   v.note, v.uid, v.uid, v.uid, v.date::timestamp, v.date::timestamp
              FROM (VALUES %s) AS v(case_id, old_state, new_state, agency_status, source, note, uid, date)
              JOIN nordic_collection_case c ON c.id = v.case_id
            """,
            [(r[0], r[1] or None, r[2], r[3] or None, r[4], r[5] or None, uid, now) for r in rows],
            page_size=5000,
        )
        self.env["nordic.collection.case.history"].invalidate_model()
        self.invalidate_recordset(["history_ids"])

    # ------------------------------------------------------------------
    # Hand-over
    # ------------------------------------------------------------------

    @api.model
    def _create_from_handover(self, events):
        """One case per hand-over event (one create call), for the agency serving the invoice."""
        if not events:
            return self.browse()
        moves = events.move_id
        unsent = moves.filtered(lambda m: not m.nordic_is_sent)
        if unsent:
            raise UserError(
                _("No hand-over for invoices without proof of sending:\n%s", "\n".join(unsent.mapped("name")))
            )
        open_moves = self.search(
            [("move_id", "in", moves.ids), ("state", "not in", ("withdrawn", "cancelled"))]
        ).move_id
        agency_by_move = self.env["nordic.collection.agency"]._agency_by_move(moves)
        fees = dict(
            self.env["nordic.dunning.event"]._read_group(
                [("move_id", "in", moves.ids), ("state", "=", "done"), ("fee_charged", "=", True)],
                ["move_id"],
                ["fee_amount:sum"],
            )
        )
        vals_list, invalid = [], {}
        for event in events:
            move = event.move_id
            if move in open_moves:
                continue
            open_moves |= move
            partner = move.commercial_partner_id
            id_number, error = normalize_id_number(
                partner.company_registry,
                partner.country_id.code or move.company_id.country_id.code,
                partner.is_company,
            )
            if error:
                invalid[move.id] = error
            disputed, dispute_text = move._nordic_dispute_info()
            agency = agency_by_move.get(move)
            vals_list.append(
                {
                    "move_id": move.id,
                    "event_id": event.id,
                    "company_id": move.company_id.id,
                    "partner_id": partner.id,
                    "currency_id": move.currency_id.id,
                    "agency_id": agency.id if agency else False,
                    "user_id": (move.invoice_user_id or (agency and agency.user_id) or self.env.user).id,
                    "debtor_name": partner.name,
                    "debtor_is_company": partner.is_company,
                    "debtor_street": ", ".join(filter(None, [partner.street, partner.street2])),
                    "debtor_zip": partner.zip,
                    "debtor_city": partner.city,
                    "debtor_country_id": (partner.country_id or move.company_id.country_id).id,
                    "debtor_phone": partner.phone or partner.mobile,
                    "debtor_email": partner.email,
                    "debtor_id_number": id_number,
                    "amount_principal": event.amount_residual,
                    "amount_fees": fees.get(move, 0.0),
                    "amount_interest": event.interest_amount,
                    "disputed": bool(disputed),
                    "dispute_text": dispute_text or False,
                }
            )
        # Thousands of cases at once: no creation log, no follower, no assignment e-mail per case.
        # The product opens the case for whoever confirmed the run (a Dunning user may not create cases).
        cases = (
            as_system(self.sudo())
            .with_context(mail_create_nolog=True, mail_create_nosubscribe=True, mail_auto_subscribe_no_notify=True)
            .create(vals_list)
        )
        for case in cases:
            if case.move_id.id in invalid:
                case.message_post(body=_("Debtor id number left out: %s", invalid[case.move_id.id]))
            if not case.agency_id:
                case.message_post(body=_("No collection agency serves this invoice's company or journal."))
        return cases
