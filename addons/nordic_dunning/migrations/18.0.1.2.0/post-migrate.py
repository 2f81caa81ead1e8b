"""18.0.1.2.0: an event reads its customer and company through its invoice.

The columns an event no longer writes stay with their data (the audit trail of measures taken before the
upgrade), but lose their foreign keys and indexes: each would otherwise still cost a trigger call and an
index entry for every event a run writes. The dunning state of a status is no longer indexed (three
values; the invoice filters read it through the status).
"""

import logging

from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)

UNMAPPED_EVENT_COLUMNS = ("partner_id", "company_id", "currency_id", "policy_id", "user_id", "create_uid", "write_uid")


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        SELECT DISTINCT c.conname
          FROM pg_constraint c
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
         WHERE c.conrelid = 'nordic_dunning_event'::regclass AND c.contype = 'f' AND a.attname IN %s
        """,
        [UNMAPPED_EVENT_COLUMNS],
    )
    for (name,) in cr.fetchall():
        cr.execute(f'ALTER TABLE nordic_dunning_event DROP CONSTRAINT "{name}"')  # pylint: disable=sql-injection
    cr.execute(
        """
        SELECT DISTINCT i.relname
          FROM pg_index x
          JOIN pg_class i ON i.oid = x.indexrelid
          JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ANY(x.indkey)
         WHERE x.indrelid = 'nordic_dunning_event'::regclass AND NOT x.indisprimary AND a.attname IN %s
        """,
        [UNMAPPED_EVENT_COLUMNS],
    )
    for (name,) in cr.fetchall():
        cr.execute(f'DROP INDEX IF EXISTS "{name}"')  # pylint: disable=sql-injection
    for column in UNMAPPED_EVENT_COLUMNS:
        if column_exists(cr, "nordic_dunning_event", column):
            cr.execute(f'ALTER TABLE nordic_dunning_event ALTER COLUMN "{column}" DROP NOT NULL')  # pylint: disable=sql-injection
    cr.execute("DROP INDEX IF EXISTS nordic_dunning_status__state_index")
    _logger.info("nordic_dunning 18.0.1.2.0: event columns kept as data only: %s", ", ".join(UNMAPPED_EVENT_COLUMNS))
