from . import nordic_dunning_cancel
