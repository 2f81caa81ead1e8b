"""18.0.1.4.0: events of deleted runs get a run again; the old ``run_id``/``level_id`` columns stay as data.

Before this version a confirmed run could be deleted, leaving its events without a run. Each such event
gets a line in a recreated, confirmed run per policy and date (named ``LEGACY/...``), built from what the
event itself recorded (invoice, level, amounts), so that every event has the line ``line_id`` requires.
"""

import logging

from odoo.tools.sql import column_exists

from odoo.addons.nordic_dunning.tools.sql import keep_as_data

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    _relink_orphans(cr)
    keep_as_data(cr, "nordic_dunning_event", ("run_id", "level_id"))


def _relink_orphans(cr):
    if not column_exists(cr, "nordic_dunning_event", "level_id"):
        return
    cr.execute(
        """
        CREATE TEMP TABLE nordic_orphan_event ON COMMIT DROP AS
        SELECT e.id, e.move_id, e.level_id, e.date, e.amount_residual, e.fee_amount, e.interest_amount,
               lv.policy_id, p.company_id
          FROM nordic_dunning_event e
          JOIN nordic_dunning_level lv ON lv.id = e.level_id
          JOIN nordic_dunning_policy p ON p.id = lv.policy_id
         WHERE e.line_id IS NULL
        """
    )
    if not cr.rowcount:
        return
    orphans = cr.rowcount
    cr.execute(
        """
        INSERT INTO nordic_dunning_run (name, company_id, policy_id, date, state, confirm_date, create_uid, create_date,
                                        write_uid, write_date)
        SELECT 'LEGACY/' || policy_id || '/' || date, company_id, policy_id, date, 'done', date::timestamp,
               1, now() AT TIME ZONE 'UTC', 1, now() AT TIME ZONE 'UTC'
          FROM nordic_orphan_event
         GROUP BY policy_id, company_id, date
        """
    )
    cr.execute(
        """
        INSERT INTO nordic_dunning_run_line (run_id, move_id, level_id, amount_residual, fee_amount,
                                             interest_amount, first_measure, decision, note)
        SELECT DISTINCT ON (r.id, o.move_id) r.id, o.move_id, o.level_id, o.amount_residual, o.fee_amount,
               o.interest_amount, FALSE, 'proposed', 'Recreated by the 18.0.1.4.0 upgrade: the run had been deleted.'
          FROM nordic_orphan_event o
          JOIN nordic_dunning_run r ON r.name = 'LEGACY/' || o.policy_id || '/' || o.date
         ORDER BY r.id, o.move_id, o.id
        """
    )
    cr.execute(
        """
        UPDATE nordic_dunning_event e SET line_id = l.id
          FROM nordic_orphan_event o
          JOIN nordic_dunning_run r ON r.name = 'LEGACY/' || o.policy_id || '/' || o.date
          JOIN nordic_dunning_run_line l ON l.run_id = r.id AND l.move_id = o.move_id
         WHERE e.id = o.id
        """
    )
    cr.execute("ALTER TABLE nordic_dunning_event ALTER COLUMN line_id SET NOT NULL")
    _logger.info("nordic_dunning 18.0.1.4.0: %s events of deleted runs linked to recreated LEGACY runs", orphans)
