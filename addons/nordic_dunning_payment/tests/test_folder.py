"""The folder cron: new files imported and moved to done/, bad ones to failed/ with the error logged."""

import os
import tempfile

from . import writers
from .common import PaymentCommon


class TestFolder(PaymentCommon):
    """A bank journal's server folder, read by the scheduled action."""

    def test_folder_import(self):
        """A good file is imported and moved to done/, a hostile one and a duplicate to failed/; rerun is a no-op."""
        invoice = self.make_invoice(1000.0)
        good = writers.bgmax([{"reference": invoice.payment_reference, "amount": 1000}])
        with tempfile.TemporaryDirectory() as folder:
            for name, data in (("a_good.txt", good), ("b_same.txt", good), ("c_bad.txt", good[:-30])):
                with open(os.path.join(folder, name), "wb") as handle:
                    handle.write(data)
            self.bank_journal.nordic_payment_folder = folder
            with self.assertLogs("odoo.addons.nordic_dunning_payment.models.nordic_payment_folder", "ERROR") as logs:
                self.env["nordic.payment.import"]._cron_import_folders()
            self.assertEqual(len(logs.records), 2)
            self.assertEqual(os.listdir(os.path.join(folder, "done")), ["a_good.txt"])
            self.assertEqual(sorted(os.listdir(os.path.join(folder, "failed"))), ["b_same.txt", "c_bad.txt"])
            self.assertEqual(sorted(os.listdir(folder)), ["done", "failed"])
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))
            self.env["nordic.payment.import"]._cron_import_folders()
            self.assertEqual(self.env["nordic.payment.import"].search_count([]), 1)
