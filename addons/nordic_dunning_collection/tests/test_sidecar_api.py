from datetime import date, timedelta

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.nordic_dunning.tools.system import as_system

from .collection_common import NordicCollectionCommon


@tagged("post_install", "-at_install")
class TestSidecarApi(NordicCollectionCommon):
    """The batch RPC contract between Odoo and the sidecar."""

    def setUp(self):
        super().setUp()
        self.api = self.Case.with_user(self.sidecar_user)

    def test_agencies(self):
        """The sidecar learns the agencies, their keys and cursors, and whether the database is neutralized."""
        result = self.api.sidecar_agencies()
        self.assertFalse(result["database"]["neutralized"])
        self.assertEqual(result["database"]["name"], self.env.cr.dbname)
        agency = next(a for a in result["agencies"] if a["id"] == self.agency.id)
        self.assertEqual(
            (agency["code"], agency["api_key"], agency["environment"], agency["cursor"], agency["protocol"]),
            ("SANDBOX", "secret-key", "production", None, "nordic_v1"),
        )

    def test_claim_payload_and_lease(self):
        """A claim takes each case once, as the neutral case record; an expired lease frees it again."""
        case = self.make_case(1234.5)
        claimed = self.api.sidecar_claim(self.agency.id, 10, "w1")
        self.assertEqual([c["id"] for c in claimed], case.ids)
        record = claimed[0]["case"]
        self.assertEqual(
            set(record), {"uuid", "name", "currency", "debtor", "debts", "disputed", "dispute_text"}, "no agency's word"
        )
        self.assertEqual((record["uuid"], record["name"], record["currency"]), (case.uuid, case.name, "SEK"))
        debt = record["debts"][0]
        self.assertEqual(debt["invoice_number"], case.move_id.name)
        self.assertEqual(debt["payment_reference"], case.move_id.payment_reference or case.move_id.name)
        self.assertEqual(debt["principal"], 1234.5)
        self.assertEqual(record["debtor"]["name"], "Patient Ada")
        self.assertEqual(debt["due_date"], "2026-04-01")
        self.assertEqual((case.state, case.claimed_by), ("submitting", "w1"))
        self.assertEqual(self.api.sidecar_claim(self.agency.id, 10, "w2"), [], "leased to w1")
        as_system(case.sudo()).claimed_at = fields.Datetime.now() - timedelta(minutes=11)
        self.assertEqual([c["id"] for c in self.api.sidecar_claim(self.agency.id, 10, "w2")], case.ids)
        self.assertEqual(case.claimed_by, "w2")

    def test_claim_skip_locked_two_cursors(self):
        """A case locked by one sidecar's open claim is skipped, not waited for, by a second one (SKIP LOCKED)."""
        registry = self.env.registry
        ids = {}
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            journal = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
            partner = env["res.partner"].create({"name": "Lock test debtor"})
            moves = env["account.move"].create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "journal_id": journal.id,
                        "invoice_date": date(2026, 4, 1),
                        "is_move_sent": True,
                        "invoice_line_ids": [Command.create({"name": "x", "quantity": 1, "price_unit": 10.0})],
                    }
                    for _i in range(2)
                ]
            )
            moves.action_post()
            agency = env["nordic.collection.agency"].create(
                {
                    "name": "Lock test",
                    "code": "LOCKTEST",
                    "base_url": "https://x",
                    "environment": "production",
                    "company_ids": [Command.set(company.ids)],
                }
            )
            # Committed fixture rows for the two cursors: written by SQL, as the guard opens cases only for
            # invoices a committed dunning run demanded (which this locking test does not need).
            cr.execute(
                """
                INSERT INTO nordic_collection_case
                    (name, uuid, move_id, company_id, partner_id, currency_id, agency_id, state, debtor_name)
                SELECT 'LOCK/' || m.id, gen_random_uuid()::text, m.id, m.company_id, m.partner_id, m.currency_id,
                       %s, 'to_submit', 'Lock test debtor'
                  FROM account_move m WHERE m.id = ANY(%s) ORDER BY m.id
                RETURNING id
                """,
                [agency.id, moves.ids],
            )
            cases = env["nordic.collection.case"].browse(sorted(row[0] for row in cr.fetchall()))
            ids = {"partner": partner.id, "moves": moves.ids, "agency": agency.id, "cases": cases.ids}
        try:
            with registry.cursor() as cr_a, registry.cursor() as cr_b:
                cr_a.execute("SET lock_timeout = '10s'")
                cr_b.execute("SET lock_timeout = '10s'")
                case_a = api.Environment(cr_a, SUPERUSER_ID, {})["nordic.collection.case"]
                case_b = api.Environment(cr_b, SUPERUSER_ID, {})["nordic.collection.case"]
                first = case_a.sidecar_claim(ids["agency"], 1, "A")
                second = case_b.sidecar_claim(ids["agency"], 5, "B")
                third = case_b.sidecar_claim(ids["agency"], 5, "B")
                cr_a.commit()
                cr_b.commit()
                fourth = case_b.sidecar_claim(ids["agency"], 5, "B")
                cr_b.rollback()
                cr_a.execute("RESET lock_timeout")
                cr_b.execute("RESET lock_timeout")
        finally:
            with registry.cursor() as cr:
                cr.execute("DELETE FROM nordic_collection_case WHERE id = ANY(%s)", [ids["cases"]])
                cr.execute("DELETE FROM nordic_collection_agency WHERE id = %s", [ids["agency"]])
                cr.execute("DELETE FROM account_move WHERE id = ANY(%s)", [ids["moves"]])
                cr.execute("DELETE FROM res_partner WHERE id = %s", [ids["partner"]])
        self.assertEqual([c["id"] for c in first], ids["cases"][:1])
        self.assertEqual([c["id"] for c in second], ids["cases"][1:], "the locked case is skipped")
        self.assertEqual(third, [], "already taken within the same transaction")
        self.assertEqual(fourth, [], "both leases still run after commit")

    def test_record_submissions_idempotent(self):
        """Recording a submission twice changes nothing; an error puts the case back in the outbox."""
        ok, bad = self.make_case(), self.make_case(200.0)
        claimed = self.api.sidecar_claim(self.agency.id, 10, "w1")
        self.assertEqual(len(claimed), 2)
        results = [
            {
                "uuid": ok.uuid,
                "external_id": "A-1",
                "ocr": "12345",
                "state": "submitted",
                "agency_status": "registered",
            },
            {"uuid": bad.uuid, "error": "422 debtor address missing"},
        ]
        self.assertEqual(
            self.api.sidecar_record_submissions(self.agency.id, results), {"submitted": 1, "failed": 1, "unknown": []}
        )
        self.assertEqual(
            (ok.state, ok.external_id, ok.ocr, ok.agency_status), ("submitted", "A-1", "12345", "registered")
        )
        self.assertTrue(ok.submitted_date)
        self.assertEqual((bad.state, bad.last_error), ("to_submit", "422 debtor address missing"))
        history = len(ok.history_ids)
        self.assertEqual(self.api.sidecar_record_submissions(self.agency.id, results[:1])["submitted"], 0)
        self.assertEqual(len(ok.history_ids), history)

    def test_registration_state(self):
        """A registration puts the case in the state the agency answered when collection may start from it (the
        default: submitted); a state no registration leads to is refused: the case goes back to the outbox."""
        active, held, plain, bad = self.make_case(), self.make_case(200.0), self.make_case(300.0), self.make_case(400.0)
        self.api.sidecar_claim(self.agency.id, 10, "w1")
        result = self.api.sidecar_record_submissions(
            self.agency.id,
            [
                {"uuid": active.uuid, "external_id": "A-1", "state": "active", "agency_status": "collection_active"},
                {"uuid": held.uuid, "external_id": "A-2", "state": "paused", "agency_status": "paused"},
                {"uuid": plain.uuid, "external_id": "A-3"},
                {"uuid": bad.uuid, "external_id": "A-4", "state": "paid", "agency_status": "paid"},
            ],
        )
        self.assertEqual(result, {"submitted": 3, "failed": 1, "unknown": []})
        self.assertEqual(
            [(c.state, c.agency_status) for c in active | held | plain],
            [("active", "collection_active"), ("paused", "paused"), ("submitted", False)],
        )
        self.assertEqual((bad.state, bad.external_id), ("to_submit", False))
        self.assertIn("cannot put a case in state 'paid'", bad.last_error)

    def test_payment_applied_once_and_reconciled(self):
        """A payment change becomes one posted payment reconciled with the invoice, however often it is sent."""
        case = self.make_case(1000.0)
        self.submit(case)
        changes = [
            self.change(case, "c1", state="active", label="collection_active", when="2026-05-01T08:00:00Z"),
            self.change(case, "c2", kind="payment", amount=1000.0, when="2026-05-10T08:00:00+02:00"),
            self.change(case, "c3", state="paid", when="2026-05-10T09:00:00Z"),
        ]
        result = self.api.sidecar_apply_changes(self.agency.id, changes, "cur-3")
        self.assertEqual(result, {"applied": 3, "duplicates": 0, "quarantined": []})
        self.assertEqual(
            self.api.sidecar_apply_changes(self.agency.id, changes, "cur-3"),
            {"applied": 0, "duplicates": 3, "quarantined": []},
        )
        self.assertEqual(case.state, "paid")
        self.assertEqual(len(case.payment_ids), 1)
        payment = case.payment_ids
        self.assertEqual(
            (payment.state, payment.amount, payment.journal_id, payment.payment_type),
            ("in_process", 1000.0, self.bank_journal, "inbound"),
            "posted, waiting for the bank statement",
        )
        self.assertEqual(payment.date, date(2026, 5, 10))
        self.assertEqual(case.move_id.payment_state, "paid", "reconciled with the invoice")
        self.assertEqual((case.amount_paid, case.amount_remaining, case.recovery_rate), (1000.0, 0.0, 100.0))
        self.assertEqual(self.agency.cursor, "cur-3")
        self.assertTrue(case.closed_date)
        self.assertEqual(
            case.history_ids.sorted("id").mapped("new_state")[-2:],
            ["submitted", "paid"],
            "a batch moves each case once, to its latest status",
        )
        self.assertEqual(len(case.change_ids), 3)

    def test_partial_payment_fees_interest(self):
        """Agency fees and interest are recorded on the case; a partial payment leaves the invoice partly paid."""
        case = self.make_case(1000.0)
        self.submit(case)
        self.api.sidecar_apply_changes(
            self.agency.id,
            [
                self.change(case, "f1", kind="fee", amount=180.0),
                self.change(case, "i1", kind="interest", amount=12.5),
                self.change(case, "p1", kind="payment", amount=400.0),
                self.change(case, "s1", state="surveillance", when="2026-06-01T00:00:00Z"),
            ],
            "c",
        )
        self.assertEqual((case.agency_fees, case.agency_interest, case.amount_paid), (180.0, 12.5, 400.0))
        self.assertEqual(case.amount_remaining, 792.5)
        self.assertEqual(case.move_id.amount_residual, 600.0)
        self.assertEqual(case.state, "surveillance")
        self.assertFalse(case.closed_date, "surveillance keeps the case open")

    def test_quarantine_malformed(self):
        """Malformed changes, unknown kinds and states (an agency never puts a case in the outbox), and changes the
        sidecar could not map are stored with their error and do not stop the rest of the batch."""
        case = self.make_case()
        self.submit(case)
        good = self.change(case, "ok1", state="active", label="collection_active")
        result = self.api.sidecar_apply_changes(
            self.agency.id,
            [
                good,
                self.change(case, "bad1", state="exploded"),
                self.change(case, "bad2", kind="payment", amount="lots"),
                dict(self.change(case, "bad3", state="active"), uuid="nope", external_id="nope"),
                dict(self.change(case, "bad4", kind="payment", amount=5.0), currency="EUR"),
                self.change(case, "bad5", kind="status", state="active"),
                self.change(case, "bad6", state="to_submit"),
                self.change(case, "bad7", state="active", label={"text": "active"}),
                {"id": "bad8", "error": "unknown agency status 'lost'", "data": {"status": "lost"}},
                self.change(case, "bad9", kind={"x": 1}),
                dict(self.change(case, "bad10", state="active"), uuid={"x": 1}, external_id=None),
                {"kind": "state"},
                "garbage",
            ],
            "c9",
        )
        self.assertEqual(result["applied"], 1)
        quarantined = {q["id"]: q["error"] for q in result["quarantined"]}
        self.assertEqual(list(quarantined), [f"bad{i}" for i in range(1, 11)] + [None])
        self.assertEqual(len(result["quarantined"]), 12)
        self.assertIn("state 'exploded'", quarantined["bad1"])
        self.assertIn("unknown change kind 'status'", quarantined["bad5"])
        self.assertIn("state 'to_submit'", quarantined["bad6"])
        self.assertIn("agency_status must be a text", quarantined["bad7"])
        self.assertIn("unknown agency status 'lost'", quarantined["bad8"])
        self.assertEqual((case.state, case.agency_status), ("active", "collection_active"))
        stored = self.env["nordic.collection.case.change"].search(
            [("agency_id", "=", self.agency.id), ("state", "=", "quarantined")]
        )
        self.assertEqual(len(stored), 12)
        self.assertTrue(all(stored.mapped("error")))
        self.assertEqual(stored.filtered(lambda c: c.change_id == "bad9").type, False, "a kind that is no text")
        self.assertEqual(self.agency.quarantined_count, 12)
        self.assertFalse(case.payment_ids)
        applied = case.change_ids.filtered(lambda c: c.state == "applied")
        self.assertEqual((applied.type, applied.case_state, applied.status), ("state", "active", "collection_active"))
        again = self.api.sidecar_apply_changes(self.agency.id, [self.change(case, "bad1", state="exploded")], "c9")
        self.assertEqual((again["duplicates"], again["quarantined"]), (1, []))

    def test_submission_recovered_from_changes(self):
        """A case the agency registered but Odoo never recorded (crash) gets its agency id from the change feed."""
        case = self.make_case()
        self.api.sidecar_claim(self.agency.id, 10, "w1")
        change = dict(self.change(case, "r1", state="submitted", label="registered"), external_id="AG-77")
        self.api.sidecar_apply_changes(self.agency.id, [change], "c")
        self.assertEqual((case.external_id, case.state), ("AG-77", "submitted"))

    def test_environment_guard(self):
        """A production agency is refused from a neutralized database, a test agency from production unless allowed."""
        case = self.make_case()
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("database.is_neutralized", True)
        with self.assertRaisesRegex(UserError, "production agency"):
            self.api.sidecar_claim(self.agency.id, 10, "w1")
        self.assertEqual(case.state, "to_submit")
        self.assertTrue(self.api.sidecar_agencies()["database"]["neutralized"])
        params.set_param("database.is_neutralized", False)
        self.agency.environment = "test"
        with self.assertRaisesRegex(UserError, "test agency"):
            self.api.sidecar_claim(self.agency.id, 10, "w1")
        self.agency.allow_test_from_production = True
        self.assertEqual(len(self.api.sidecar_claim(self.agency.id, 10, "w1")), 1)

    def test_commands_and_acks(self):
        """Pending commands reach the sidecar once submitted; an acknowledgement applies them exactly once."""
        case = self.make_case()
        case.action_notify_agency()
        self.assertEqual(case.state, "paused", "held back in the outbox")
        self.assertEqual(self.api.sidecar_claim(self.agency.id, 10, "w1"), [])
        case.action_resume()
        self.assertEqual(case.state, "to_submit")
        self.api.sidecar_claim(self.agency.id, 10, "w1")
        case.action_notify_agency()
        self.assertEqual(self.api.sidecar_pending_commands(self.agency.id, 10), [], "not at the agency yet")
        self.api.sidecar_record_submissions(self.agency.id, [{"uuid": case.uuid, "external_id": "AG-1", "ocr": "1"}])
        commands = self.api.sidecar_pending_commands(self.agency.id, 10)
        self.assertEqual(
            [(c["action"], c["external_id"], c["case_uuid"]) for c in commands],
            [("pause", case.external_id, case.uuid)],
        )
        acks = [{"command_id": commands[0]["command_id"], "ok": True, "error": None}]
        self.assertEqual(self.api.sidecar_ack_commands(self.agency.id, acks), {"done": 1, "failed": 0})
        self.assertEqual(case.state, "paused")
        self.assertEqual(self.api.sidecar_ack_commands(self.agency.id, acks), {"done": 0, "failed": 1})
        self.assertEqual(self.api.sidecar_pending_commands(self.agency.id, 10), [])
        case.action_resume()
        command = self.api.sidecar_pending_commands(self.agency.id, 10)[0]
        self.api.sidecar_ack_commands(
            self.agency.id, [{"command_id": command["command_id"], "ok": False, "error": "503"}]
        )
        self.assertEqual((case.command_ids[-1].attempts, case.command_ids[-1].error), (1, "503"))
        self.assertEqual(len(self.api.sidecar_pending_commands(self.agency.id, 10)), 1, "retried later")

    def test_heartbeat(self):
        """The heartbeat stores the last sync time on the agency."""
        result = self.api.sidecar_heartbeat({"worker": "w1", "agency_id": self.agency.id, "stats": {"applied": 3}})
        self.assertTrue(result["ok"])
        self.assertEqual(self.agency.last_worker, "w1")
        self.assertTrue(self.agency.last_sync)

    def test_statistics(self):
        """Average handling time from submission to closure and recovery rate, per agency (seed 003's figures)."""
        cases = self.make_case(1000.0) | self.make_case(1000.0) | self.make_case(500.0)
        self.submit(cases)
        start = fields.Datetime.now() - timedelta(days=60)
        for case, days in zip(cases, (20, 32, 44), strict=True):
            as_system(case.sudo()).write({"submitted_date": start, "closed_date": start + timedelta(days=days)})
        changes = [
            self.change(cases[0], "p", kind="payment", amount=1000.0),
            self.change(cases[0], "s0", state="paid"),
            self.change(cases[1], "s1", state="failed", label="failed"),
            self.change(cases[2], "s2", state="withdrawn"),
        ]
        self.api.sidecar_apply_changes(self.agency.id, changes, None)
        for case, days in zip(cases, (20, 32, 44), strict=True):
            as_system(case.sudo()).closed_date = start + timedelta(days=days)
        self.assertEqual(cases.mapped("handling_days"), [20.0, 32.0, 44.0])
        self.assertEqual(self.agency.avg_handling_days, 32.0)
        self.assertEqual(self.agency.recovery_rate, 40.0)
        groups = self.Case._read_group(
            [("id", "in", cases.ids)], ["agency_id", "state"], ["__count", "handling_days:avg"]
        )
        self.assertEqual(
            sorted((state, count) for _agency, state, count, _avg in groups),
            [("failed", 1), ("paid", 1), ("withdrawn", 1)],
        )

    def test_batch_query_count(self):
        """Applying a batch costs about the same number of queries for 4 cases as for 24: no query per change."""
        cases = self.Case
        for _i in range(28):
            cases |= self.make_case(100.0)
        self.submit(cases)
        self.env.flush_all()
        self.env.invalidate_all()

        def apply(recs, prefix):
            changes = []
            for case in recs:
                changes += [
                    self.change(case, f"{prefix}a{case.id}", state="active", label="collection_active"),
                    self.change(case, f"{prefix}f{case.id}", kind="fee", amount=10.0),
                    self.change(case, f"{prefix}s{case.id}", state="surveillance"),
                ]
            before = self.env.cr.sql_log_count
            self.api.sidecar_apply_changes(self.agency.id, changes, prefix)
            self.env.flush_all()
            return self.env.cr.sql_log_count - before

        small = apply(cases[:4], "small")
        self.env.invalidate_all()
        large = apply(cases[4:], "large")
        self.assertEqual(set(cases.mapped("state")), {"surveillance"})
        self.assertEqual(set(cases.mapped("agency_fees")), {10.0})
        self.assertLessEqual(large, small + 10, f"{small} queries for 4 cases, {large} for 24")
