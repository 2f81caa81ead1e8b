"""What the agency must hear about a claim it holds: the open amount at registration, every payment or credit
note set against the invoice in Odoo afterwards, and every dispute or hold that stops collection.

Seed 004: a dispute after hand-over is notified to the agency at once so the case stops; Amili's
``creditor--payments``: payments made to the creditor lower the agency's claim. The agency may only claim what
the debtor still owes: Inkassoloven § 6 (good collection practice) and the Swedish inkassolag (1974:182) 4 §
forbid demanding what is not due.

Everything here is queued from where the data is written (the reconciliation, the dispute, the hold), for any
caller, and written with the product's sentinel (:func:`as_system`): callers cannot set these fields themselves.
"""

from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import float_is_zero

from odoo.addons.nordic_dunning.tools.system import as_system, check_system_fields

from .nordic_collection_agency import CLOSED_STATES

# Fields of a case only the product writes here.
CLAIM_SYSTEM_FIELDS = ("amount_registered",)
# Fields of a command only the product writes here.
COMMAND_SYSTEM_FIELDS = ("partial_id",)


# The case's model is split by concern (hand-over, sidecar API, agency changes, claims) to keep each file short.
# pylint: disable=consider-merging-classes-inherited
class NordicCollectionCase(models.Model):
    _inherit = "nordic.collection.case"

    amount_registered = fields.Monetary(
        "Registered at the agency",
        readonly=True,
        copy=False,
        help="The invoice's open amount sent to the agency when the case was first submitted; payments and credit "
        "notes set against the invoice afterwards are reported to the agency as they happen.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_system_fields(self, vals, CLAIM_SYSTEM_FIELDS)
        return super().create(vals_list)

    def write(self, vals):
        check_system_fields(self, vals, CLAIM_SYSTEM_FIELDS)
        return super().write(vals)

    # ------------------------------------------------------------------
    # Registration: the open amount
    # ------------------------------------------------------------------

    def _sidecar_case(self):
        """The registration claims what is open now: the amount first registered, else the invoice's residual."""
        record = super()._sidecar_case()
        rounding = self.currency_id.rounding
        if float_is_zero(self.amount_registered, precision_rounding=rounding):
            principal = self.currency_id.round(self.move_id.amount_residual)
        else:
            # A registration sent again (its lease expired) is the same registration: what was paid since is a
            # creditor payment already queued, never a smaller principal.
            principal = self.amount_registered
        record["debts"][0]["principal"] = principal
        return record

    @api.model
    def sidecar_claim(self, agency_id, limit, worker):
        claimed = super().sidecar_claim(agency_id, limit, worker)
        cases = as_system(self.sudo()).browse([item["id"] for item in claimed])
        fresh = {
            item["id"]: item["case"]["debts"][0]["principal"]
            for item, case in zip(claimed, cases, strict=True)
            if float_is_zero(case.amount_registered, precision_rounding=case.currency_id.rounding)
        }
        by_amount = defaultdict(list)
        for case_id, amount in fresh.items():
            by_amount[amount].append(case_id)
        for amount, case_ids in by_amount.items():
            cases.browse(case_ids).write({"amount_registered": amount})
        return claimed

    # ------------------------------------------------------------------
    # Payments and credit notes
    # ------------------------------------------------------------------

    @api.model
    def _queue_claim_reductions(self, partials):
        """Queue one ``creditor_payment`` per reconciliation of an invoice whose claim the agency holds.

        Called with every new ``account.partial.reconcile``: register payment, bank reconciliation, a credit note
        set against the invoice, a manual reconciliation. A payment the agency itself paid out (recorded by the
        sidecar from the agency's changes) is already known to it and is not reported back.
        """
        partials = partials.sudo()
        moves = (partials.debit_move_id | partials.credit_move_id).move_id
        invoices = moves.filtered(lambda m: m.is_sale_document(include_receipts=True))
        if not invoices:
            return self.env["nordic.collection.case.command"]
        reported = self.env["nordic.collection.case.command"].sudo().search([("partial_id", "in", partials.ids)])
        partials -= reported.partial_id
        cases = self._claim_cases_locked(invoices)
        # Only a claim the agency has (or was sent) is reduced; a case still in the outbox will be registered
        # with the open amount of its submission.
        cases = cases.filtered(
            lambda c: c.external_id or not float_is_zero(c.amount_registered, precision_rounding=c.currency_id.rounding)
        )
        if not cases:
            return self.env["nordic.collection.case.command"]
        case_by_move = {case.move_id: case for case in cases}
        agency_moves = self._agency_payment_moves(moves)
        vals_list = []
        for partial in partials:
            for line, amount, other in (
                (partial.debit_move_id, partial.debit_amount_currency, partial.credit_move_id),
                (partial.credit_move_id, partial.credit_amount_currency, partial.debit_move_id),
            ):
                case = case_by_move.get(line.move_id)
                if not case or line.display_type != "payment_term" or other.move_id in agency_moves:
                    continue
                amount = case.currency_id.round(amount)
                if float_is_zero(amount, precision_rounding=case.currency_id.rounding):
                    continue  # an exchange difference: the debtor paid nothing
                vals_list.append(self._claim_reduction_vals(case, partial, amount, other.move_id))
        commands = as_system(self.env["nordic.collection.case.command"]).sudo().create(vals_list)
        self._log_queued(
            commands,
            lambda command: self.env._(
                "Queued for the agency: %(reason)s (%(amount)s %(currency)s).",
                reason=command.reason,
                amount=command.data["amount"],
                currency=command.case_id.currency_id.name,
            ),
        )
        return commands

    @api.model
    def _log_queued(self, commands, message):
        """One chatter note per case saying what was queued for its agency (``message(command)`` each)."""
        bodies = defaultdict(list)
        for command in commands:
            bodies[command.case_id.id].append(message(command))
        commands.case_id._message_log_batch(bodies={case_id: " ".join(texts) for case_id, texts in bodies.items()})

    @api.model
    def _undo_claim_reductions(self, partials):
        """``partials`` are about to be removed (unreconciled): their reports still pending are withdrawn from the
        queue; for those already sent the case says that the agency now claims too little."""
        commands = self.env["nordic.collection.case.command"].sudo().search([("partial_id", "in", partials.ids)])
        if not commands:
            return
        pending = commands.filtered(lambda c: c.state == "pending")
        sent = commands - pending
        self._log_queued(
            pending,
            lambda command: self.env._(
                "Not sent to the agency: %(reason)s was taken off the invoice again.", reason=command.reason
            ),
        )
        self._log_queued(
            sent,
            lambda command: self.env._(
                "%(reason)s was taken off the invoice after the agency was told: it now claims %(amount)s too "
                "little. Settle the difference with the agency.",
                reason=command.reason,
                amount=command.data["amount"],
            ),
        )
        as_system(pending).unlink()

    @api.model
    def _claim_reduction_vals(self, case, partial, amount, counterpart):
        credit_note = counterpart.move_type == "out_refund"
        reason = (
            self.env._("Credit note %s set against the invoice", counterpart.name)
            if credit_note
            else self.env._("Payment %s received by the creditor", counterpart.name)
        )
        return {
            "case_id": case.id,
            "action": "creditor_payment",
            "partial_id": partial.id,
            "reason": reason,
            "data": {
                "amount": amount,
                "date": fields.Date.to_string(counterpart.date),
                "reference": (counterpart.name or "")[:100],
                "kind": "credit_note" if credit_note else "payment",
                "reason": reason,
            },
        }

    @api.model
    def _claim_cases_locked(self, invoices):
        """The open cases (with an agency) of ``invoices``, their rows touched in this transaction.

        The sidecar's claim reads the invoice's residual and locks its cases: touching them makes a claim running
        at the same time fail to serialize and start again (Odoo retries it), so a payment is never lost between
        the residual a registration read and the commands queued for a registration sent.
        """
        self.flush_model(["move_id", "state", "agency_id", "amount_registered", "external_id"])
        self.env.cr.execute(
            """
            UPDATE nordic_collection_case SET write_date = (now() AT TIME ZONE 'UTC')
             WHERE move_id = ANY(%s) AND state NOT IN %s AND agency_id IS NOT NULL
            RETURNING id
            """,
            [invoices.ids, CLOSED_STATES],
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        self.invalidate_model(["write_date"])
        return self.sudo().browse(ids)

    @api.model
    def _agency_payment_moves(self, moves):
        """The journal entries among ``moves`` of payments an agency paid out (the sidecar recorded them)."""
        self.env["account.payment"].flush_model(["move_id"])
        self.env.cr.execute(
            """
            SELECT p.move_id FROM account_payment p
              JOIN nordic_collection_case_payment_rel r ON r.payment_id = p.id
             WHERE p.move_id = ANY(%s)
            """,
            [moves.ids],
        )
        return self.env["account.move"].browse([row[0] for row in self.env.cr.fetchall()])

    # ------------------------------------------------------------------
    # Disputes and holds
    # ------------------------------------------------------------------

    @api.model
    def _sync_agency_holds(self, invoices):
        """Tell the agency to pause the cases of ``invoices`` that are disputed or held from dunning, and to
        resume those it paused for us once the dispute is closed and the hold lifted.

        What the agency was last told is the last pause or resume command of the case (pending or carried out):
        a command is queued only when the invoice's hold differs from it, so this can run after every write.
        """
        invoices = invoices.sudo().filtered(lambda m: m.move_type == "out_invoice")
        if not invoices:
            return self.env["nordic.collection.case.command"]
        cases = self.sudo().search(
            [("move_id", "in", invoices.ids), ("state", "not in", CLOSED_STATES), ("agency_id", "!=", False)]
        )
        if not cases:
            return self.env["nordic.collection.case.command"]
        self.env["nordic.collection.case.command"].flush_model(["case_id", "action", "state"])
        self.env.cr.execute(
            """
            SELECT DISTINCT ON (case_id) case_id, action FROM nordic_collection_case_command
             WHERE case_id = ANY(%s) AND action IN ('pause', 'resume') AND state != 'failed'
             ORDER BY case_id, id DESC
            """,
            [cases.ids],
        )
        told = dict(self.env.cr.fetchall())
        vals_list = []
        for case in cases:
            held, reason = case.move_id._nordic_agency_hold()
            if held and told.get(case.id) != "pause":
                vals_list.append({"case_id": case.id, "action": "pause", "reason": reason})
            elif not held and told.get(case.id) == "pause" and not (case.dispute_at_agency and not case.dispute_answer):
                # The agency's own dispute hold waits for our answer (uphold or withdraw), not for a resume.
                vals_list.append({"case_id": case.id, "action": "resume", "reason": reason})
        for vals in vals_list:
            vals["data"] = {"reason": vals["reason"]}
        commands = as_system(self.env["nordic.collection.case.command"]).sudo().create(vals_list)
        self._log_queued(
            commands,
            lambda command: self.env._(
                "Queued for the agency: %(action)s. %(reason)s", action=command.action, reason=command.reason
            ),
        )
        return commands


class NordicCollectionCaseCommand(models.Model):
    _inherit = "nordic.collection.case.command"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            check_system_fields(self, vals, COMMAND_SYSTEM_FIELDS)
        return super().create(vals_list)

    def write(self, vals):
        check_system_fields(self, vals, COMMAND_SYSTEM_FIELDS)
        return super().write(vals)
