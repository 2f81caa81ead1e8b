"""18.0.1.3.0: a run line stores what its review decided; "done" is derived from its run.

The stored ``state`` column becomes ``decision`` (proposed, stopped, skipped) before the ORM sees the
model; lines that were marked done were proposed lines of a confirmed run, which is what "done" now means.
"""

import logging

from odoo.tools.sql import column_exists, rename_column

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
    # 18.0.1.2.0 left room on each page for the one update a line had; it has none now.
    cr.execute("ALTER TABLE nordic_dunning_run_line RESET (fillfactor)")
    if not column_exists(cr, "nordic_dunning_run_line", "state") or column_exists(
        cr, "nordic_dunning_run_line", "decision"
    ):
        return
    rename_column(cr, "nordic_dunning_run_line", "state", "decision")
    cr.execute("UPDATE nordic_dunning_run_line SET decision = 'proposed' WHERE decision = 'done'")
    _logger.info("nordic_dunning 18.0.1.3.0: %s done run lines now derive their state from the run", cr.rowcount)
