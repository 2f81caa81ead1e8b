from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    # Anomaly guard of dunning runs (seed 003): a run out of line with these is held for a manager.
    nordic_anomaly_max_lines = fields.Integer(
        "Maximum lines per run", default=2000, help="A run with more lines than this is held for approval."
    )
    nordic_anomaly_median_factor = fields.Float(
        "Multiple of the usual run size",
        default=3.0,
        help="A run with more lines than this multiple of the median of the policy's recent runs is held.",
    )
    nordic_anomaly_history_runs = fields.Integer(
        "Recent runs compared", default=10, help="How many recent confirmed runs of the policy make the history."
    )
    nordic_anomaly_min_lines = fields.Integer(
        "Smallest run checked against history",
        default=20,
        help="Runs with fewer lines are never held for their size or their share of first measures.",
    )
    nordic_anomaly_first_share = fields.Float(
        "Share of first measures (%)",
        default=95.0,
        help="A run where at least this share of the invoices never had a measure before is held, "
        "unless the policy's recent runs looked the same.",
    )
    nordic_anomaly_amount_factor = fields.Float(
        "Amount outlier factor",
        default=20.0,
        help="A run with an invoice larger than this multiple of the company's median invoice amount is held.",
    )

    def _nordic_country_code(self):
        self.ensure_one()
        return self.account_fiscal_country_id.code or self.country_id.code
