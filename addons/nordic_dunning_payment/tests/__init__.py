from . import test_parsers
from . import test_import_bgmax
from . import test_import_ocr_giro
from . import test_import_camt054
from . import test_security
from . import test_folder
from . import test_stale_guard
