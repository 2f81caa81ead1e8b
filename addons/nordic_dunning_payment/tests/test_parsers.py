"""The parsers alone: hostile files are refused with the line named, check digits are computed right."""

from datetime import date

from stdnum import luhn

from odoo.tests import TransactionCase, tagged

from ..tools import PaymentFileError, bgmax, camt054, detect_format, ocr_giro
from ..tools.reference import check_digit_ok, mod10_ok, mod11_digit, mod11_ok, ocr_length_ok
from . import writers


@tagged("post_install", "-at_install")
class TestParsers(TransactionCase):
    """Each format's parser returns plain rows and refuses what does not follow its published layout."""

    def test_bgmax_rows(self):
        """A BgMax section gives one row per payment with the deposit's date, extra references and payer."""
        data = writers.bgmax(
            [
                {"reference": "12344", "amount": 1000, "name": "Patient Ada"},
                {"reference": "99", "amount": 5.5, "extra": ["555"], "org_no": "5560000000"},
            ]
        )
        self.assertEqual(detect_format(data), "bgmax")
        parsed = bgmax.parse(data)
        self.assertEqual(parsed.bank_reference, "20260415083000123456-0009912346")
        first, second = parsed.rows
        self.assertEqual((first.date, str(first.amount), first.reference), (date(2026, 4, 15), "1000", "12344"))
        self.assertEqual(first.payer_name, "Patient Ada")
        self.assertEqual((second.references, second.payer_org_no), (["99", "555"], "5560000000"))
        self.assertIn("26Patient Ada", first.raw)

    def assertRefused(self, parse, data, *fragments):
        with self.assertRaises(PaymentFileError) as cm:
            parse(data)
        for fragment in fragments:
            self.assertIn(fragment, str(cm.exception))

    def test_bgmax_hostile(self):
        """Wrong length, letters in an amount, a deposit or an end record that disagrees: refused, line named."""
        good = writers.bgmax([{"reference": "12344", "amount": 100}])
        lines = good.decode("iso-8859-1").split("\r\n")
        short = "\r\n".join([lines[0], lines[1][:60], *lines[2:]]).encode()
        self.assertRefused(bgmax.parse, short, "Line 2", "80 characters")
        letters = lines[2][:40] + "ABC" + lines[2][43:]
        self.assertRefused(bgmax.parse, "\r\n".join([*lines[:2], letters, *lines[3:]]).encode(), "Line 3", "amount")
        self.assertRefused(
            bgmax.parse, writers.bgmax([{"reference": "12344", "amount": 100}], deposit=99999), "Line 4", "deposit"
        )
        self.assertRefused(
            bgmax.parse, writers.bgmax([{"reference": "12344", "amount": 100}], count=3), "Line 4", "3 payments"
        )
        end = "70" + "00000009" + lines[-2][10:]
        self.assertRefused(bgmax.parse, "\r\n".join([*lines[:-2], end, ""]).encode(), "Line 5", "end record")
        garbage = "\r\n".join([*lines[:3], "99" + "x" * 78, *lines[3:]]).encode()
        self.assertRefused(bgmax.parse, garbage, "Line 4", "unknown BgMax record type")
        self.assertRefused(bgmax.parse, "\r\n".join(lines[:-2]).encode(), "no end record")

    def test_ocr_giro(self):
        """Nets OCR giro via netsgiro: KID and amount per transaction; a wrong total or a garbage line refused."""
        data = writers.ocr_giro([{"kid": "12344", "amount": 250}, {"kid": "12345678903", "amount": 10.5}])
        self.assertEqual(detect_format(data), "ocr_giro")
        parsed = ocr_giro.parse(data)
        self.assertEqual(parsed.bank_reference, "55555555-1000081")
        self.assertEqual(
            [(r.reference, str(r.amount)) for r in parsed.rows], [("12344", "250"), ("12345678903", "10.5")]
        )
        self.assertEqual(parsed.rows[0].date, date(2026, 4, 15))
        lines = data.decode().splitlines()
        total = lines[-1][:24] + "00000000000099999" + lines[-1][41:]
        self.assertRefused(ocr_giro.parse, "\n".join([*lines[:-1], total]).encode(), f"Line {len(lines)}", "end record")
        garbage = "\n".join([*lines[:3], "NY0930" + "7" * 74, *lines[3:]]).encode()
        self.assertRefused(ocr_giro.parse, garbage, "Line 4")

    def test_camt054(self):
        """camt.054 through OCA's parser: structured reference first, else the unstructured text; sums checked."""
        parser = self.env["account.statement.import.camt.parser"]
        data = writers.camt054(
            [{"amount": 100, "ref": "12344", "name": "Patient Ada"}, {"amount": 20, "ustrd": "Faktura 77"}]
        )
        self.assertEqual(detect_format(data), "camt054")
        parsed = camt054.parse(parser, data)
        self.assertEqual(parsed.bank_reference, "MSG-20260415-1")
        self.assertEqual(
            [(r.reference, str(r.amount)) for r in parsed.rows], [("12344", "100.00"), ("Faktura 77", "20.00")]
        )
        self.assertEqual(parsed.rows[0].payer_name, "Patient Ada")
        self.assertRefused(
            lambda d: camt054.parse(parser, d),
            writers.camt054([{"amount": 100, "ref": "1"}], summary=(1, 90)),
            "summary",
        )
        self.assertRefused(lambda d: camt054.parse(parser, d), b"<Document><unclosed>", "XML")

    def test_check_digits(self):
        """Luhn (Odoo's OCR/KID), MOD11 (KID) and the Swedish length digit."""
        self.assertTrue(mod10_ok("12344") and not mod10_ok("12345"))
        self.assertEqual(mod11_digit("1234567890"), "3")
        self.assertTrue(mod11_ok("12345678903") and not mod11_ok("12345678904"))
        self.assertTrue(check_digit_ok("12344") and check_digit_ok("12345678903") and not check_digit_ok("12345"))
        with_length = "123457" + luhn.calc_check_digit("123457")  # 7 digits, the length digit 7 before the check digit
        self.assertTrue(ocr_length_ok(with_length))
        self.assertFalse(ocr_length_ok("12344"))
