from . import test_calendar_interest
from . import test_dunning_se
from . import test_dunning_no
from . import test_security
from . import test_tour
