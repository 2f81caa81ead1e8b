from . import res_company
from . import account_move
from . import nordic_collection_case
from . import nordic_credit_report
