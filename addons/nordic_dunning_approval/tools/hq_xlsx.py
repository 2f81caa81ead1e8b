"""XLSX workbooks for head office (xlsxwriter): aged receivables and credits. Pure: rows in, bytes out."""

import io
from datetime import datetime

import xlsxwriter

AGE_BUCKETS = (
    ("not_due", "Not due", None, 0),
    ("d30", "1-30", 1, 30),
    ("d60", "31-60", 31, 60),
    ("d90", "61-90", 61, 90),
    ("older", "> 90", 91, None),
)


def age_bucket(days_overdue):
    """The bucket key of an item ``days_overdue`` days past its due date (<= 0: not due)."""
    for key, _label, low, high in AGE_BUCKETS:
        if (low is None or days_overdue >= low) and (high is None or days_overdue <= high):
            return key
    return "older"


def _workbook(write):
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    formats = {
        "bold": book.add_format({"bold": True}),
        "money": book.add_format({"num_format": "#,##0.00"}),
        "date": book.add_format({"num_format": "yyyy-mm-dd"}),
        "total": book.add_format({"bold": True, "num_format": "#,##0.00", "top": 1}),
    }
    write(book, formats)
    book.close()
    return buffer.getvalue()


def build_aged_receivables_xlsx(rows, day):
    """One sheet per clinic: open receivable items with their age bucket, and a total row.

    ``rows``: dicts with clinic, customer, document, date, due, residual, currency.
    """

    def write(book, fmt):
        by_clinic = {}
        for row in rows:
            by_clinic.setdefault(row["clinic"], []).append(row)
        if not by_clinic:
            by_clinic[""] = []
        header = ["Customer", "Document", "Date", "Due", "Days overdue", "Open"] + [b[1] for b in AGE_BUCKETS]
        for clinic, items in sorted(by_clinic.items()):
            sheet = book.add_worksheet((clinic or "Receivables")[:31].replace("/", "-"))
            sheet.write(0, 0, f"Open receivables {clinic} at {day.isoformat()}", fmt["bold"])
            for col, title in enumerate(header):
                sheet.write(2, col, title, fmt["bold"])
            totals = [0.0] * (1 + len(AGE_BUCKETS))
            for line, row in enumerate(sorted(items, key=lambda r: (r["customer"], r["due"] or day)), start=3):
                overdue = (day - row["due"]).days if row["due"] else 0
                bucket = age_bucket(overdue)
                sheet.write(line, 0, row["customer"])
                sheet.write(line, 1, row["document"])
                for col, value in ((2, row["date"]), (3, row["due"])):
                    if value:
                        sheet.write_datetime(line, col, _dt(value), fmt["date"])
                sheet.write_number(line, 4, max(overdue, 0))
                sheet.write_number(line, 5, row["residual"], fmt["money"])
                totals[0] += row["residual"]
                for index, (key, *_rest) in enumerate(AGE_BUCKETS, start=1):
                    amount = row["residual"] if key == bucket else 0.0
                    totals[index] += amount
                    sheet.write_number(line, 5 + index, amount, fmt["money"])
            total_line = 3 + len(items)
            sheet.write(total_line, 0, "Total", fmt["bold"])
            for index, amount in enumerate(totals):
                sheet.write_number(total_line, 5 + index, round(amount, 2), fmt["total"])
            sheet.set_column(0, 1, 28)
            sheet.set_column(2, 3 + len(totals) + 2, 13)

    return _workbook(write)


def build_credits_xlsx(rows):
    """Credited customers and amounts per clinic: kind, document, date, customer, amount (company currency)."""

    def write(book, fmt):
        sheet = book.add_worksheet("Credits")
        header = ["Clinic", "Kind", "Document", "Date", "Customer", "Amount", "Currency"]
        for col, title in enumerate(header):
            sheet.write(0, col, title, fmt["bold"])
        total = 0.0
        for line, row in enumerate(rows, start=1):
            sheet.write(line, 0, row["clinic"])
            sheet.write(line, 1, row["kind"])
            sheet.write(line, 2, row["document"])
            sheet.write_datetime(line, 3, _dt(row["date"]), fmt["date"])
            sheet.write(line, 4, row["customer"])
            sheet.write_number(line, 5, row["amount"], fmt["money"])
            sheet.write(line, 6, row["currency"])
            total += row["amount"]
        sheet.write(len(rows) + 1, 0, "Total", fmt["bold"])
        sheet.write_number(len(rows) + 1, 5, round(total, 2), fmt["total"])
        sheet.set_column(0, 6, 18)

    return _workbook(write)


def _dt(day):
    return datetime(day.year, day.month, day.day)
