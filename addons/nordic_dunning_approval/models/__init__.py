from . import res_company
from . import account_move_approval
from . import account_move
from . import account_move_line
from . import tier_review
from . import nordic_collection_case
from . import nordic_credit_report
