"""No run on stale payments: a policy's required bank journals must have files up to the previous bank day."""

from datetime import date

from . import writers
from .common import PaymentCommon


class TestStaleGuard(PaymentCommon):
    """The engine's guard holds a run whose payment files lag behind (issue 15)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.payment_journal_ids = cls.bank_journal

    def test_run_held_without_yesterdays_file(self):
        """No file, or a file only up to Wednesday, holds Friday's run naming the journal and Thursday."""
        self.make_invoice(1000.0)
        other = self.make_invoice(50.0)
        self.import_file(writers.bgmax([{"reference": other.payment_reference, "amount": 50}], day=date(2026, 4, 8)))
        run = self.build_run(self.RUN_DAY)
        self.assertEqual(run.state, "to_approve")
        self.assertIn(self.bank_journal.display_name, run.anomaly_note)
        self.assertIn("2026-04-09", run.anomaly_note)

    def test_run_goes_out_with_yesterdays_file(self):
        """With Thursday's file imported the run is not held, and the invoice it paid is not in it."""
        invoice = self.make_invoice(1000.0)
        paid = self.make_invoice(50.0)
        self.import_file(writers.bgmax([{"reference": paid.payment_reference, "amount": 50}], day=date(2026, 4, 9)))
        run = self.build_run(self.RUN_DAY)
        self.assertNotEqual(run.state, "to_approve", run.anomaly_note)
        self.assertEqual(run.line_ids.move_id, invoice)
