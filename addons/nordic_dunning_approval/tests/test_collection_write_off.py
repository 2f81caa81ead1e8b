from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.nordic_dunning_collection.tests.collection_common import NordicCollectionCommon

from .approval_common import NordicApproveMixin


@tagged("post_install", "-at_install")
class TestCollectionWriteOff(NordicApproveMixin, NordicCollectionCommon):
    """The case's "Write off" button opens the invoice's own write-off flow, prefilled with the agency's outcome."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["account.account"].create(
            {
                "code": "6351",
                "name": "Konstaterade förluster på kundfordringar",
                "account_type": "expense",
                "company_ids": [Command.set(cls.company.ids)],
            }
        )
        cls.write_off_type = cls.env.ref("nordic_dunning_approval.mail_activity_type_collection_write_off")

    def setUp(self):
        super().setUp()
        self.api = self.Case.with_user(self.sidecar_user)

    def report(self, *changes):
        self.Case.with_user(self.sidecar_user).sidecar_apply_changes(self.agency.id, list(changes), None)

    def open_wizard(self, case):
        """The wizard as the case's button opens it (the action's context holds the defaults)."""
        action = case.action_write_off()
        self.assertEqual((action["res_model"], action["target"]), ("nordic.writeoff.wizard", "new"))
        return self.env[action["res_model"]].with_context(**action["context"]).create({})

    def test_failed_case_written_off_through_invoice_flow(self):
        """A failed case proposes the write-off with the agency's outcome as reason; the invoice's approval
        applies, and posting the approved entry writes the invoice off and closes the case's proposal."""
        case = self.make_case(1000.0)
        self.submit(case)
        self.assertFalse(case.can_write_off, "collection still running")
        with self.assertRaises(UserError):
            case.action_write_off()
        self.report(
            self.change(case, "a1", state="active", label="collection_active"),
            self.change(
                case,
                "f1",
                state="failed",
                label="failed",
                data={"closure_code": "no_means"},
                when="2026-05-20T10:00:00Z",
            ),
        )
        self.assertEqual(case.state, "failed")
        self.assertEqual(case.activity_ids.activity_type_id, self.write_off_type)
        self.assertTrue(case.can_write_off)

        wizard = self.open_wizard(case)
        invoice = case.move_id
        self.assertEqual(wizard.move_id, invoice)
        for part in ("Sandbox agency", "Failed", "no_means", "05/20/2026", case.name, case.external_id):
            self.assertIn(part, wizard.reason)
        self.assertFalse(wizard.blockers, "a failed collection is a confirmed loss")
        entry = self.env["account.move"].browse(wizard.action_confirm()["res_id"])
        self.assertEqual((entry.state, entry.nordic_approval_kind), ("draft", "write_off"))
        self.assertEqual(invoice.nordic_writeoff_reason, wizard.reason)
        self.assertEqual(case.writeoff_move_id, entry)
        self.assertFalse(case.can_write_off, "one write-off waiting for approval is enough")
        with self.assertRaisesRegex(UserError, "waiting for approval"):
            case.action_write_off()
        self.assertTrue(case.activity_ids, "the proposal stays open until the write-off is posted")

        self.nordic_approve(entry)
        entry.action_post()
        self.assertTrue(case.written_off)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertFalse(case.activity_ids)
        done = case.message_ids.filtered(lambda m: m.mail_activity_type_id == self.write_off_type)
        self.assertIn("written off", done.body)

    def test_write_off_offered_only_for_agency_losses(self):
        """Surveillance offers the write-off behind the CFO override of the evidence rule; an active case, a
        paid invoice and a dispute pause offer none."""
        surveillance, paid, disputed = self.make_case(300.0), self.make_case(400.0), self.make_case(500.0)
        self.submit(surveillance | paid | disputed)
        self.report(
            self.change(surveillance, "s1", state="surveillance"),
            self.change(paid, "p1", kind="payment", amount=400.0),
            self.change(paid, "p2", state="surveillance"),
            self.change(disputed, "d1", kind="dispute", data={"text": "Never treated"}),
        )
        self.assertEqual((surveillance.can_write_off, paid.can_write_off, disputed.can_write_off), (True, False, False))
        with self.assertRaisesRegex(UserError, "nothing left"):
            paid.action_write_off()
        wizard = self.open_wizard(surveillance)
        self.assertIn("Surveillance", wizard.reason)
        self.assertIn("no collection case reported as failed", wizard.blockers)
        with self.assertRaises(UserError):
            wizard.action_confirm()

    def test_swedish_reason_and_button(self):
        """A Swedish accountant gets the button and the agency's report as reason in Swedish."""
        self.env["res.lang"]._activate_lang("sv_SE")
        self.env["ir.module.module"]._load_module_terms(
            ["nordic_dunning", "nordic_dunning_collection", "nordic_dunning_approval"], ["sv_SE"]
        )
        case = self.make_case(800.0)
        self.submit(case)
        self.report(self.change(case, "f1", state="failed", label="failed", data={"closure_code": "no_means"}))
        reason = case.with_context(lang="sv_SE")._write_off_reason()
        self.assertIn("Sandbox agency rapporterade Misslyckad (avslutskod no_means) den ", reason)
        views = self.Case.with_context(lang="sv_SE").get_views([(False, "form")])
        arch = views["views"]["form"]["arch"]
        self.assertIn('string="Skriv av"', arch)

    def test_failed_raises_write_off_proposal(self):
        """A failed collection closes the case and asks the responsible user for a write-off."""
        case = self.make_case()
        self.submit(case)
        self.api.sidecar_apply_changes(self.agency.id, [self.change(case, "x1", state="failed", label="failed")], "c")
        self.assertEqual(case.state, "failed")
        activity = case.activity_ids
        self.assertEqual(
            activity.activity_type_id, self.env.ref("nordic_dunning_approval.mail_activity_type_collection_write_off")
        )
        self.assertEqual(activity.user_id, self.env.user)
        self.api.sidecar_apply_changes(self.agency.id, [self.change(case, "x2", state="failed", label="failed")], "c")
        self.assertEqual(len(case.activity_ids), 1, "one proposal only")
