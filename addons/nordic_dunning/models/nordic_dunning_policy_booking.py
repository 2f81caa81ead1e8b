"""Booking charges (reminder fees, compensation, late interest) on customers' accounts, set-based."""
# pylint: disable=consider-merging-classes-inherited

from collections import defaultdict

from odoo import Command, _, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..tools.sql import array_literal

# Columns of a cloned receivable line that differ from its template line (see _post_charges); every
# other stored column is copied from the template, which the ORM created in the same entry.
CHARGE_COLUMNS = (
    "partner_id",
    "name",
    "amount_currency",
    "balance",
    "debit",
    "credit",
    "amount_residual",
    "amount_residual_currency",
    "date_maturity",
)


class NordicDunningPolicy(models.Model):
    _inherit = "nordic.dunning.policy"

    def _post_charges(self, charges, day, ref):
        """Book charges on customers' accounts in one posted entry; return (entry, receivable lines).

        ``charges``: dicts with invoice, amount, currency, account (income), label, maturity. One
        receivable line per charge on the invoice's receivable account and customer, so the customer
        really owes it; income is summed per account and currency. No VAT: fees and interest are
        compensation, not supplies. The receivable lines are returned in the order of ``charges``.

        The journal entry's ORM costs about 2 ms per line (every line runs Odoo's onchange-like
        computes), so only one receivable line per receivable account and currency (the *template*)
        and the income lines are created through the ORM; the other receivable lines are copies of
        their template inserted by one statement, differing only in partner, label, amounts and
        maturity (``CHARGE_COLUMNS``, the values Odoo itself would compute for them). Odoo then posts
        the entry itself: balance, lock dates, sequence, hash, related fields and constraints.
        """
        self.ensure_one()
        journal = self.fee_journal_id or self.env["account.journal"].search(
            [("type", "=", "general"), *self.env["account.journal"]._check_company_domain(self.company_id)], limit=1
        )
        if not journal or any(not c["account"] for c in charges):
            raise UserError(_("Set a fee journal and income accounts on policy %s.", self.name))
        lines = self._charge_lines(charges, day)
        # One template per receivable account and currency: the first charge of each group.
        templates = {}
        for index, line in enumerate(lines):
            templates.setdefault((line["account_id"], line["currency_id"]), index)
        income = defaultdict(lambda: [0.0, 0.0])
        for charge, line in zip(charges, lines, strict=True):
            totals = income[(charge["account"].id, line["currency_id"])]
            totals[0] += line["amount_currency"]
            totals[1] += line["balance"]
        company_currency = self.company_id.currency_id
        line_vals = [Command.create(self._charge_line_vals(lines[index])) for index in templates.values()]
        for (account_id, currency_id), (amount, amount_company) in income.items():
            line_vals.append(
                Command.create(
                    {
                        "account_id": account_id,
                        "name": ref,
                        "amount_currency": -amount,
                        "currency_id": currency_id,
                        # The receivable lines' own balances: the entry balances to the öre.
                        "balance": -company_currency.round(amount_company),
                        "analytic_distribution": False,
                        "tax_ids": [Command.clear()],
                    }
                )
            )
        # Unbalanced until the copies are inserted; Odoo checks the balance when it posts the entry.
        move = (
            self.env["account.move"]
            .with_context(check_move_validity=False, skip_invoice_sync=True)
            .create({"move_type": "entry", "journal_id": journal.id, "date": day, "ref": ref, "line_ids": line_vals})
        )
        # The number Odoo's posting would give the entry (account.move._compute_name), taken now so that
        # the copies are inserted with their entry's name: Odoo's post then finds nothing to update on them.
        move._set_next_sequence()
        created = move.line_ids.sorted("id")[: len(templates)]
        created.flush_recordset()
        line_ids = [None] * len(lines)
        for index, template in zip(templates.values(), created, strict=True):
            line_ids[index] = template.id
        copies = [index for index in range(len(lines)) if line_ids[index] is None]
        by_group = {key: line_ids[index] for key, index in templates.items()}
        for index, line_id in zip(copies, self._insert_charge_copies(lines, copies, by_group), strict=True):
            line_ids[index] = line_id
        # The entry's lines changed behind the ORM's back: its amounts are computed anew from the database.
        move.invalidate_recordset(["line_ids"])
        move.modified(["line_ids"])
        receivable_lines = self.env["account.move.line"].browse(line_ids)
        # The copies are inserted as lines of a posted entry (see _insert_charge_copies); with these values
        # in the cache, posting writes nothing on them.
        receivable_lines.fetch(["parent_state", "move_name"])
        receivable_lines._validate_fields(CHARGE_COLUMNS)
        move.action_post()
        return move, receivable_lines

    def _charge_lines(self, charges, day):
        """The receivable line of each charge, as column values (the invoice's receivable account and customer)."""
        invoices = self.env["account.move"].concat(*(c["invoice"] for c in charges))
        self.env["account.move.line"].flush_model(["move_id", "account_id", "display_type"])
        invoices.flush_recordset(["commercial_partner_id"])
        rows = self.env.execute_query(
            SQL(
                """SELECT DISTINCT ON (m.id) m.id, l.account_id, m.commercial_partner_id
                     FROM account_move m
                     JOIN account_move_line l ON l.move_id = m.id AND l.display_type = 'payment_term'
                    WHERE m.id = ANY(%s::int[])
                 ORDER BY m.id, l.id""",
                array_literal(invoices.ids),
            )
        )
        receivable = {move_id: (account_id, partner_id) for move_id, account_id, partner_id in rows}
        company = self.company_id
        company_currency = company.currency_id
        rates = {}
        lines = []
        for charge in charges:
            currency = charge["currency"]
            if currency not in rates:
                rates[currency] = currency._get_conversion_rate(currency, company_currency, company, day)
            account_id, partner_id = receivable[charge["invoice"].id]
            amount = currency.round(charge["amount"])
            # As currency._convert does, with the rate of the day read once per currency.
            balance = company_currency.round(amount * rates[currency])
            lines.append(
                {
                    "account_id": account_id,
                    "partner_id": partner_id,
                    "name": charge["label"],
                    "amount_currency": amount,
                    "currency_id": currency.id,
                    "balance": balance,
                    "date_maturity": charge.get("maturity") or day,
                }
            )
        return lines

    def _charge_line_vals(self, line):
        """ORM values of a template receivable line."""
        return {**line, "analytic_distribution": False, "tax_ids": [Command.clear()]}

    def _insert_charge_copies(self, lines, copies, by_group):
        """Insert the receivable lines ``copies`` (indexes into ``lines``), each a copy of the template line
        of its account and currency (``by_group``: line id by (account, currency)); return their ids in the
        order of ``copies``."""
        if not copies:
            return []
        table = self.env["account.move.line"]._table
        columns = [
            name
            for name, field in self.env["account.move.line"]._fields.items()
            if field.store and field.column_type and name != "id"
        ]
        values = {
            "partner_id": SQL("v.partner_id"),
            "name": SQL("v.name"),
            "amount_currency": SQL("v.amount_currency"),
            "balance": SQL("v.balance"),
            "debit": SQL("GREATEST(v.balance, 0)"),
            "credit": SQL("GREATEST(-v.balance, 0)"),
            # An open receivable: nothing reconciled yet.
            "amount_residual": SQL("v.balance"),
            "amount_residual_currency": SQL("v.amount_currency"),
            "date_maturity": SQL("v.date_maturity"),
            # Posted by action_post right after, in the same transaction: written now, it saves an update
            # of every line (the related field's value Odoo would write then).
            "parent_state": SQL("'posted'"),
        }
        select = SQL(", ").join(values.get(name, SQL("t.%s", SQL.identifier(name))) for name in columns)
        picked = [lines[i] for i in copies]
        query = SQL(
            """INSERT INTO %(table)s (%(columns)s)
               SELECT %(select)s
                 FROM unnest(%(template)s::int[], %(partner)s::int[], %(name)s::varchar[], %(amount)s::numeric[],
                             %(balance)s::numeric[], %(maturity)s::date[]) WITH ORDINALITY
                      AS v(template_id, partner_id, name, amount_currency, balance, date_maturity, position)
                 JOIN %(table)s t ON t.id = v.template_id
             ORDER BY v.position
            RETURNING id""",
            table=SQL.identifier(table),
            columns=SQL(", ").join(SQL.identifier(name) for name in columns),
            select=select,
            template=array_literal([by_group[(line["account_id"], line["currency_id"])] for line in picked]),
            partner=array_literal([line["partner_id"] for line in picked]),
            name=[line["name"] for line in picked],
            amount=array_literal([line["amount_currency"] for line in picked]),
            balance=array_literal([line["balance"] for line in picked]),
            maturity=array_literal([line["date_maturity"] for line in picked]),
        )
        # Ids are drawn from the sequence in the order rows are inserted, which is ORDER BY position.
        return sorted(line_id for (line_id,) in self.env.execute_query(query))
