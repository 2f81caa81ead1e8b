from datetime import date

from odoo import _, api, fields, models
from odoo.exceptions import UserError

COUNTRIES = [("SE", "Sweden"), ("NO", "Norway"), ("DK", "Denmark"), ("FI", "Finland")]
# The rates set anew for every calendar half-year: Riksbanken's reference rate (räntelagen 9 §), the
# Norwegian late-interest rate (forsinkelsesrenteloven § 3, fixed from 1 January and 1 July), Nationalbanken's
# lending rate of 1 January and 1 July (renteloven § 5) and the Finnish reference rate (korkolaki 12 §).
HALF_YEARLY = {("SE", "reference"), ("NO", "late_interest"), ("DK", "reference"), ("FI", "reference")}


def half_year_start(day):
    """1 January or 1 July of ``day``'s calendar half-year."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def half_year_label(day):
    return f"{day.year}-H{1 if day.month <= 6 else 2}"


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
            ("interest_margin_b2b", "Late-interest margin between businesses (percentage points)"),
            ("late_interest", "Late-interest rate (%)"),
            ("reminder_fee_cap", "Reminder fee cap"),
            ("collection_fee_cap", "Collection demand fee cap"),
            ("inkassosats", "Inkassosats"),
            ("b2b_compensation", "Late-payment compensation from businesses"),
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
    outdated_warning = fields.Char(
        "Warning",
        compute="_compute_outdated_warning",
        help="Set on the latest value of a half-yearly rate when the half-year that has started has none yet.",
    )

    _sql_constraints = [
        ("unique_rate", "unique(country_code, rate_type, date_from)", "Only one value per rate, country and date."),
    ]

    @api.depends("country_code", "rate_type", "date_from", "value")
    def _compute_display_name(self):
        labels = dict(self._fields["rate_type"]._description_selection(self.env))
        for rate in self:
            rate.display_name = f"{rate.country_code} {labels.get(rate.rate_type)} {rate.date_from}: {rate.value:g}"

    @api.depends("country_code", "rate_type", "date_from")
    @api.depends_context("date")
    def _compute_outdated_warning(self):
        today = fields.Date.context_today(self)
        latest = {}
        for country, rate_type in {(r.country_code, r.rate_type) for r in self} & HALF_YEARLY:
            latest[(country, rate_type)] = self.search(
                [("country_code", "=", country), ("rate_type", "=", rate_type), ("date_from", "<=", today)],
                order="date_from desc",
                limit=1,
            )
        for rate in self:
            current = latest.get((rate.country_code, rate.rate_type))
            rate.outdated_warning = current == rate and rate._missing_half_year_message(today) or False

    def _missing_half_year_message(self, day):
        """The warning for ``day`` when this latest value of a half-yearly rate predates ``day``'s half-year."""
        self.ensure_one()
        if self.date_from >= half_year_start(day):
            return False
        return _(
            "No value for %(half)s yet: %(value)s of %(since)s is used until one is recorded.",
            half=half_year_label(day),
            value=self.value,
            since=self.date_from,
        )

    @api.model
    def _missing_rate_warnings(self, country_code, day):
        """Warnings for the half-yearly rates of ``country_code`` that have no value for ``day``'s half-year."""
        labels = dict(self._fields["rate_type"]._description_selection(self.env))
        warnings = []
        for country, rate_type in sorted(HALF_YEARLY):
            if country != country_code:
                continue
            latest = self.search(
                [("country_code", "=", country), ("rate_type", "=", rate_type), ("date_from", "<=", day)],
                order="date_from desc",
                limit=1,
            )
            message = latest._missing_half_year_message(day) if latest else _("No value recorded at all.")
            if message:
                warnings.append(f"{labels[rate_type]} ({country}): {message}")
        return warnings

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
    def _late_interest_periods(self, country_code, business=False):
        """Sorted [(date_from, annual %)] of the statutory late-interest rate of a country.

        Sweden publishes a reference rate to which the statutory margin is added
        (räntelagen 6 §); Norway publishes the late-interest rate itself. Where the law sets a higher margin
        between businesses (Finland: korkolaki 4 § 2 mom., reference rate + 8 instead of + 7 percentage points),
        ``business`` (the customer is a company) takes that margin from its first recorded date.
        """
        direct = self._periods(country_code, "late_interest")
        if direct:
            return direct
        margins = self._periods(country_code, "interest_margin")
        if business:
            b2b = self._periods(country_code, "interest_margin_b2b")
            if b2b:
                margins = [(d, v) for d, v in margins if d < b2b[0][0]] + b2b
        references = self._periods(country_code, "reference")
        cuts = sorted({d for d, _v in margins} | {d for d, _v in references})
        periods = []
        for day in cuts:
            ref = [v for d, v in references if d <= day]
            margin = [v for d, v in margins if d <= day]
            if ref and margin:
                periods.append((day, ref[-1] + margin[-1]))
        return periods
