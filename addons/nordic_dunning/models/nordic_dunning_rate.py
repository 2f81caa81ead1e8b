from odoo import _, api, fields, models
from odoo.exceptions import UserError

COUNTRIES = [("SE", "Sweden"), ("NO", "Norway"), ("DK", "Denmark"), ("FI", "Finland")]


class NordicDunningRate(models.Model):
    """A dated legal rate or amount (reference rate, inkassosats, fee cap...) with its source."""

    _name = "nordic.dunning.rate"
    _description = "Dunning legal rate"
    _order = "country_code, rate_type, date_from desc"

    country_code = fields.Selection(COUNTRIES, required=True, index=True)
    rate_type = fields.Selection(
        [
            ("reference", "Reference rate (%)"),
            ("interest_margin", "Late-interest margin (percentage points)"),
            ("late_interest", "Late-interest rate (%)"),
            ("reminder_fee_cap", "Reminder fee cap"),
            ("collection_fee_cap", "Collection demand fee cap"),
            ("inkassosats", "Inkassosats"),
        ],
        required=True,
        index=True,
    )
    date_from = fields.Date("Valid from", required=True)
    value = fields.Float(required=True, digits=(16, 4))
    source = fields.Char(required=True, help="Statute, regulation or page the value comes from.")
    certainty = fields.Selection(
        [("official", "Official source read"), ("secondary", "Secondary source"), ("unverified", "Unverified")],
        default="official",
        required=True,
    )
    note = fields.Text()

    _sql_constraints = [
        ("unique_rate", "unique(country_code, rate_type, date_from)", "Only one value per rate, country and date."),
    ]

    @api.depends("country_code", "rate_type", "date_from", "value")
    def _compute_display_name(self):
        labels = dict(self._fields["rate_type"]._description_selection(self.env))
        for rate in self:
            rate.display_name = f"{rate.country_code} {labels.get(rate.rate_type)} {rate.date_from}: {rate.value:g}"

    @api.model
    def _periods(self, country_code, rate_type):
        """Sorted [(date_from, value)] of one rate."""
        rates = self.search_read(
            [("country_code", "=", country_code), ("rate_type", "=", rate_type)],
            ["date_from", "value"],
            order="date_from",
        )
        return [(r["date_from"], r["value"]) for r in rates]

    @api.model
    def _get_value(self, country_code, rate_type, day, raise_if_missing=True):
        rate = self.search(
            [("country_code", "=", country_code), ("rate_type", "=", rate_type), ("date_from", "<=", day)],
            order="date_from desc",
            limit=1,
        )
        if not rate and raise_if_missing:
            label = dict(self._fields["rate_type"]._description_selection(self.env))[rate_type]
            raise UserError(
                _(
                    "No %(rate)s for %(country)s is valid on %(day)s: "
                    "add it under Dunning > Configuration > Legal rates.",
                    rate=label,
                    country=country_code,
                    day=day,
                )
            )
        return rate.value if rate else None

    @api.model
    def _late_interest_periods(self, country_code):
        """Sorted [(date_from, annual %)] of the statutory late-interest rate of a country.

        Sweden publishes a reference rate to which the statutory margin is added
        (räntelagen 6 §); Norway publishes the late-interest rate itself.
        """
        direct = self._periods(country_code, "late_interest")
        if direct:
            return direct
        margins = self._periods(country_code, "interest_margin")
        references = self._periods(country_code, "reference")
        cuts = sorted({d for d, _v in margins} | {d for d, _v in references})
        periods = []
        for day in cuts:
            ref = [v for d, v in references if d <= day]
            margin = [v for d, v in margins if d <= day]
            if ref and margin:
                periods.append((day, ref[-1] + margin[-1]))
        return periods
