"""Bulk statements through Odoo's cursor.

``psycopg2.extras.execute_values`` on the raw cursor (``env.cr._obj``) bypasses Odoo's cursor: its
statements are neither counted (``odoo.sql_db.sql_counter``, ``cr.sql_log_count``) nor logged. This
has the same signature and semantics but runs each page through ``env.cr.execute``.
"""

from odoo.tools import SQL
from odoo.tools.sql import column_exists


def execute_values(cr, sql, argslist, template=None, page_size=100, fetch=False):
    """Run ``sql`` (one ``VALUES %s`` placeholder) for ``argslist`` in pages, on Odoo's cursor ``cr``."""
    raw = cr._obj
    result = []
    argslist = list(argslist)
    for start in range(0, len(argslist), page_size):
        page = argslist[start : start + page_size]
        row_template = template or ("(" + ",".join(["%s"] * len(page[0])) + ")")
        values = b",".join(raw.mogrify(row_template, row) for row in page).decode()
        # The values are mogrified (quoted by psycopg2) above; no parameters are passed, so psycopg2
        # leaves the statement's other characters alone.
        head, _sep, tail = sql.partition("%s")
        cr.execute(head + values + tail)  # pylint: disable=sql-injection
        if fetch:
            result.extend(cr.fetchall())
    return result


def array_literal(values):
    """``values`` (ints, floats, Decimals, dates or bools; None for NULL) in PostgreSQL's array input syntax.

    Pass the result as one parameter with a cast (``%s::int[]``). psycopg2 adapts a Python list as an
    ``ARRAY[...]`` expression of one constant per element, which it quotes one by one and PostgreSQL parses
    and coerces one by one: for the 100k-element columns of a large run that costs about 1.5 µs per value
    on each side. As a single string, PostgreSQL reads it with one ``array_in`` call.
    """
    values = list(values)
    types = set(map(type, values))  # one pass in C; the common case then joins in C too
    if any(issubclass(kind, str) for kind in types):
        raise TypeError("array_literal does not quote strings")
    if type(None) in types:
        text = ",".join("NULL" if value is None else str(value) for value in values)
    else:
        text = ",".join(map(str, values))  # str(True) is "True", which PostgreSQL reads as a boolean
    return "{" + text + "}"


def keep_as_data(cr, table, columns):
    """Strip ``columns`` of ``table`` of their foreign keys, indexes and NOT NULL; keep their data.

    For upgrades where a field stops being stored: Odoo leaves the column, whose keys and indexes would
    otherwise still cost a trigger call and an index entry for every row written.
    """
    cr.execute(
        """
        SELECT DISTINCT c.conname
          FROM pg_constraint c
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
         WHERE c.conrelid = %s::regclass AND c.contype = 'f' AND a.attname IN %s
        """,
        [table, tuple(columns)],
    )
    for (name,) in cr.fetchall():
        cr.execute(SQL("ALTER TABLE %s DROP CONSTRAINT %s", SQL.identifier(table), SQL.identifier(name)))
    cr.execute(
        """
        SELECT DISTINCT i.relname
          FROM pg_index x
          JOIN pg_class i ON i.oid = x.indexrelid
          JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ANY(x.indkey)
         WHERE x.indrelid = %s::regclass AND NOT x.indisprimary AND a.attname IN %s
        """,
        [table, tuple(columns)],
    )
    for (name,) in cr.fetchall():
        cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))
    for column in columns:
        if column_exists(cr, table, column):
            cr.execute(
                SQL("ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL", SQL.identifier(table), SQL.identifier(column))
            )
