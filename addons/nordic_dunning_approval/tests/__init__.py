from . import test_credit_approval
from . import test_writeoff
from . import test_hq_ledger
from . import test_tours
from . import test_collection_write_off
from . import test_reversal_flows
from . import test_attacks
