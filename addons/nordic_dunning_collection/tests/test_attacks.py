"""Attacks on the collection guarantees, made as a user would make them over RPC (the ORM with that user's rights
and any context they like), or as a hostile agency feed would make them through the sidecar. Each attack is
refused or quarantined, and nothing it aimed at has changed."""

from datetime import date

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.modules.neutralize import get_neutralization_queries
from odoo.tests import tagged

from odoo.addons.nordic_dunning.tools.system import as_system

from .collection_common import NordicCollectionCommon

# Context keys an attacker may try: the switches the collection addon once read, and the engine's.
FORGED_CONTEXT = {
    "nordic_case_source": "agency",
    "nordic_agency_status": "CLOSED_LOSS",
    "nordic_case_note": "Reported by the agency",
    "nordic_case_state_log": {"source": "agency"},
    "nordic_dunning_system": True,
    "tracking_disable": True,
}


@tagged("post_install", "-at_install")
class TestCollectionAttacks(NordicCollectionCommon):
    """A Dunning user, a Dunning manager and an invoicing user trying to rewrite a case, forge the agency's
    report, open cases for invoices that are not owed, or rewrite the sync's records."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = cls.company_user("nd_coll_attacker", "nordic_dunning.group_nordic_dunning_user")
        cls.manager = cls.company_user("nd_coll_manager", "nordic_dunning.group_nordic_dunning_manager")
        cls.clerk = cls.company_user("nd_coll_clerk", "account.group_account_invoice")

    def as_attacker(self, records, user=None):
        """``records`` as the attacker sees them over RPC: their own rights, their own context."""
        return records.browse(records.ids).with_user(user or self.user).with_context(**FORGED_CONTEXT)

    def snapshot(self, records, names):
        records.invalidate_recordset()
        return [tuple(record[name] for name in names) for record in records]

    # ------------------------------------------------------------------
    # The case
    # ------------------------------------------------------------------

    def test_case_identity_and_amounts_cannot_be_rewritten(self):
        """Attack: give a case a new idempotency key (the next sync registers a second case for the invoice),
        a larger principal (the agency demands more than is owed), a paid amount or another invoice. Refused for
        a user and a manager alike; the case reads as the product wrote it."""
        case = self.make_case(1000.0)
        other = self.make_case(50.0)
        names = ["uuid", "amount_principal", "amount_paid", "agency_fees", "move_id", "external_id", "state"]
        before = self.snapshot(case, names)
        attacks = (
            {"uuid": "forged-uuid"},
            {"amount_principal": 5000.0},
            {"amount_paid": 1000.0},
            {"agency_fees": 999.0},
            {"move_id": other.move_id.id},
            {"external_id": "AG-FORGED"},
        )
        for user in (self.user, self.manager):
            for vals in attacks:
                with self.assertRaises(AccessError, msg=vals), self.env.cr.savepoint():
                    self.as_attacker(case, user).write(vals)
        self.assertEqual(self.snapshot(case, names), before)

    def test_agency_report_cannot_be_forged(self):
        """Attack: write state "failed" with the context the agency's path once used, forging confirmed-loss
        evidence and a history row saying the agency reported it. Refused; no history row, no write-off."""
        case = self.make_case()
        self.submit(case)
        history = case.history_ids
        for user in (self.user, self.manager):
            for vals in ({"state": "failed"}, {"state": "paid"}, {"agency_status": "CLOSED_LOSS"}):
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    self.as_attacker(case, user).write(vals)
        case.invalidate_recordset()
        self.assertEqual(case.state, "submitted")
        self.assertEqual(case.history_ids, history)
        self.assertFalse(case.history_ids.filtered(lambda h: h.source == "agency"))

    def test_product_history_ignores_forged_context(self):
        """Attack: pass the old context keys to a product path (a button). The history records the product as
        the source: only the product's own code can say "the agency reported it"."""
        case = self.make_case()
        self.as_attacker(case).action_notify_agency()
        case.invalidate_recordset()
        entry = case.history_ids.filtered(lambda h: h.new_state == "paused")
        self.assertEqual((entry.source, entry.agency_status, entry.note), ("odoo", False, False))

    def test_case_cannot_be_created_by_hand(self):
        """Attack: open a case directly (for an invoice never demanded, or at all). Refused for every caller
        but the product; and even the product opens none for an invoice that is not owed: never sent, never
        demanded, disputed, on hold, or paid."""
        invoice = self.make_invoice(700.0)
        vals = {
            "move_id": invoice.id,
            "company_id": self.company.id,
            "partner_id": invoice.commercial_partner_id.id,
            "currency_id": invoice.currency_id.id,
            "agency_id": self.agency.id,
            "debtor_name": "x",
            "amount_principal": 700.0,
        }
        for user in (self.user, self.manager, self.clerk):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                self.as_attacker(self.Case, user).create(vals)
        system = as_system(self.Case.sudo())
        with self.assertRaisesRegex(UserError, "never demanded"), self.env.cr.savepoint():
            system.create(vals)
        unsent = self.make_invoice(300.0, sent=False)
        with self.assertRaisesRegex(UserError, "proof of sending"), self.env.cr.savepoint():
            system.create(dict(vals, move_id=unsent.id))
        # Demanded now (its first reminder), then held, then excluded: still no case.
        self.confirm(self.build_run(date(2026, 4, 10)))
        invoice.write({"nordic_dunning_excluded": True, "nordic_dunning_exclude_reason": "Hold"})
        with self.assertRaisesRegex(UserError, "excluded"), self.env.cr.savepoint():
            system.create(vals)
        self.assertFalse(self.Case.search([("move_id", "in", (invoice | unsent).ids)]))

    def test_submitted_case_debtor_and_agency_frozen(self):
        """Attack: change the debtor's identity or the agency once the agency has the case (the evidence would
        no longer match what the agency registered). Refused; before submission a user may still correct it."""
        case = self.make_case()
        self.as_attacker(case).write({"debtor_phone": "+46 70 000 00 00"})
        self.submit(case)
        other_agency = self.agency.copy({"code": "OTHER"})
        for vals in ({"debtor_name": "Someone else"}, {"agency_id": other_agency.id}, {"disputed": True}):
            with self.assertRaises(AccessError), self.env.cr.savepoint():
                self.as_attacker(case).write(vals)
        case.invalidate_recordset()
        self.assertEqual((case.debtor_name, case.agency_id, case.disputed), ("Patient Ada", self.agency, False))

    def test_history_changes_and_commands_are_immutable(self):
        """Attack: rewrite, delete or add status history, agency changes or commands (the evidence of what the
        agency reported and what we told it). Refused for a user and a manager."""
        case = self.make_case()
        self.submit(case)
        self.Case.with_user(self.sidecar_user).sidecar_apply_changes(
            self.agency.id, [self.change(case, "imm-1", state="active", label="ACTIVE")]
        )
        case.action_withdraw()
        history, change, command = case.history_ids, case.change_ids, case.command_ids
        self.assertTrue(history and change and command)
        before = self.snapshot(history, ["old_state", "new_state", "source", "agency_status"])
        attacks = (
            (history, {"new_state": "failed", "source": "agency"}, {"case_id": case.id, "new_state": "failed"}),
            (change, {"state": "applied", "amount": 1.0}, {"agency_id": self.agency.id, "state": "applied"}),
            (command, {"state": "done"}, {"case_id": case.id, "action": "withdraw"}),
        )
        for user in (self.user, self.manager):
            for record, vals, create_vals in attacks:
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    self.as_attacker(record, user).write(vals)
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    self.as_attacker(record, user).unlink()
                with self.assertRaises(AccessError), self.env.cr.savepoint():
                    self.as_attacker(record.browse(), user).create(create_vals)
        self.assertEqual(self.snapshot(history, ["old_state", "new_state", "source", "agency_status"]), before)
        self.assertEqual(case.history_ids, history)
        self.assertEqual((change.state, command.state), ("applied", "pending"))

    def test_buttons_check_who_calls(self):
        """Attack: an invoicing user (who may read cases) calls the buttons over RPC, and a Dunning user the
        manager's re-apply of quarantined changes. Each public method refuses; nothing changed."""
        case = self.make_case()
        for method in ("action_cancel", "action_withdraw", "action_notify_agency", "action_resume", "action_retry"):
            with self.assertRaises(AccessError, msg=method), self.env.cr.savepoint():
                getattr(self.as_attacker(case, self.clerk), method)()
        self.Case.with_user(self.sidecar_user).sidecar_apply_changes(self.agency.id, [{"id": "bad-1", "kind": "x"}])
        bad = self.env["nordic.collection.case.change"].search([("change_id", "=", "bad-1")])
        for method in ("action_reapply", "action_dismiss"):
            with self.assertRaises(AccessError, msg=method), self.env.cr.savepoint():
                getattr(self.as_attacker(bad, self.user), method)()
        case.invalidate_recordset()
        self.assertEqual(
            (case.state, case.command_ids, bad.state), ("to_submit", case.command_ids.browse(), "quarantined")
        )

    # ------------------------------------------------------------------
    # The agency's input
    # ------------------------------------------------------------------

    def test_hostile_changes_are_quarantined_one_by_one(self):
        """Attack: a feed page of malformed changes (a list for an id, a dict for a state, 1e309, NaN, a
        negative or foreign-currency amount, a date at the end of time, a case of another agency) around one
        good change. Nothing escapes: each bad one is stored quarantined with its reason, the good one applies,
        the cursor advances."""
        case = self.make_case(1000.0)
        self.submit(case)
        foreign_agency = self.agency.copy({"code": "FOREIGN"})
        foreign = self.make_case(100.0, agency=foreign_agency)
        good = self.change(case, "ok-1", state="active", label="ACTIVE")
        bad = [
            dict(self.change(case, "b-state"), state={"x": 1}),
            dict(self.change(case, "b-id"), id=["a", "b"]),
            self.change(case, "b-inf", kind="payment", amount="1e309"),
            self.change(case, "b-nan", kind="fee", amount="nan"),
            self.change(case, "b-neg", kind="fee", amount=-5),
            self.change(case, "b-huge-fee", kind="fee", amount=1e12),
            dict(self.change(case, "b-eur", kind="payment", amount=10.0), currency="EUR"),
            self.change(case, "b-end", state="paid", when="9999-12-31T23:59:59-12:00"),
            self.change(case, "b-future", state="paid", when="2200-01-01T00:00:00Z"),
            self.change(case, "b-label", state="paid", label=["PAID"]),
            dict(self.change(foreign, "b-foreign", state="failed"), external_id=False),
            "not a change",
        ]
        result = self.Case.with_user(self.sidecar_user).sidecar_apply_changes(
            self.agency.id, [bad[0], good, *bad[1:]], cursor="17"
        )
        self.assertEqual(result["applied"], 1)
        self.assertEqual(len(result["quarantined"]), len(bad))
        rows = self.env["nordic.collection.case.change"].search([("agency_id", "=", self.agency.id)])
        quarantined = rows.filtered(lambda r: r.state == "quarantined")
        self.assertEqual(len(quarantined), len(bad))
        self.assertTrue(all(quarantined.mapped("error")))
        case.invalidate_recordset()
        foreign.invalidate_recordset()
        self.assertEqual((case.state, case.amount_paid, case.agency_fees), ("active", 0.0, 0.0))
        self.assertEqual(foreign.state, "to_submit")
        self.assertEqual(self.agency.cursor, "17")

    def test_payment_above_the_claim_is_held(self):
        """Attack (or error): the agency reports a payment of 5000 on a claim of 1000. Applied up to the claim;
        the excess is held on the change and the case with an activity for review, never a customer credit. Only a
        manager closes the review (a Dunning user is refused); the amount stays on record."""
        case = self.make_case(1000.0)
        self.submit(case)
        self.Case.with_user(self.sidecar_user).sidecar_apply_changes(
            self.agency.id, [self.change(case, "pay-big", kind="payment", amount=5000.0)]
        )
        case.invalidate_recordset()
        change = case.change_ids
        self.assertEqual((case.payment_ids.amount, case.amount_paid), (1000.0, 1000.0))
        self.assertEqual((change.amount, change.amount_excess, case.amount_excess), (5000.0, 4000.0, 4000.0))
        self.assertTrue(case.excess_review)
        self.assertIn("more than the open claim", case.activity_ids.summary)
        self.assertIn(case.move_id.payment_state, ("paid", "in_payment"))
        outstanding = self.env["account.move.line"].search(
            [("partner_id", "=", case.partner_id.id), ("reconciled", "=", False), ("credit", ">", 0)]
        )
        self.assertFalse(outstanding.filtered(lambda line: line.account_id.account_type == "asset_receivable"))
        with self.assertRaises(AccessError), self.env.cr.savepoint():
            self.as_attacker(case, self.user).action_excess_reviewed()
        self.as_attacker(case, self.manager).action_excess_reviewed()
        case.invalidate_recordset()
        self.assertEqual((case.excess_review, case.amount_excess), (False, 4000.0))

    def test_lagging_sidecar_cannot_rewind_the_cursor(self):
        """Attack: a lagging sidecar resends an older page with an older cursor. The stored cursor keeps the
        newer position, and the duplicates apply exactly once."""
        case = self.make_case(1000.0)
        self.submit(case)
        api = self.Case.with_user(self.sidecar_user)
        page = [self.change(case, "p-1", kind="fee", amount=60.0), self.change(case, "p-2", state="active")]
        api.sidecar_apply_changes(self.agency.id, page, cursor="120")
        result = api.sidecar_apply_changes(self.agency.id, page, cursor="9")
        self.assertEqual((result["applied"], result["duplicates"]), (0, 2))
        self.agency.invalidate_recordset()
        case.invalidate_recordset()
        self.assertEqual(self.agency.cursor, "120")
        self.assertEqual(case.agency_fees, 60.0)
        api.sidecar_apply_changes(self.agency.id, [], cursor="121")
        self.assertEqual(self.agency.cursor, "121")

    def test_quarantined_change_reapplied_or_dismissed_by_a_manager(self):
        """A change quarantined for a case Odoo did not know yet is re-applied by a manager once the case is
        registered; another is dismissed. Both record who and when."""
        case = self.make_case(1000.0)
        early = dict(self.change(case, "early-1", state="active", label="ACTIVE"), uuid=None, external_id="AG-X")
        junk = {"id": "junk-1", "kind": "state", "state": "to_submit"}
        api = self.Case.with_user(self.sidecar_user)
        api.sidecar_apply_changes(self.agency.id, [early, junk])
        Change = self.env["nordic.collection.case.change"]
        early_row, junk_row = (
            Change.search([("change_id", "=", "early-1")]),
            Change.search([("change_id", "=", "junk-1")]),
        )
        self.assertEqual((early_row.state, junk_row.state), ("quarantined", "quarantined"))
        api.sidecar_record_submissions(
            self.agency.id, [{"uuid": case.uuid, "external_id": "AG-X", "state": "submitted"}]
        )
        early_row.with_user(self.manager).action_reapply()
        junk_row.with_user(self.manager).action_dismiss()
        (early_row | junk_row).invalidate_recordset()
        case.invalidate_recordset()
        self.assertEqual((early_row.state, early_row.case_id, case.state), ("applied", case, "active"))
        self.assertEqual(
            (early_row.resolved_uid, junk_row.state, junk_row.resolved_uid), (self.manager, "dismissed", self.manager)
        )
        self.assertTrue(junk_row.resolved_date)
        # Applied once: sending it again is a duplicate.
        result = api.sidecar_apply_changes(self.agency.id, [early])
        self.assertEqual(result["duplicates"], 1)

    def test_change_the_books_refuse_is_quarantined_alone(self):
        """A payment the books refuse (no bank journal to book it in) does not fail the page: it is quarantined
        with the reason while the state change beside it applies; once a journal is set a manager re-applies it."""
        case = self.make_case(1000.0)
        self.submit(case)
        banks = self.env["account.journal"].search([("company_id", "=", self.company.id), ("type", "=", "bank")])
        self.agency.payment_journal_id = False
        banks.active = False
        api = self.Case.with_user(self.sidecar_user)
        page = [
            self.change(case, "lock-pay", kind="payment", amount=400.0),
            self.change(case, "lock-state", state="active", label="ACTIVE", when="2026-05-03T10:00:00Z"),
        ]
        result = api.sidecar_apply_changes(self.agency.id, page, cursor="40")
        self.assertEqual((result["applied"], [q["id"] for q in result["quarantined"]]), (1, ["lock-pay"]))
        row = case.change_ids.filtered(lambda c: c.change_id == "lock-pay")
        case.invalidate_recordset()
        self.assertEqual(
            (row.state, case.state, case.amount_paid, case.payment_ids),
            ("quarantined", "active", 0.0, case.payment_ids.browse()),
        )
        self.assertIn("No bank journal", row.error)
        banks.active = True
        self.agency.payment_journal_id = self.bank_journal
        row.with_user(self.manager).action_reapply()
        row.invalidate_recordset()
        case.invalidate_recordset()
        self.assertEqual((row.state, case.amount_paid, len(case.payment_ids)), ("applied", 400.0, 1))

    # ------------------------------------------------------------------
    # Failures nobody sees
    # ------------------------------------------------------------------

    def test_branch_pays_into_the_head_office_journal(self):
        """A branch (a company with a parent) finds the agency's journal of its head office, or the head office's
        bank journal, instead of failing "No bank journal for agency payments"."""
        branch = self.env["res.company"].create({"name": "Clinic branch", "parent_id": self.company.id})
        Case = self.Case.sudo()
        self.assertEqual(Case._sidecar_payment_journal(self.agency, branch), self.bank_journal)
        self.agency.payment_journal_id = False
        self.assertEqual(Case._sidecar_payment_journal(self.agency, branch).company_id, self.company)
        stranger = self.env["res.company"].create({"name": "Unrelated company"})
        self.env["account.journal"].sudo().search([("company_id", "=", stranger.id), ("type", "=", "bank")]).unlink()
        with self.assertRaisesRegex(UserError, "No bank journal"):
            Case._sidecar_payment_journal(self.agency, stranger)
        with self.assertRaises(ValidationError):
            self.agency.write(
                {
                    "payment_journal_id": self.env["account.journal"]
                    .create({"name": "Foreign bank", "code": "FBK", "type": "bank", "company_id": stranger.id})
                    .id
                }
            )

    def test_stalled_feed_is_loud(self):
        """A pass that applies none of its changes marks the agency's feed stalled, with the failures as its
        last error; a heartbeat (with or without errors) does not clear it; a good pass does."""
        case = self.make_case()
        self.submit(case)
        api = self.Case.with_user(self.sidecar_user)
        api.sidecar_apply_changes(self.agency.id, [{"id": "s-1", "kind": "nonsense"}], cursor="5")
        api.sidecar_apply_changes(self.agency.id, [{"id": "s-2", "kind": "nonsense"}], cursor="5")
        self.agency.invalidate_recordset()
        self.assertTrue(self.agency.feed_stalled)
        self.assertIn("stalled", self.agency.feed_warning)
        self.assertIn("s-2", self.agency.last_error)
        api.sidecar_heartbeat({"worker": "w", "agency_id": self.agency.id, "stats": {"errors": [], "quarantined": 0}})
        self.agency.invalidate_recordset()
        self.assertIn("s-2", self.agency.last_error, "a heartbeat does not clear a stalled feed's error")
        api.sidecar_heartbeat({"worker": "w", "agency_id": self.agency.id, "stats": {"errors": ["agency timeout"]}})
        self.agency.invalidate_recordset()
        self.assertIn("agency timeout", self.agency.last_error)
        api.sidecar_apply_changes(self.agency.id, [self.change(case, "s-3", state="active")], cursor="6")
        self.agency.invalidate_recordset()
        self.assertEqual(
            (self.agency.feed_stalled, self.agency.last_error, self.agency.last_pass_applied), (False, False, 1)
        )
        self.assertTrue(self.agency.last_apply_date)

    # ------------------------------------------------------------------
    # Production safety
    # ------------------------------------------------------------------

    def test_production_agency_needs_https(self):
        """Attack: point a production agency (debtors' data, the API key) at a plain http:// URL. Refused."""
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.agency.write({"base_url": "http://agency.example"})
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.agency.copy({"code": "PLAIN", "base_url": "http://x", "environment": "production"})
        self.assertEqual(self.agency.base_url, "https://agency.example")

    def test_neutralized_database_hands_out_no_production_key(self):
        """A neutralized copy hands the sidecar no production API key, and Odoo's neutralization blanks every
        key and archives production agencies."""
        test_agency = self.agency.copy(
            {"code": "TESTAG", "environment": "test", "api_key": "test-key", "base_url": "http://sandbox"}
        )
        self.env["ir.config_parameter"].sudo().set_param("database.is_neutralized", True)
        agencies = {a["code"]: a for a in self.Case.with_user(self.sidecar_user).sidecar_agencies()["agencies"]}
        self.assertEqual((agencies["SANDBOX"]["api_key"], agencies["TESTAG"]["api_key"]), ("", "test-key"))
        for query in get_neutralization_queries(["nordic_dunning_collection"]):
            self.env.cr.execute(query)
        (self.agency | test_agency).invalidate_recordset()
        self.assertEqual((self.agency.api_key, test_agency.api_key), (False, False))
        self.assertEqual((self.agency.active, test_agency.active), (False, True))
