"""Which invoices a run proposes: one selection query per policy, the lines written set-based."""
# pylint: disable=consider-merging-classes-inherited

import logging

from psycopg2 import errors as pg_errors

from odoo import api, fields, models

from ..tools.sql import array_literal, execute_values
from ..tools.system import as_system

_logger = logging.getLogger(__name__)

BATCH = 5000
# A run of at least this many lines refreshes the lines table's statistics (see _generate_lines).
ANALYZE_MIN_LINES = 2000


# The run's model is split by concern, one file each (selection, charges, guard, execution, booking,
# communication), to keep every file short.
# pylint: disable=consider-merging-classes-inherited
class NordicDunningRun(models.Model):
    _inherit = "nordic.dunning.run"

    @api.model
    def _build_for_policies(self, policies, day=None):
        """Create one run per policy that has invoices due for a level on ``day``; return the runs."""
        runs = self.browse()
        system = as_system(self)  # the run's outcome (lines, hold, schedule) is the product's own write
        for policy in policies:
            run = system.create(
                {
                    "company_id": policy.company_id.id,
                    "policy_id": policy.id,
                    "date": day or fields.Date.context_today(self),
                }
            )
            run._generate_lines()
            if not run._has_lines() and not run.unsent_move_ids:
                run.sudo().unlink()  # the empty run this very call made
                continue
            run._guard()
            runs |= run
        return runs.with_env(self.env)

    def _has_lines(self):
        """Whether the run has any line (without reading a 100k-line run's lines)."""
        self.ensure_one()
        return bool(self.env["nordic.dunning.run.line"].search_count([("run_id", "=", self.id)], limit=1))

    def _select_candidates(self):
        """One query: every open, posted customer invoice of the policy due for its next level."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT m.id, m.currency_id, s.next_level_id,
                   m.amount_residual - COALESCE(m.nordic_disputed_amount, 0), m.amount_total,
                   m.invoice_date_due, m.invoice_date,
                   m.nordic_is_sent, s.level_id IS NULL, p.nordic_fee_agreed,
                   p.nordic_fee_agreed_date, COALESCE(m.nordic_disputed_amount, 0), COALESCE(p.is_company, FALSE)
              FROM nordic_dunning_status s
              JOIN account_move m ON m.id = s.move_id
              JOIN res_partner p ON p.id = m.commercial_partner_id
             WHERE s.policy_id = %(policy)s
               AND s.is_open
               AND s.next_date IS NOT NULL
               AND s.next_date <= %(day)s
               AND s.next_level_id IS NOT NULL
               AND m.company_id = ANY(%(companies)s)
               AND m.move_type = 'out_invoice'
               AND m.state = 'posted'
               AND m.payment_state IN ('not_paid', 'partial')
               AND m.amount_residual - COALESCE(m.nordic_disputed_amount, 0) >= %(min_amount)s
               AND m.amount_residual - COALESCE(m.nordic_disputed_amount, 0) > 0
               AND NOT COALESCE(m.nordic_dunning_excluded, FALSE)
               AND NOT COALESCE(p.nordic_dunning_excluded, FALSE)
               AND NOT EXISTS (
                    SELECT 1 FROM nordic_dunning_run_line l
                      JOIN nordic_dunning_run r ON r.id = l.run_id
                     WHERE l.move_id = m.id AND l.decision = 'proposed'
                       AND r.state IN ('draft', 'to_approve') AND r.id != %(run)s)
             ORDER BY m.commercial_partner_id, m.id
            """,
            {
                "companies": self.policy_id._get_companies().ids,
                "day": self.date,
                "policy": self.policy_id.id,
                "min_amount": self.policy_id.min_amount or 0.0,
                "run": self.id,
            },
        )
        # Only what the charges and the lines need: a run may fetch 100k rows.
        return self._fetch_dicts(
            "move_id currency_id level_id residual total due invoice_date sent first fee_agreed "
            "fee_agreed_date disputed is_company"
        )

    def _fetch_dicts(self, columns):
        """The cursor's rows as dicts keyed by the space-separated ``columns`` names."""
        names = columns.split()
        return [dict(zip(names, row)) for row in self.env.cr.fetchall()]

    def _generate_lines(self):
        self.ensure_one()
        self.built_on = fields.Date.context_today(self)
        self._check_rates(self.date)
        candidates = self._select_candidates()
        unsent = [c["move_id"] for c in candidates if not c["sent"]]
        lines = [c for c in candidates if c["sent"]]
        charges = self._compute_charges(lines, self.date)
        # One statement from columns (arrays), not rows: a run may hold 100k lines.
        if lines:
            self.env.cr.execute(
                """
                INSERT INTO nordic_dunning_run_line
                    (run_id, move_id, level_id, amount_residual, fee_amount, interest_amount, compensation_amount,
                     first_measure, decision)
                SELECT %s, u.move_id, u.level_id, u.residual, u.fee, u.interest, u.compensation, u.first, 'proposed'
                  FROM unnest(%s::int[], %s::int[], %s::numeric[], %s::numeric[], %s::numeric[], %s::numeric[],
                              %s::bool[])
                       AS u(move_id, level_id, residual, fee, interest, compensation, first)
                """,
                [
                    self.id,
                    array_literal(c["move_id"] for c in lines),
                    array_literal(c["level_id"] for c in lines),
                    array_literal(c["residual"] for c in lines),
                    array_literal(charges[c["move_id"]][0] for c in lines),
                    array_literal(charges[c["move_id"]][1] for c in lines),
                    array_literal(charges[c["move_id"]][3] for c in lines),
                    array_literal(c["first"] for c in lines),
                ],
            )
        if len(lines) >= ANALYZE_MIN_LINES:
            self._analyze_lines()
        if unsent:
            execute_values(
                self.env.cr,
                "INSERT INTO nordic_dunning_run_unsent_rel (run_id, move_id) VALUES %s ON CONFLICT DO NOTHING",
                [(self.id, move_id) for move_id in unsent],
                page_size=BATCH,
            )
        self.invalidate_recordset(["line_ids", "unsent_move_ids"])

    def _analyze_lines(self):
        """Refresh the planner's statistics of the lines table after a large insert.

        Until autovacuum comes by they would describe the table without these lines, and the review and
        the confirmation query this run's lines by the thousand. ANALYZE holds a lock that another ANALYZE
        (a concurrent build, autovacuum) waits for until this transaction ends: when one is already
        running it is skipped rather than waited for.
        """
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute("SET LOCAL lock_timeout = '50ms'")
                self.env.cr.execute("ANALYZE nordic_dunning_run_line")
                self.env.cr.execute("SET LOCAL lock_timeout = DEFAULT")
        except pg_errors.LockNotAvailable:
            _logger.info("Lines' statistics not refreshed: another ANALYZE is running.")
