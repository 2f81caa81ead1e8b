from . import test_calendar_interest
from . import test_dunning_se
