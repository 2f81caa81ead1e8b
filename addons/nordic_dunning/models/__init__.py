from . import nordic_dunning_rate
from . import nordic_dunning_policy
from . import nordic_dunning_level
from . import res_partner
from . import account_move
from . import nordic_dunning_event
from . import nordic_dunning_run
from . import nordic_dunning_run_line
