"""No run on stale payments: a run is held while a required bank journal's files lag behind."""
# pylint: disable=consider-merging-classes-inherited

from datetime import timedelta

from odoo import _, models

from odoo.addons.nordic_dunning.tools.calendar import is_business_day


class NordicDunningRun(models.Model):
    _inherit = "nordic.dunning.run"

    def _anomalies(self):
        reasons = super()._anomalies()
        if self.policy_id.payment_journal_ids and self._has_lines():
            reasons += self._stale_payment_reasons()
        return reasons

    def _previous_bank_day(self):
        day = self.date - timedelta(days=1)
        while not is_business_day(day, self.policy_id.country_code):
            day -= timedelta(days=1)
        return day

    def _stale_payment_reasons(self):
        """One reason per required bank journal whose imported payments do not reach the previous bank day."""
        self.ensure_one()
        journals = self.policy_id.payment_journal_ids
        self.env["nordic.payment.import.line"].flush_model(["date", "import_id"])
        self.env.cr.execute(
            """
            SELECT i.journal_id, MAX(l.date)
              FROM nordic_payment_import i
              JOIN nordic_payment_import_line l ON l.import_id = i.id
             WHERE i.journal_id = ANY(%s)
             GROUP BY i.journal_id
            """,
            [journals.ids],
        )
        covered = dict(self.env.cr.fetchall())
        needed = self._previous_bank_day()
        reasons = []
        for journal in journals:
            last = covered.get(journal.id)
            if not last or last < needed:
                reasons.append(
                    _(
                        "Payment files of %(journal)s are imported up to %(last)s, not up to the previous bank day "
                        "%(day)s: a customer may have paid.",
                        journal=journal.display_name,
                        last=last or _("no file"),
                        day=needed,
                    )
                )
        return reasons
