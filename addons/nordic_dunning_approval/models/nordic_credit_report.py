from odoo import fields, models, tools


class NordicCreditReport(models.Model):
    """Posted credit notes and write-offs per clinic and period, for head office."""

    _name = "nordic.credit.report"
    _description = "Credited customers"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "move_id"

    move_id = fields.Many2one("account.move", "Document", readonly=True)
    kind = fields.Selection([("credit_note", "Credit note"), ("write_off", "Write-off")], readonly=True)
    date = fields.Date(readonly=True)
    company_id = fields.Many2one("res.company", "Clinic", readonly=True)
    partner_id = fields.Many2one("res.partner", "Customer", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    amount = fields.Monetary(readonly=True, help="In the company currency.")
    invoice_origin_id = fields.Many2one("account.move", "Invoice", readonly=True)
    create_uid = fields.Many2one("res.users", "Created by", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            f"""
            CREATE VIEW {self._table} AS (
                SELECT m.id AS id,
                       m.id AS move_id,
                       m.nordic_approval_kind AS kind,
                       m.date AS date,
                       m.company_id AS company_id,
                       COALESCE(p.commercial_partner_id, m.partner_id) AS partner_id,
                       c.currency_id AS currency_id,
                       m.nordic_credit_amount_company AS amount,
                       COALESCE(m.reversed_entry_id, m.nordic_writeoff_invoice_id) AS invoice_origin_id,
                       m.create_uid AS create_uid
                  FROM account_move m
                  JOIN res_company c ON c.id = m.company_id
             LEFT JOIN res_partner p ON p.id = m.partner_id
                 WHERE m.state = 'posted' AND m.nordic_approval_kind IS NOT NULL
            )
            """
        )

    def _nordic_rows(self, companies, date_from, date_to):
        """Rows for the XLSX of ``companies`` between two dates (inclusive)."""
        records = self.search(
            [("company_id", "in", companies.ids), ("date", ">=", date_from), ("date", "<=", date_to)],
            order="company_id, date, id",
        )
        kinds = dict(self._fields["kind"]._description_selection(self.env))
        return [
            {
                "clinic": rec.company_id.name,
                "kind": kinds.get(rec.kind, rec.kind),
                "document": rec.move_id.name,
                "date": rec.date,
                "customer": rec.partner_id.display_name or "",
                "amount": rec.amount,
                "currency": rec.currency_id.name,
            }
            for rec in records
        ]
