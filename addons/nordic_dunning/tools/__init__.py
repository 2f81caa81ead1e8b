from . import calendar, interest
