from . import test_calendar_interest
from . import test_dunning_se
from . import test_credit_approval
from . import test_writeoff
from . import test_collection_evidence
from . import test_hq_ledger
from . import test_tours
