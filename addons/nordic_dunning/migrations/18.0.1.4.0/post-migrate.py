"""18.0.1.4.0: the event's old ``run_id`` and ``level_id`` columns stay as data, without keys or indexes."""

from odoo.tools.sql import column_exists

COLUMNS = ("run_id", "level_id")


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
        [COLUMNS],
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
        [COLUMNS],
    )
    for (name,) in cr.fetchall():
        cr.execute(f'DROP INDEX IF EXISTS "{name}"')  # pylint: disable=sql-injection
    for column in COLUMNS:
        if column_exists(cr, "nordic_dunning_event", column):
            cr.execute(f'ALTER TABLE nordic_dunning_event ALTER COLUMN "{column}" DROP NOT NULL')  # pylint: disable=sql-injection
