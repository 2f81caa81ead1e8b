from . import nordic_writeoff_wizard
from . import nordic_writeoff_recovery_wizard
from . import nordic_hq_ledger_wizard
