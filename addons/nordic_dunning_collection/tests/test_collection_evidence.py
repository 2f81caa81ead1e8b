from datetime import date

from odoo.tests import tagged

from odoo.addons.nordic_dunning.tests.common import NordicDunningCommon
from odoo.addons.nordic_dunning.tools.system import as_system


@tagged("post_install", "-at_install")
class TestCollectionEvidence(NordicDunningCommon):
    """The tandvårdsstöd flag "all collection measures taken" and its evidence report."""

    def dun_to_handover(self, invoice):
        """Run the Swedish routine (due 1 April 2026) until the hand-over level."""
        for day in (date(2026, 4, 10), date(2026, 4, 17), date(2026, 4, 24)):
            self.confirm(self.build_run(day))
        self.assertEqual(invoice.nordic_dunning_state, "handed_over")

    def test_truth_table(self):
        """Paid → ready; open without measures, with a level cancelled, or handed over without an ending
        outcome → blocked with the reason; all levels, hand-over and an ending outcome → ready."""
        open_invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        self.assertFalse(open_invoice.nordic_collection_exhausted)
        self.assertIn("Not executed yet", open_invoice.nordic_collection_exhausted_reason)

        paid = self.make_invoice(500.0, due=date(2026, 4, 1))
        self.env["account.payment.register"].with_context(active_model="account.move", active_ids=paid.ids).create(
            {"payment_date": date(2026, 4, 2)}
        )._create_payments()
        self.assertTrue(paid.nordic_collection_exhausted)
        self.assertEqual(paid.nordic_collection_exhausted_reason, "Paid by the patient.")

        self.dun_to_handover(open_invoice)
        self.assertFalse(open_invoice.nordic_collection_exhausted)
        self.assertIn("has not reported an outcome", open_invoice.nordic_collection_exhausted_reason)
        self.assertEqual(
            open_invoice._nordic_exhausted_state("agency reported Failed"),
            (True, "All measures taken: agency reported Failed."),
        )

        case = open_invoice.nordic_collection_case_ids
        self.assertEqual(len(case), 1, "the hand-over opened a collection case")
        case = as_system(case)  # as the agency's reports write it (the sidecar API)
        case.write({"state": "active"})
        self.assertFalse(open_invoice.nordic_collection_exhausted, "collection still running")
        case.write({"state": "surveillance"})
        self.assertTrue(open_invoice.nordic_collection_exhausted)
        self.assertIn("Surveillance", open_invoice.nordic_collection_exhausted_reason)
        case.write({"state": "failed"})
        self.assertTrue(open_invoice.nordic_collection_exhausted)
        self.assertIn("Failed", "".join(m["measure"] for m in open_invoice._nordic_collection_measures()))

        reminder = open_invoice.nordic_dunning_event_ids.filtered(lambda e: e.level_sequence == 1)
        # As the mass cancellation records it (the product's own write of the audit trail).
        as_system(reminder).sudo().write({"state": "cancelled", "cancel_reason": "Sent to a wrong address"})
        self.assertFalse(open_invoice.nordic_collection_exhausted)
        self.assertIn(self.levels[0].name, open_invoice.nordic_collection_exhausted_reason)
        self.assertFalse(
            open_invoice._nordic_exhausted_state("agency reported Failed")[0], "a cancelled level is no measure taken"
        )
        self.assertIn(self.levels[0].name, open_invoice._nordic_exhausted_state("agency reported Failed")[1])

        no_policy = self.make_invoice(100.0, due=date(2026, 4, 1))
        no_policy._nordic_write_schedule([(no_policy.id, None, None, None)])
        no_policy.modified(["nordic_dunning_state"])
        self.assertIn("No dunning policy", no_policy._nordic_exhausted_state(None)[1])

        claims = self.env["account.move"].search(
            [("id", "in", (open_invoice | paid).ids), ("nordic_collection_exhausted", "=", True)]
        )
        self.assertEqual(claims, paid, "the ready filter lists the paid invoice only")

    def test_evidence_pdf(self):
        """The evidence report lists every measure with date and channel and renders as a real PDF."""
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        self.dun_to_handover(invoice)
        measures = invoice._nordic_collection_measures()
        self.assertEqual([m["date"] for m in measures[1:4]], [date(2026, 4, 10), date(2026, 4, 17), date(2026, 4, 24)])
        report = self.env.ref("nordic_dunning_collection.action_report_collection_evidence")
        html = report._render_qweb_html(report.report_name, invoice.ids)[0].decode()
        for level in self.levels:
            self.assertIn(level.name, html)
        self.assertIn("2026-04-17", html)
        pdf, kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(report.report_name, invoice.ids)
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
