"""18.0.1.4.0: an event points to the run line it executed; its run and level are read through the line.

The new ``line_id`` column is filled before the ORM makes it required: an event was written for one line,
the one of its run and invoice (a run proposes an invoice once). The old ``run_id`` and ``level_id``
columns keep their data (the audit trail as written) but lose their keys and indexes (post-migrate).
"""

import logging

from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version or column_exists(cr, "nordic_dunning_event", "line_id"):
        return
    cr.execute("ALTER TABLE nordic_dunning_event ADD COLUMN line_id integer")
    cr.execute(
        """
        UPDATE nordic_dunning_event e SET line_id = l.id
          FROM nordic_dunning_run_line l
         WHERE l.run_id = e.run_id AND l.move_id = e.move_id
        """
    )
    cr.execute("SELECT COUNT(*) FROM nordic_dunning_event WHERE line_id IS NULL")
    orphans = cr.fetchone()[0]
    if orphans:
        _logger.info("nordic_dunning 18.0.1.4.0: %s events of deleted runs, relinked after the update", orphans)
