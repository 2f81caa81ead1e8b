"""Booking matched payments: a few journal entries per file, reconciled with the invoices in one plan.

A file's payments are booked as journal entries on the bank journal, one per payment date and currency and
chunk of :data:`CHUNK` payments: a receivable credit per invoice a payment pays (and one for what it pays
beyond the open amount, left open as the customer's credit), against one debit on the journal's outstanding
receipts account (which the bank statement's deposit later clears, as Bankgirot reports one deposit per
section). The credits are reconciled with the invoices' receivable lines by Odoo's own reconciliation
(``_reconcile_plan``, batched), never one payment at a time.
"""
# pylint: disable=consider-merging-classes-inherited

from collections import defaultdict

from odoo import Command, _, models
from odoo.exceptions import UserError

from odoo.addons.nordic_dunning.tools.system import as_system

CHUNK = 200


class NordicPaymentImport(models.Model):
    _inherit = "nordic.payment.import"

    def _receipt_account(self):
        journal = self.journal_id
        # As Odoo's payments find theirs (account.payment._get_outstanding_account): the journal's incoming
        # method, else the chart's outstanding receipts account, else the company's transfer account.
        account = journal.inbound_payment_method_line_ids[:1].payment_account_id
        if not account:
            company = journal.company_id
            charts = self.with_context(allowed_company_ids=company.root_id.ids).env["account.chart.template"]
            account = charts.ref("account_journal_payment_debit_account_id", raise_if_not_found=False)
            account = account or company.transfer_account_id
        if not account:
            raise UserError(_("Journal %s has no outstanding receipts account to book payments on.", journal.name))
        return account

    def _book_payments(self, lines, decisions):
        """Book and reconcile the payments of ``lines`` whose ``decisions`` pay invoices or keep a credit."""
        self.ensure_one()
        todo = [
            (line, decision)
            for line, decision in zip(lines, decisions, strict=True)
            if decision.allocations or (decision.excess and decision.partner_id)
        ]
        if not todo:
            return self.env["account.move"]
        company = self.company_id
        invoice_ids = {inv_id for _line, decision in todo for inv_id, _amount in decision.allocations}
        receivables = self.env["account.move.line"].search(
            [
                ("move_id", "in", list(invoice_ids)),
                ("account_id.account_type", "=", "asset_receivable"),
                ("reconciled", "=", False),
            ]
        )
        by_invoice = defaultdict(lambda: self.env["account.move.line"])
        for aml in receivables:
            by_invoice[aml.move_id.id] |= aml
        partners = self.env["res.partner"].browse({decision.partner_id for _line, decision in todo})
        partner_accounts = {p.id: p.with_company(company).property_account_receivable_id.id for p in partners}
        groups = defaultdict(list)
        for line, decision in todo:
            groups[(line.date, line.currency_id)].append((line, decision))
        debit_account = self._receipt_account()
        move_vals, plans = [], []
        for (day, currency), items in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1].id)):
            for start in range(0, len(items), CHUNK):
                vals, plan = self._entry_vals(day, currency, items[start : start + CHUNK], by_invoice, partner_accounts)
                vals["line_ids"].append(Command.create(self._debit_vals(currency, plan, debit_account)))
                move_vals.append(vals)
                plans.append(plan)
        # Entries of plain receivable and outstanding lines, balanced by construction: no tax or payment-term
        # line for Odoo to synchronise (the context key only skips that work, it guards nothing).
        moves = self.env["account.move"].with_context(skip_invoice_sync=True).create(move_vals)
        moves.action_post()
        reconcile = []
        for move, plan in zip(moves, plans, strict=True):
            created = move.line_ids.sorted("id")
            if len(created) != len(plan) + 1:
                raise UserError(_("Journal entry %s does not have the lines the import planned.", move.name))
            for aml, (invoice_id, _amount, _balance) in zip(created, plan, strict=False):
                if invoice_id:
                    by_invoice[invoice_id] |= aml
        reconcile = [amls for amls in by_invoice.values() if amls.filtered("nordic_payment_line_id")]
        if reconcile:
            self.env["account.move.line"]._reconcile_plan(reconcile)
        as_system(self).write({"move_ids": [Command.set(moves.ids)]})
        self._propose_refunds(moves.line_ids.filtered(lambda aml: aml.nordic_payment_line_id and not aml.reconciled))
        return moves

    def _entry_vals(self, day, currency, items, by_invoice, partner_accounts):
        """The entry of one chunk: credit line values, and its plan [(invoice id or False, amount)]."""
        company = self.company_id
        line_vals, plan = [], []
        for line, decision in items:
            parts = list(decision.allocations)
            if decision.excess:
                parts.append((False, decision.excess))
            for invoice_id, amount in parts:
                account = by_invoice[invoice_id][:1].account_id.id if invoice_id else False
                account = account or partner_accounts[decision.partner_id]
                amount = float(amount)
                balance = currency._convert(amount, company.currency_id, company, day)
                line_vals.append(
                    Command.create(
                        {
                            "name": line.reference or line.payer_name or self.name,
                            "account_id": account,
                            "partner_id": decision.partner_id,
                            "currency_id": currency.id,
                            "amount_currency": -amount,
                            "balance": -balance,
                            "nordic_payment_line_id": line.id,
                            "display_type": "product",
                            "tax_ids": [],
                            "analytic_distribution": False,
                        }
                    )
                )
                plan.append((invoice_id, amount, balance))
        vals = {
            "move_type": "entry",
            "journal_id": self.journal_id.id,
            "date": day,
            "ref": _("Payment file %s", self.name),
            "line_ids": line_vals,
        }
        return vals, plan

    def _debit_vals(self, currency, plan, account):
        return {
            "name": _("Payments of %s", self.name),
            "account_id": account.id,
            "currency_id": currency.id,
            "amount_currency": currency.round(sum(amount for _inv, amount, _balance in plan)),
            "balance": self.company_id.currency_id.round(sum(balance for _inv, _amount, balance in plan)),
            "display_type": "product",
            "tax_ids": [],
            "analytic_distribution": False,
        }

    def _propose_refunds(self, credits):
        """What a file paid beyond the open amounts becomes refund proposals (the engine's refunds)."""
        if not credits:
            return
        # The refund proposal is the product's own consequence of the import, whatever the importer's group.
        self.env["nordic.dunning.refund"].sudo().create(
            [
                {
                    "company_id": self.company_id.id,
                    "partner_id": aml.partner_id.id,
                    "currency_id": aml.currency_id.id,
                    "amount": -aml.amount_residual_currency,
                    "source": "overpayment",
                    "move_line_id": aml.id,
                    "note": _(
                        "Overpayment in payment file %(file)s, line %(line)s",
                        file=self.name,
                        line=aml.nordic_payment_line_id.sequence,
                    ),
                }
                for aml in credits
            ]
        )
