from . import test_calendar_interest
from . import test_dunning_se
from . import test_safety_guards
from . import test_dispute
from . import test_mass_cancel
from . import test_dispute_tour
