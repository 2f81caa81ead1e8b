from datetime import date
from decimal import Decimal

from odoo.tests import TransactionCase, tagged

from ..tools.sql import array_literal


@tagged("post_install", "-at_install")
class TestSqlTools(TransactionCase):
    """The bulk helpers hand PostgreSQL exactly the values Python had."""

    def test_array_literal_round_trip(self):
        """Ints, floats, Decimals, dates, booleans and NULLs come back from PostgreSQL's array input unchanged
        (numerics as the floats Odoo's cursor reads them as); strings are refused (the literal does not quote them)."""
        cases = [
            ("int[]", [1, 2, None, 2147483647], [1, 2, None, 2147483647]),
            (
                "numeric[]",
                [1000.0, 0.1, Decimal("12.35"), None],
                [1000.0, 0.1, 12.35, None],
            ),
            ("date[]", [date(2026, 2, 28), None], [date(2026, 2, 28), None]),
            ("bool[]", [True, False, None], [True, False, None]),
            ("int[]", [], []),
        ]
        for cast, values, expected in cases:
            with self.subTest(cast=cast, values=values):
                self.env.cr.execute(f"SELECT %s::{cast}", [array_literal(values)])  # pylint: disable=sql-injection
                self.assertEqual(self.env.cr.fetchone()[0], expected)
        with self.assertRaises(TypeError):
            array_literal(["a,b"])
