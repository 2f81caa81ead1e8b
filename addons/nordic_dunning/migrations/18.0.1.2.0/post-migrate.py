"""18.0.1.2.0: an event reads its customer and company through its invoice.

The columns an event no longer writes stay with their data (the audit trail of measures taken before the
upgrade), but lose their foreign keys and indexes: each would otherwise still cost a trigger call and an
index entry for every event a run writes. The dunning state of a status is no longer indexed (three
values; the invoice filters read it through the status).
"""

import logging

from odoo.addons.nordic_dunning.tools.sql import keep_as_data

_logger = logging.getLogger(__name__)

UNMAPPED_EVENT_COLUMNS = ("partner_id", "company_id", "currency_id", "policy_id", "user_id", "create_uid", "write_uid")


def migrate(cr, version):
    if not version:
        return
    keep_as_data(cr, "nordic_dunning_event", UNMAPPED_EVENT_COLUMNS)
    cr.execute("DROP INDEX IF EXISTS nordic_dunning_status__state_index")
    _logger.info("nordic_dunning 18.0.1.2.0: event columns kept as data only: %s", ", ".join(UNMAPPED_EVENT_COLUMNS))
