"""Matching a file's payments to open customer invoices: by OCR/KID reference, then by amount and customer.

Set-based: one query for every reference of the file, one for the customers of the payments left.
"""
# pylint: disable=consider-merging-classes-inherited

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from odoo import _, models

from ..tools.reference import check_digit_ok, is_digits, normalize

OPEN_STATES = ("not_paid", "partial")


@dataclass
class Decision:
    """What the import does with one payment: ``allocations`` [(invoice id, amount)], ``excess`` kept as credit."""

    state: str = "unmatched"
    method: str = False
    partner_id: int = False
    invoice_ids: list = field(default_factory=list)
    allocations: list = field(default_factory=list)
    excess: Decimal = Decimal(0)
    message: str = False


class NordicPaymentImport(models.Model):
    _inherit = "nordic.payment.import"

    def _match_companies(self):
        """The journal's company and its branches: a clinic's invoices are paid to the head office's bankgiro."""
        return self.env["res.company"].sudo().search([("id", "child_of", self.company_id.id)]).ids

    def _match(self, rows):
        """One :class:`Decision` per row of ``rows``, in order."""
        self.ensure_one()
        keys = {normalize(ref).lstrip("0") for row in rows for ref in row.references}
        keys.discard("")
        invoices, by_key = self._reference_invoices(sorted(keys))
        remaining = {inv_id: Decimal(str(inv["residual"])) for inv_id, inv in invoices.items() if inv["open"]}
        decisions, fallback = [], []
        for index, row in enumerate(rows):
            decision = Decision()
            decisions.append(decision)
            refs = [normalize(ref) for ref in row.references]
            if row.amount <= 0:
                decision.message = _("A deduction or reversal of %s: for a person.", row.amount)
                continue
            candidates = []
            for ref in refs:
                candidates += [inv for inv in by_key.get(ref.lstrip("0"), []) if inv not in candidates]
            if candidates:
                self._allocate(decision, row, [invoices[i] for i in candidates], remaining, "reference")
                continue
            bad = [ref for ref in refs if is_digits(ref) and not check_digit_ok(ref)]
            if bad:
                decision.state = "bad_check_digit"
                decision.message = _("Reference %s fails its check digit (MOD10/MOD11).", ", ".join(bad))
                continue
            decision.message = (
                _("No invoice has the reference %s.", ", ".join(refs)) if refs else _("The payment has no reference.")
            )
            if row.payer_name or row.payer_org_no:
                fallback.append(index)
        if fallback:
            self._match_by_customer([(rows[i], decisions[i]) for i in fallback], remaining)
        return decisions

    def _reference_invoices(self, keys):
        """{invoice id: values} of posted customer invoices whose payment reference (without leading zeros) is in
        ``keys``, paid ones included (a second payment of a paid invoice is an overpayment); and {key: [ids]}
        with the oldest due first."""
        invoices, by_key = {}, defaultdict(list)
        if not keys:
            return invoices, by_key
        self.env["account.move"].flush_model(["payment_reference", "amount_residual", "payment_state", "state"])
        self.env.cr.execute(
            """
            SELECT m.id, ltrim(m.payment_reference, '0'), m.commercial_partner_id, c.name, m.amount_residual,
                   m.payment_state IN %s
              FROM account_move m
              JOIN res_currency c ON c.id = m.currency_id
             WHERE m.company_id = ANY(%s) AND m.move_type = 'out_invoice' AND m.state = 'posted'
               AND ltrim(m.payment_reference, '0') = ANY(%s)
             ORDER BY m.invoice_date_due, m.id
            """,
            [OPEN_STATES, self._match_companies(), keys],
        )
        for inv_id, key, partner_id, currency, residual, is_open in self.env.cr.fetchall():
            invoices[inv_id] = {
                "id": inv_id,
                "partner_id": partner_id,
                "currency": currency,
                "residual": residual,
                "open": is_open,
            }
            by_key[key].append(inv_id)
        return invoices, by_key

    def _allocate(self, decision, row, candidates, remaining, method):
        """Spread ``row``'s amount over the open ``candidates`` in order; what is left over is kept as credit."""
        currency = [inv for inv in candidates if inv["currency"] == row.currency]
        if not currency:
            decision.message = _(
                "The invoice is in %(invoice)s, the payment in %(payment)s: for a person.",
                invoice=candidates[0]["currency"],
                payment=row.currency,
            )
            return
        left = row.amount
        decision.partner_id = currency[0]["partner_id"]
        decision.method = method
        decision.invoice_ids = [inv["id"] for inv in currency]
        for inv in currency:
            open_amount = remaining.get(inv["id"], Decimal(0))
            if left <= 0 or open_amount <= 0:
                continue
            part = min(left, open_amount)
            decision.allocations.append((inv["id"], part))
            remaining[inv["id"]] = open_amount - part
            left -= part
        decision.excess = left
        if not left:
            decision.state = "matched"
            decision.message = False
        elif decision.allocations:
            decision.state = "overpaid"
            decision.message = _("%s more than the invoice's open amount: kept as the customer's credit.", left)
        else:
            decision.state = "overpaid"
            decision.message = _("The invoice was already paid: the payment is kept as the customer's credit.")

    def _match_by_customer(self, pairs, remaining):
        """Payments without a usable reference: the single open invoice of the payer (by organisation number,
        else by name) with exactly the payment's amount. One query for all of them."""
        names = sorted({row.payer_name.strip().lower() for row, _d in pairs if row.payer_name})
        org_nos = sorted({row.payer_org_no.lstrip("0") for row, _d in pairs if row.payer_org_no})
        org_keys = org_nos + [f"{org}01" for org in org_nos]  # a Swedish VAT number is SE + org. number + 01
        self.env["account.move"].flush_model()
        self.env["res.partner"].flush_model(["name", "company_registry", "vat"])
        self.env.cr.execute(
            """
            SELECT m.id, m.commercial_partner_id, c.name, m.amount_residual, lower(p.name),
                   ltrim(regexp_replace(COALESCE(p.company_registry, ''), '\\D', '', 'g'), '0'),
                   ltrim(regexp_replace(COALESCE(p.vat, ''), '\\D', '', 'g'), '0')
              FROM account_move m
              JOIN res_partner p ON p.id = m.commercial_partner_id
              JOIN res_currency c ON c.id = m.currency_id
             WHERE m.company_id = ANY(%s) AND m.move_type = 'out_invoice' AND m.state = 'posted'
               AND m.payment_state IN %s
               AND (lower(p.name) = ANY(%s)
                    OR ltrim(regexp_replace(COALESCE(p.company_registry, ''), '\\D', '', 'g'), '0') = ANY(%s)
                    OR ltrim(regexp_replace(COALESCE(p.vat, ''), '\\D', '', 'g'), '0') = ANY(%s))
            """,
            [self._match_companies(), OPEN_STATES, names, org_keys, org_keys],
        )
        by_name, by_org = defaultdict(list), defaultdict(list)
        for inv_id, partner_id, currency, residual, name, registry, vat in self.env.cr.fetchall():
            inv = {"id": inv_id, "partner_id": partner_id, "currency": currency, "residual": residual, "open": True}
            remaining.setdefault(inv_id, Decimal(str(residual)))
            by_name[name].append(inv)
            for key in {registry, vat, vat[:-2] if vat.endswith("01") else vat} - {""}:
                by_org[key].append(inv)
        for row, decision in pairs:
            pool = by_org.get(row.payer_org_no.lstrip("0"), []) if row.payer_org_no else []
            pool = pool or by_name.get(row.payer_name.strip().lower(), [])
            fitting = [
                inv
                for inv in pool
                if inv["currency"] == row.currency and remaining.get(inv["id"], Decimal(0)) == row.amount
            ]
            if len({inv["id"] for inv in fitting}) == 1:
                self._allocate(decision, row, fitting[:1], remaining, "amount")
