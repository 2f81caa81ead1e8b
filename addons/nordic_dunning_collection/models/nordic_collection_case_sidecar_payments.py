"""Payments the agency forwards to us: posted inbound payments reconciled with their invoices.

A payment is applied up to the case's open claim. What the agency reports above it is never booked as a
customer credit: it is held on the change and the case, flagged, with an activity for a person to review
(a refund to the debtor, or the agency's mistake).
"""

from collections import defaultdict

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_is_zero

from odoo.addons.nordic_dunning.tools.sql import execute_values


# The sidecar API is split in files (its calls, validating changes, applying them) to keep each short.
# pylint: disable=consider-merging-classes-inherited
class NordicCollectionCase(models.Model):
    _inherit = "nordic.collection.case"

    @api.model
    def _sidecar_payment_journal(self, agency, company):
        """The bank journal for the agency's payments to ``company``: the agency's own journal when it belongs
        to the company or one of its parents (a branch banks with its head office), else the bank journal of
        the company, or of its nearest parent."""
        chain = company.parent_ids  # from the root to the company itself
        journal = agency.payment_journal_id
        if journal and journal.company_id in chain:
            return journal
        journals = self.env["account.journal"].search([("company_id", "in", chain.ids), ("type", "=", "bank")])
        for parent in reversed(chain):
            found = journals.filtered(lambda j, c=parent: j.company_id == c)[:1]
            if found:
                return found
        raise UserError(
            _(
                "No bank journal for agency payments in company %(company)s: set a payment journal on agency "
                "%(agency)s.",
                company=company.name,
                agency=agency.name,
            )
        )

    @api.model
    def _sidecar_split_excess(self, payments, increments):
        """{change id: (applied, excess)}: each payment up to what its case still claims, in the page's order
        (the agency's fees and interest of the same page count as claimed)."""
        open_claim = {}
        result = {}
        for p in payments:
            case = p["case"]
            rounding = case.currency_id.rounding
            if case.id not in open_claim:
                fees, interest = increments.get(case.id, (0.0, 0.0))
                open_claim[case.id] = max(case.amount_remaining + fees + interest, 0.0)
            applied = min(p["amount"], open_claim[case.id])
            if float_compare(applied, p["amount"], precision_rounding=rounding) >= 0:
                applied = p["amount"]
            open_claim[case.id] = case.currency_id.round(open_claim[case.id] - applied)
            result[p["change_id"]] = (case.currency_id.round(applied), case.currency_id.round(p["amount"] - applied))
        return result

    @api.model
    def _sidecar_apply_payments(self, agency, payments, stored, increments):
        """Agency payments become posted inbound payments (up to the open claim), reconciled with their invoices."""
        if not payments:
            return
        split = self._sidecar_split_excess(payments, increments)
        by_company = defaultdict(list)
        for p in payments:
            if not float_is_zero(split[p["change_id"]][0], precision_rounding=p["case"].currency_id.rounding):
                by_company[p["case"].company_id].append(p)
        paid = defaultdict(float)
        links, change_rows = [], []
        for company, items in by_company.items():
            journal = self._sidecar_payment_journal(agency, company)
            created = (
                self.env["account.payment"]
                .with_company(company)
                .create(
                    [
                        {
                            "payment_type": "inbound",
                            "partner_type": "customer",
                            "partner_id": p["case"].partner_id.id,
                            "amount": split[p["change_id"]][0],
                            "currency_id": p["case"].currency_id.id,
                            "journal_id": journal.id,
                            "date": p["occurred_at"].date(),
                            "memo": self.env._(
                                "%(agency)s payment %(case)s (%(change)s)",
                                agency=agency.code,
                                case=p["case"].name,
                                change=p["change_id"],
                            ),
                        }
                        for p in items
                    ]
                )
            )
            created.action_post()
            plan = []
            for p, payment in zip(items, created, strict=True):
                invoice_lines = p["case"].move_id.line_ids.filtered(
                    lambda line: line.display_type == "payment_term" and not line.reconciled
                )
                payment_lines = payment.move_id.line_ids.filtered(
                    lambda line, accounts=invoice_lines.account_id: line.account_id in accounts and not line.reconciled
                )
                if invoice_lines and payment_lines:
                    plan.append(invoice_lines + payment_lines)
                paid[p["case"].id] += split[p["change_id"]][0]
                links.append((p["case"].id, payment.id))
                change_rows.append((stored[p["change_id"]], payment.id))
            # Linked before they are reconciled: the agency paid these out, nothing to report back to it.
            if links:
                execute_values(
                    self.env.cr,
                    "INSERT INTO nordic_collection_case_payment_rel (case_id, payment_id) VALUES %s "
                    "ON CONFLICT DO NOTHING",
                    links,
                )
            if plan:
                self.env["account.move.line"]._reconcile_plan(plan)
        if links:
            execute_values(
                self.env.cr,
                "UPDATE nordic_collection_case_change ch SET payment_id = v.pid"
                " FROM (VALUES %s) AS v(id, pid) WHERE ch.id = v.id",
                change_rows,
            )
            execute_values(
                self.env.cr,
                "UPDATE nordic_collection_case c SET amount_paid = COALESCE(c.amount_paid, 0) + v.paid::numeric "
                "FROM (VALUES %s) AS v(id, paid) WHERE c.id = v.id",
                list(paid.items()),
            )
            self.invalidate_model(["payment_ids"])
            self.env["nordic.collection.case.change"].invalidate_model(["payment_id"])
            self._sidecar_refresh_amounts(list(paid))
        self._sidecar_hold_excess(agency, payments, stored, split)

    @api.model
    def _sidecar_hold_excess(self, agency, payments, stored, split):
        """The part of payments above the open claim: kept on the change and the case for review, never booked."""
        excess = [(p, split[p["change_id"]][1]) for p in payments]
        excess = [(p, amount) for p, amount in excess if amount > 0]
        if not excess:
            return
        execute_values(
            self.env.cr,
            "UPDATE nordic_collection_case_change ch SET amount_excess = v.excess::numeric"
            " FROM (VALUES %s) AS v(id, excess) WHERE ch.id = v.id",
            [(stored[p["change_id"]], amount) for p, amount in excess],
        )
        by_case = defaultdict(float)
        for p, amount in excess:
            by_case[p["case"]] += amount
        execute_values(
            self.env.cr,
            "UPDATE nordic_collection_case c SET amount_excess = COALESCE(c.amount_excess, 0) + v.excess::numeric,"
            " excess_review = TRUE FROM (VALUES %s) AS v(id, excess) WHERE c.id = v.id",
            [(case.id, amount) for case, amount in by_case.items()],
        )
        self.invalidate_model(["amount_excess", "excess_review"])
        self.env["nordic.collection.case.change"].invalidate_model(["amount_excess"])
        note = _(
            "The payment was applied up to the open claim; the excess is held, not credited to the customer. "
            "Refund the debtor or settle it with the agency."
        )
        self._plan_activities(
            "mail.mail_activity_data_todo",
            [
                (
                    case,
                    self.env._(
                        "%(agency)s paid %(amount)s more than the open claim: review", agency=agency.name, amount=amount
                    ),
                    note,
                    False,
                )
                for case, amount in by_case.items()
            ],
        )
