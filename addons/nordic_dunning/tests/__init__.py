from . import queue_job_compat  # first: see the module
from . import test_calendar_interest
from . import test_dunning_se
from . import test_dunning_no
from . import test_security
from . import test_tour
from . import test_safety_guards
from . import test_dispute
from . import test_mass_cancel
from . import test_dispute_tour
from . import test_dunning_status
from . import test_sql_tools
from . import test_attacks
from . import test_legal_timing
from . import test_dunning_dk_fi
from . import test_sending_jobs
