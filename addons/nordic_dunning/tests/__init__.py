from . import test_calendar_interest
from . import test_dunning_se
from . import test_collection_case
from . import test_sidecar_api
from . import test_sidecar_access
