from . import calendar, interest, system
