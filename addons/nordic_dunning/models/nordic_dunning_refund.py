from collections import defaultdict

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class NordicDunningRefund(models.Model):
    """Money to give back to a customer after a wrongful demand: a paid cancelled fee or an overpayment."""

    _name = "nordic.dunning.refund"
    _description = "Refund proposal"
    _inherit = ["mail.thread"]
    _order = "state, partner_id, id"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    partner_id = fields.Many2one("res.partner", "Customer", required=True, index=True, readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    amount = fields.Monetary(required=True, readonly=True)
    source = fields.Selection(
        [("fee", "Cancelled fee already paid"), ("overpayment", "Overpayment")], required=True, readonly=True
    )
    event_id = fields.Many2one("nordic.dunning.event", "Cancelled measure", readonly=True, index="btree_not_null")
    move_id = fields.Many2one("account.move", "Invoice", readonly=True)
    move_line_id = fields.Many2one(
        "account.move.line", "Open credit", readonly=True, help="The customer's credit that the refund settles."
    )
    state = fields.Selection(
        [("proposed", "Proposed"), ("done", "Done"), ("cancelled", "Cancelled")],
        default="proposed",
        required=True,
        tracking=True,
        index=True,
    )
    method = fields.Selection(
        [("payment", "Paid back"), ("credit", "Kept as credit on account")], readonly=True, tracking=True
    )
    payment_id = fields.Many2one("account.payment", readonly=True)
    note = fields.Char()

    @api.depends("partner_id", "amount", "source")
    def _compute_display_name(self):
        labels = dict(self._fields["source"].selection)
        for refund in self:
            refund.display_name = f"{refund.partner_id.name}: {refund.amount:.2f} ({labels.get(refund.source, '')})"

    # ------------------------------------------------------------------
    # Proposals
    # ------------------------------------------------------------------

    @api.model
    def _propose_overpayments(self, partners, company):
        """Open customer credits (unmatched payments) of ``partners`` become refund proposals, once each."""
        if not partners:
            return self.browse()
        known = self.search(
            [
                ("partner_id", "in", partners.commercial_partner_id.ids),
                ("move_line_id", "!=", False),
                ("state", "!=", "cancelled"),
            ]
        ).move_line_id
        credits = self.env["account.move.line"].search(
            [
                ("company_id", "=", company.id),
                ("partner_id", "in", partners.commercial_partner_id.ids),
                ("account_id.account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("amount_residual", "<", 0),
                ("payment_id", "!=", False),
                ("id", "not in", known.ids),
            ]
        )
        return self.create(
            [
                {
                    "company_id": company.id,
                    "partner_id": line.partner_id.id,
                    "currency_id": line.currency_id.id,
                    "amount": -line.amount_residual_currency,
                    "source": "overpayment",
                    "move_line_id": line.id,
                    "note": _("Unmatched payment %s", line.move_id.name),
                }
                for line in credits
            ]
        )

    # ------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------

    def _check_proposed(self):
        if any(refund.state != "proposed" for refund in self):
            raise UserError(_("Only proposed refunds can be processed."))

    def action_pay(self):
        """Pay the selected refunds back in one batch of outbound payments."""
        self._check_proposed()
        self._pay()
        return True

    def action_keep_as_credit(self):
        """Keep the selected refunds as credit on the customers' accounts."""
        self._check_proposed()
        self.write({"state": "done", "method": "credit"})
        return True

    def action_cancel(self):
        self._check_proposed()
        self.write({"state": "cancelled"})
        return True

    def _pay(self):
        """One outbound payment per customer and currency, matched against the open credits."""
        groups = defaultdict(lambda: self.browse())
        for refund in self:
            groups[(refund.company_id, refund.partner_id, refund.currency_id)] |= refund
        journals = {}
        vals_list, keys = [], []
        for (company, partner, currency), refunds in groups.items():
            if company not in journals:
                journals[company] = self.env["account.journal"].search(
                    [("type", "=", "bank"), *self.env["account.journal"]._check_company_domain(company)], limit=1
                )
            if not journals[company]:
                raise UserError(_("Company %s has no bank journal to pay refunds from.", company.name))
            vals = {
                "payment_type": "outbound",
                "partner_type": "customer",
                "partner_id": partner.id,
                "amount": sum(refunds.mapped("amount")),
                "currency_id": currency.id,
                "journal_id": journals[company].id,
                "company_id": company.id,
                "memo": _("Refund after cancelled dunning"),
            }
            account = refunds.move_line_id.account_id[:1]
            if account:
                vals["destination_account_id"] = account.id
            vals_list.append(vals)
            keys.append(refunds)
        payments = self.env["account.payment"].create(vals_list)
        payments.action_post()
        plan = []
        for payment, refunds in zip(payments, keys, strict=True):
            refunds.write({"state": "done", "method": "payment", "payment_id": payment.id})
            counterpart = payment.move_id.line_ids.filtered(
                lambda line, accounts=refunds.move_line_id.account_id: (
                    line.account_id in accounts and not line.reconciled
                )
            )
            open_credits = refunds.move_line_id.filtered(lambda line: not line.reconciled)
            if counterpart and open_credits:
                plan.append(counterpart | open_credits)
        if plan:
            self.env["account.move.line"]._reconcile_plan(plan)
        return payments
