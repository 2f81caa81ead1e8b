from . import test_collection_case
from . import test_collection_evidence
from . import test_sidecar_api
from . import test_sidecar_access
from . import test_mass_cancel_withdraw
from . import test_agency_claims
from . import test_attacks
from . import test_changes_property
