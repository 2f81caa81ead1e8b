from datetime import date, timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from odoo.addons.nordic_dunning.tools.system import as_system

from .collection_common import NordicCollectionCommon


@tagged("post_install", "-at_install")
class TestCollectionCase(NordicCollectionCommon):
    """Hand-over to collection cases, debtor snapshot, commands and disputes."""

    def test_handover_creates_cases(self):
        """The hand-over level creates one case per invoice, for the serving agency, with the debtor snapshot."""
        self.customer.write(
            {
                "is_company": True,
                "company_registry": "556036-0793",
                "phone": "+46 8 123 45",
                "country_id": self.env.ref("base.se").id,
            }
        )
        first = self.make_invoice(1000.0, due=date(2026, 4, 1))
        second = self.make_invoice(500.0, due=date(2026, 4, 1))
        cases = self.hand_over(first, second)
        self.assertEqual(len(cases), 2)
        case = cases.filtered(lambda c: c.move_id == first)
        self.assertEqual((case.state, case.agency_id, case.amount_principal), ("to_submit", self.agency, 1000.0))
        self.assertEqual(
            (case.debtor_name, case.debtor_id_number, case.debtor_is_company), ("Patient Ada", "5560360793", True)
        )
        self.assertEqual(case.debtor_email, "ada@example.com")
        self.assertEqual(first.nordic_collection_case_ids, case)
        self.assertEqual(first.nordic_collection_case_count, 1)
        self.assertEqual(case.history_ids.new_state, "to_submit")
        self.assertEqual(len(set(cases.mapped("uuid"))), 2)

    def test_handover_keeps_invalid_id_number_out(self):
        """An invalid organisation number on the customer is left out of the case, with a note; nothing blocks."""
        self.customer.write(
            {"is_company": True, "company_registry": "556036-0794", "country_id": self.env.ref("base.se").id}
        )
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        case = self.hand_over(invoice)
        self.assertFalse(case.debtor_id_number)
        self.assertIn("556036-0794", case.message_ids[0].body)

    def test_id_numbers_validated(self):
        """Swedish and Norwegian organisation and personal numbers are checked with python-stdnum."""
        case = self.make_case()
        se, no = self.env.ref("base.se"), self.env.ref("base.no")
        case.write({"debtor_country_id": se.id, "debtor_is_company": False, "debtor_id_number": "880320-0016"})
        case.write({"debtor_country_id": no.id, "debtor_is_company": True, "debtor_id_number": "988 077 917"})
        with self.assertRaises(ValidationError):
            case.write({"debtor_id_number": "988077918"})
        with self.assertRaises(ValidationError):
            case.write({"debtor_country_id": se.id, "debtor_is_company": False, "debtor_id_number": "8803200017"})

    def test_no_case_for_unsent_invoice(self):
        """A case is never created for an invoice without proof of sending."""
        invoice = self.make_invoice(800.0, sent=False)
        with self.assertRaisesRegex(UserError, invoice.name):
            as_system(self.Case).create(
                {
                    "move_id": invoice.id,
                    "company_id": self.company.id,
                    "partner_id": self.customer.id,
                    "currency_id": invoice.currency_id.id,
                    "debtor_name": "x",
                }
            )

    def test_one_open_case_per_invoice(self):
        """A second hand-over of the same invoice creates no second case."""
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        case = self.hand_over(invoice)
        again = self.Case._create_from_handover(case.event_id)
        self.assertFalse(again)
        self.assertEqual(self.Case.search_count([("move_id", "=", invoice.id)]), 1)

    def test_agency_routing_by_journal(self):
        """An agency bound to the invoice journal wins over one serving the whole company."""
        units = self.agency.copy({"code": "UNITS", "journal_ids": [Command.set(self.sale_journal.ids)]})
        other_journal = self.sale_journal.copy({"code": "TEK", "name": "Technical unit"})
        general = self.make_invoice(100.0)
        technical = self.make_invoice(100.0, journal=other_journal)
        routing = self.env["nordic.collection.agency"]._agency_by_move(general | technical)
        self.assertEqual((routing[general], routing[technical]), (units, self.agency))

    def test_notify_agency_queues_one_pause(self):
        """ "Notify agency" on the invoice queues one pause command, however often it is pressed."""
        invoice = self.make_invoice(1000.0, due=date(2026, 4, 1))
        case = self.hand_over(invoice)
        invoice.action_nordic_notify_agency()
        case.action_notify_agency()
        self.assertEqual(case.command_ids.mapped("action"), ["pause"])
        self.assertEqual(case.command_ids.state, "pending")

    def test_cancel_only_before_submission(self):
        """A case not yet at the agency can be cancelled; a submitted one must be withdrawn instead."""
        case = self.make_case()
        other = self.make_case(200.0)
        case.action_cancel()
        self.assertEqual(case.state, "cancelled")
        self.submit(other)
        with self.assertRaises(UserError):
            other.action_cancel()

    def test_dispute_reminder_and_withdrawal(self):
        """An unanswered agency dispute gets a reminder e-mail, then a withdraw command at its deadline."""
        case = self.make_case()
        self.submit(case)
        reply_by = fields.Date.today() + timedelta(days=10)
        self.Case.with_user(self.sidecar_user).sidecar_apply_changes(
            self.agency.id,
            [
                self.change(
                    case, "d1", kind="dispute", data={"reply_by": reply_by.isoformat(), "text": "Never ordered"}
                ),
            ],
            "c1",
        )
        self.assertTrue(case.dispute_at_agency and case.disputed)
        self.assertEqual(case.dispute_reply_by, reply_by)
        activity = case.activity_ids
        dispute_type = self.env.ref("nordic_dunning_collection.mail_activity_type_collection_dispute")
        self.assertEqual(activity.activity_type_id, dispute_type)
        self.assertEqual(activity.date_deadline, reply_by)

        self.Case._cron_dispute_deadlines()
        self.assertFalse(case.dispute_reminded, "too early to remind")
        with patch.object(fields.Date, "context_today", lambda *a, **k: reply_by - timedelta(days=2)):
            reminded, due = self.Case._cron_dispute_deadlines()
        self.assertEqual((reminded, due), (case, self.Case))
        self.assertTrue(case.dispute_reminded)
        self.assertTrue(self.env["mail.mail"].search([("model", "=", case._name), ("res_id", "=", case.id)]))
        with patch.object(fields.Date, "context_today", lambda *a, **k: reply_by):
            reminded, due = self.Case._cron_dispute_deadlines()
        self.assertEqual(due, case)
        self.assertEqual(case.command_ids.filtered(lambda c: c.state == "pending").action, "withdraw")
        self.assertEqual(case.dispute_answer, "withdraw")

    def test_dispute_answer_queues_command(self):
        """Answering an agency dispute queues the answer and closes the activity."""
        case = self.make_case()
        self.submit(case)
        self.Case.with_user(self.sidecar_user).sidecar_apply_changes(
            self.agency.id, [self.change(case, "d1", kind="dispute", data={"text": "Wrong amount"})], None
        )
        self.assertEqual(case.dispute_reply_by, fields.Date.today() + timedelta(days=14))
        case.action_dispute_uphold()
        self.assertEqual(case.command_ids.action, "dispute_answer")
        self.assertEqual(case.command_ids.data["answer"], "uphold")
        self.assertFalse(case.activity_ids)
        with self.assertRaises(UserError):
            case.action_dispute_withdraw()

    def messages(self, case, text):
        self.env.cr.precommit.run()  # the chatter's tracking messages
        messages = self.env["mail.message"].search([("model", "=", case._name), ("res_id", "=", case.id)])
        return messages.filtered(lambda m: text in (m.body or ""))

    def test_agency_dispute_pauses_until_agency_resumes(self):
        """A dispute reported by the agency pauses the case, in the chatter and the status history, once however
        often the change comes; "Resume" is refused while the agency waits for our answer; when the agency
        resumes collection itself the dispute is over: the case is active again and no deadline is left."""
        case = self.make_case()
        self.submit(case)
        self.env.cr.precommit.run()  # the hand-over is committed: a case is not tracked in its creating transaction
        # As over RPC: with the chatter's tracking, which the test environment disables by default.
        api = self.Case.with_user(self.sidecar_user).with_context(tracking_disable=False, mail_notrack=False)
        api.sidecar_apply_changes(
            self.agency.id, [self.change(case, "a1", state="active", label="collection_active")], "c1"
        )
        self.assertEqual(case.state, "active")
        reply_by = fields.Date.today() + timedelta(days=10)
        dispute = self.change(
            case,
            "d1",
            kind="dispute",
            state="paused",
            label="disputed",
            data={"reply_by": reply_by.isoformat(), "text": "The crown was never fitted"},
        )
        api.sidecar_apply_changes(self.agency.id, [dispute], "c2")
        self.assertEqual((case.state, case.agency_status), ("paused", "disputed"))
        self.assertTrue(case.disputed and case.dispute_at_agency)
        self.assertEqual(case.history_ids.sorted("id")[-1:].mapped("new_state"), ["paused"])
        tracked = self.messages(case, "disputes the claim at the agency")
        self.assertEqual(len(tracked), 1)
        state_change = tracked.tracking_value_ids.filtered(lambda t: t.field_id.name == "state")
        self.assertEqual((state_change.old_value_char, state_change.new_value_char), ("Active", "Paused"))
        self.assertEqual(case.activity_ids.date_deadline, reply_by)

        self.assertEqual(
            api.sidecar_apply_changes(self.agency.id, [dispute], "c2"),
            {"applied": 0, "duplicates": 1, "quarantined": []},
        )
        self.assertEqual(len(case.activity_ids), 1, "a replayed dispute is applied once")
        with self.assertRaisesRegex(UserError, "uphold or drop"):
            case.action_resume()

        # The debtor withdrew the objection at the agency: collection goes on without our answer.
        api.sidecar_apply_changes(
            self.agency.id, [self.change(case, "a2", state="active", label="collection_active")], "c3"
        )
        self.assertEqual((case.state, case.agency_status), ("active", "collection_active"))
        self.assertFalse(case.dispute_at_agency)
        self.assertFalse(case.activity_ids, "no answer is awaited any more")
        self.assertEqual(len(self.messages(case, "dispute at the agency is over")), 2, "the tracking and the activity")
        with patch.object(fields.Date, "context_today", lambda *a, **k: reply_by):
            _reminded, due = self.Case._cron_dispute_deadlines()
        self.assertFalse(due, "a resumed case is not withdrawn at the old deadline")

    def test_upheld_dispute_resumes_case(self):
        """Upholding the claim answers the agency; its acknowledgement resumes the paused case, and the agency's
        own "collection_active" afterwards changes nothing more."""
        case = self.make_case()
        self.submit(case)
        api = self.Case.with_user(self.sidecar_user)
        api.sidecar_apply_changes(self.agency.id, [self.change(case, "d1", kind="dispute", data={"text": "Too much"})])
        self.assertEqual((case.state, case.agency_status), ("paused", False), "a dispute without a state pauses")
        case.action_dispute_uphold()
        command = api.sidecar_pending_commands(self.agency.id, 10)
        self.assertEqual([c["action"] for c in command], ["dispute_answer"])
        api.sidecar_ack_commands(self.agency.id, [{"command_id": command[0]["command_id"], "ok": True}])
        self.assertEqual(case.state, "active")
        history = len(case.history_ids)
        api.sidecar_apply_changes(self.agency.id, [self.change(case, "a1", state="active", label="collection_active")])
        self.assertEqual((case.state, case.dispute_answer, len(case.history_ids)), ("active", "uphold", history))
