from . import account_move_line
from . import account_journal
from . import nordic_payment_import
from . import nordic_payment_import_line
from . import nordic_payment_matching
from . import nordic_payment_booking
from . import nordic_payment_folder
