# queue_job 18.0.4's test helpers (trap_jobs) register their patch path in odoo.tests.common.SETATTR_SOURCES,
# a registry of allowed monkey-patch sources that later Odoo 18.0 builds have; the Odoo pinned here predates it
# and checks no patch source at all, so an empty registry is exactly its behaviour. Set before any test imports
# queue_job's helpers (the collection and approval tests import these through this package).
from odoo.tests import common as odoo_test_common

vars(odoo_test_common).setdefault("SETATTR_SOURCES", {})
