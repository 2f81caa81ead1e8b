from . import bgmax, camt054, ocr_giro, reference
from .rows import PaymentFile, PaymentFileError, PaymentRow

FORMATS = [("bgmax", "Bankgirot BgMax"), ("ocr_giro", "Nets OCR giro"), ("camt054", "ISO 20022 camt.054")]


def detect_format(data):
    """The format of a payment file from its first bytes, or None."""
    head = data.lstrip(b"\xef\xbb\xbf \r\n\t")[:200]
    if head.startswith(b"01BGMAX"):
        return "bgmax"
    if head.startswith(b"NY000010"):
        return "ocr_giro"
    if head.startswith(b"<") and b"camt." in data[:2000]:
        return "camt054"
    return None
