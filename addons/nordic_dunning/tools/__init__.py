from . import calendar, interest, system, words
