from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    nordic_anomaly_max_lines = fields.Integer(related="company_id.nordic_anomaly_max_lines", readonly=False)
    nordic_anomaly_median_factor = fields.Float(related="company_id.nordic_anomaly_median_factor", readonly=False)
    nordic_anomaly_history_runs = fields.Integer(related="company_id.nordic_anomaly_history_runs", readonly=False)
    nordic_anomaly_min_lines = fields.Integer(related="company_id.nordic_anomaly_min_lines", readonly=False)
    nordic_anomaly_first_share = fields.Float(related="company_id.nordic_anomaly_first_share", readonly=False)
    nordic_anomaly_amount_factor = fields.Float(related="company_id.nordic_anomaly_amount_factor", readonly=False)
