"""18.0.2.0.0: collection agencies and credit approvals move into addons of their own.

``nordic_dunning_collection`` and ``nordic_dunning_approval`` take over what ``nordic_dunning`` held until
18.0.1.4.0. Before this update of ``nordic_dunning`` could drop that data as no longer its own, every
external id that the new addons' data files define changes module (as OCA's openupgradelib does with
``rename_xmlids``), and both addons are marked for installation, so that the same update installs them:
groups keep their users, sequences their numbers, activities their types. The moved models and fields keep
their records and tables too: the new addons' reflection gives them external ids of their own, and Odoo then
drops only the old module's ids of records another module still holds.

The agency changes recorded so far keep their rows; their type becomes the neutral kind of the sidecar API
(an agency ``status`` change is a ``state`` change), the word the collection addon reads.
"""

import csv
import logging
from pathlib import Path

from lxml import etree

from odoo.modules.module import get_manifest, get_module_path
from odoo.tools.sql import table_exists

_logger = logging.getLogger(__name__)

NEW_ADDONS = ("nordic_dunning_collection", "nordic_dunning_approval")
ID_TAGS = {"record", "template", "menuitem", "report", "act_window"}


def migrate(cr, version):
    if not version:
        return
    cr.execute("SELECT name FROM ir_module_module WHERE name = ANY(%s)", [list(NEW_ADDONS)])
    known = {name for (name,) in cr.fetchall()}
    missing = [name for name in NEW_ADDONS if name not in known or not get_module_path(name)]
    if missing:
        raise RuntimeError(
            "nordic_dunning 18.0.2 moved collection and approvals into %s: put them on the addons path "
            "(they ship with nordic_dunning) and update the module list." % ", ".join(missing)
        )
    for addon in NEW_ADDONS:
        names = sorted(data_ids(addon))
        cr.execute(
            """
            UPDATE ir_model_data d
               SET module = %(addon)s
             WHERE d.module = 'nordic_dunning' AND d.name = ANY(%(names)s)
               AND NOT EXISTS (SELECT 1 FROM ir_model_data n WHERE n.module = %(addon)s AND n.name = d.name)
            """,
            {"addon": addon, "names": names},
        )
        _logger.info("nordic_dunning: %s external ids moved to %s", cr.rowcount, addon)
    cr.execute(
        "UPDATE ir_module_module SET state = 'to install' WHERE name = ANY(%s) AND state = 'uninstalled'",
        [list(NEW_ADDONS)],
    )
    if table_exists(cr, "nordic_collection_case_change"):
        cr.execute("UPDATE nordic_collection_case_change SET type = 'state' WHERE type = 'status'")
        _logger.info("nordic_dunning: %s agency status changes are now state changes", cr.rowcount)


def data_ids(addon):
    """The external ids (without module) that ``addon``'s data files define."""
    root = Path(get_module_path(addon))
    ids = set()
    for name in get_manifest(addon).get("data", []):
        path = root / name
        if path.suffix == ".csv":
            with open(path, newline="", encoding="utf-8") as handle:
                ids.update(row["id"] for row in csv.DictReader(handle))
        elif path.suffix == ".xml":
            for element in etree.parse(str(path)).iter():
                if element.tag in ID_TAGS and element.get("id"):
                    ids.add(element.get("id"))
    prefix = addon + "."
    return {xid.removeprefix(prefix) for xid in ids if "." not in xid.removeprefix(prefix)}
