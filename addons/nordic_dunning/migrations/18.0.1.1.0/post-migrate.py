"""18.0.1.1.0: the dunning state of an invoice moves from ``account_move`` columns to ``nordic_dunning_status``.

Also drops what run lines no longer store (read through the invoice instead). Everything dropped is either
copied to the status first or derivable from what stays. The events' columns that are now read through the
invoice or the run (currency, policy, user, create/write log) stay as they are: they are the audit trail.
"""

import logging

from odoo.tools.sql import column_exists

_logger = logging.getLogger(__name__)

MOVE_COLUMNS = (
    "nordic_dunning_policy_id",
    "nordic_dunning_level_id",
    "nordic_dunning_next_level_id",
    "nordic_next_dunning_date",
    "nordic_last_dunning_date",
    "nordic_dunning_state",
)
DROPPED = {
    "account_move": MOVE_COLUMNS,
    "nordic_dunning_run_line": (
        "company_id",
        "partner_id",
        "currency_id",
        "event_id",
        "create_uid",
        "write_uid",
        "create_date",
        "write_date",
    ),
}
DROPPED_INDEXES = (
    "account_move_nordic_dunning_due_idx",
    "account_move__nordic_dunning_policy_id_index",
    "account_move__nordic_dunning_state_index",
    "nordic_dunning_run_line__run_id_index",
    "nordic_dunning_run_line__state_index",
)


def migrate(cr, version):
    if not version or not column_exists(cr, "account_move", "nordic_next_dunning_date"):
        return
    cr.execute(
        """
        INSERT INTO nordic_dunning_status (move_id, company_id, policy_id, level_id, next_level_id, next_date,
                                           last_date, state, is_open)
        SELECT id, company_id, nordic_dunning_policy_id, nordic_dunning_level_id, nordic_dunning_next_level_id,
               nordic_next_dunning_date, nordic_last_dunning_date, COALESCE(nordic_dunning_state, 'none'),
               move_type = 'out_invoice' AND state = 'posted' AND payment_state IN ('not_paid', 'partial')
          FROM account_move
         WHERE move_type = 'out_invoice' AND state = 'posted'
            OR nordic_dunning_policy_id IS NOT NULL OR nordic_dunning_level_id IS NOT NULL
            OR nordic_dunning_next_level_id IS NOT NULL OR nordic_last_dunning_date IS NOT NULL
            OR COALESCE(nordic_dunning_state, 'none') != 'none'
            ON CONFLICT (move_id) DO NOTHING
        """
    )
    _logger.info("nordic_dunning: %s invoice dunning statuses created", cr.rowcount)
    cr.execute(
        """
        UPDATE account_move m SET nordic_dunning_status_id = s.id
          FROM nordic_dunning_status s
         WHERE s.move_id = m.id AND m.nordic_dunning_status_id IS NULL
        """
    )
    if column_exists(cr, "nordic_dunning_run", "fee_move_id"):
        cr.execute(
            """
            INSERT INTO nordic_dunning_run_fee_move_rel (run_id, move_id)
            SELECT id, fee_move_id FROM nordic_dunning_run WHERE fee_move_id IS NOT NULL
                ON CONFLICT DO NOTHING
            """
        )
        cr.execute("ALTER TABLE nordic_dunning_run DROP COLUMN fee_move_id")
    for index in DROPPED_INDEXES:
        cr.execute(f'DROP INDEX IF EXISTS "{index}"')  # pylint: disable=sql-injection
    for table, columns in DROPPED.items():
        existing = [column for column in columns if column_exists(cr, table, column)]
        if existing:
            drops = ", ".join(f'DROP COLUMN "{column}"' for column in existing)
            cr.execute(f'ALTER TABLE "{table}" {drops}')  # pylint: disable=sql-injection
