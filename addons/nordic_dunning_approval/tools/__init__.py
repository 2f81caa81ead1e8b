from . import hq_xlsx
