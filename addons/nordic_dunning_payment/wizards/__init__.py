from . import nordic_payment_upload
