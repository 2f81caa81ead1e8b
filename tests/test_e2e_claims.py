"""End to end on loopback: what happens to an invoice in Odoo reaches the agency's claim.

A real odoo-bin (the addons installed), the sandbox agency as its own process and the sidecar CLI: a payment
registered over RPC before the submission, a partial payment and an approved credit note after it, a dispute and
its rejection. After each sync the agency claims exactly the invoice's open amount in Odoo, and holds the
disputed case until the dispute is closed.
"""

import json
import textwrap

import pytest

from tests.odoo_process import odoo_shell
from tests.test_e2e_sync import SETUP_FILE, Scenario

# Whole kronor ending in 6 or 7: the sandbox keeps such cases open (surveillance), whatever the clock does.
AMOUNTS = [1006.0, 1106.0, 1206.0, 1306.0]

# A credit note of the invoice approved by a CFO who did not create it, then posted: Odoo sets it against the
# invoice (the approval addon holds every customer credit note until approved).
CREDIT_NOTE = """
from odoo.addons.nordic_dunning_approval.tests.approval_common import NordicApproveMixin
from odoo.tests import new_test_user
invoice = env["account.move"].browse({invoice_id})
company = invoice.company_id
cfo = env["res.users"].search([("login", "=", "nordic_test_cfo")]) or new_test_user(
    env, login="nordic_test_cfo", groups="account.group_account_invoice,nordic_dunning_approval.group_nordic_cfo",
    company_id=company.id,
)
cfo.company_ids |= company
env.invalidate_all()  # the CFO is an approver of the company from now on
env = env(user=env.ref("base.user_admin").id, context=dict(env.context, allowed_company_ids=invoice.company_id.ids))
wizard = env["account.move.reversal"].with_context(active_model="account.move", active_ids=invoice.ids).create(
    {{"move_ids": [(6, 0, invoice.ids)], "reason": "Goodwill", "journal_id": invoice.journal_id.id}}
)
wizard.refund_moves()
refund = wizard.new_move_ids
line = refund.invoice_line_ids[0]
refund.write({{"invoice_line_ids": [(1, line.id, {{"price_unit": {amount}}})]}})
refund.action_post()  # held: the approval is requested
refund.review_ids.mapped("can_review")  # base_tier_validation sets a review pending as it computes this, as a form does
approver = NordicApproveMixin()
approver.env = env
approver.nordic_approve(refund, comment="Goodwill approved")
refund.invalidate_recordset()  # need_validation has no dependencies: read it anew, as the next request would
refund.action_post()
env.cr.commit()
result({{"state": refund.state, "residual": invoice.amount_residual}})
"""


class ClaimsScenario(Scenario):
    """The handed-over invoices of a company, changed in Odoo as its users would."""

    def __init__(self, odoo, tmp_path, name):
        super().__init__(odoo, tmp_path, name, amounts=AMOUNTS)
        moves = self.admin.execute_kw("account.move", "read", [self.data["move_ids"]], {"fields": ["company_id"]})
        self.context = {"allowed_company_ids": [moves[0]["company_id"][0]]}
        self.invoices = dict(zip(AMOUNTS, self.data["move_ids"], strict=True))

    def call(self, model, method, *args, **kwargs):
        return self.admin.execute_kw(model, method, list(args), {"context": self.context, **kwargs})

    def pay(self, amount, paid):
        """Register a payment of ``paid`` for the invoice of ``amount`` over RPC, as an accountant would."""
        context = {**self.context, "active_model": "account.move", "active_ids": [self.invoices[amount]]}
        wizard = self.admin.execute_kw("account.payment.register", "create", [{"amount": paid}], {"context": context})
        self.admin.execute_kw("account.payment.register", "action_create_payments", [[wizard]], {"context": context})

    def credit(self, amount, credited):
        code = CREDIT_NOTE.format(invoice_id=self.invoices[amount], amount=credited)
        out = odoo_shell(self.odoo.db, open(SETUP_FILE).read() + "\n" + textwrap.dedent(code))
        return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])

    def case(self, amount):
        [case] = self.call(
            "nordic.collection.case",
            "search_read",
            [["move_id", "=", self.invoices[amount]], ["agency_id", "=", self.data["agency_id"]]],
            fields=["state", "external_id", "amount_registered", "id"],
        )
        return case

    def residual(self, amount):
        [move] = self.call("account.move", "read", [self.invoices[amount]], fields=["amount_residual"])
        return move["amount_residual"]

    def at_agency(self, amount):
        response = self.sandbox.call("GET", f"/v1/cases/{self.case(amount)['external_id']}")
        response.raise_for_status()
        return response.json()

    def assert_claims_open_amounts(self):
        for amount in AMOUNTS:
            agency = self.at_agency(amount)
            assert agency["principal_remaining"] == pytest.approx(self.residual(amount)), amount


def test_agency_claims_what_is_open_in_odoo(odoo, tmp_path):
    """Paid before submission, paid in part, credited, disputed: the agency claims Odoo's open amount, pauses
    the disputed case and resumes it when the dispute is rejected; no command is sent twice."""
    scenario = ClaimsScenario(odoo, tmp_path, "CLM")
    try:
        first, second, third, fourth = AMOUNTS
        scenario.pay(first, 300.0)  # still in the outbox: the registration claims what is open
        assert scenario.sync().returncode == 0
        assert scenario.case(first)["amount_registered"] == pytest.approx(first - 300.0)
        assert scenario.at_agency(first)["principal"] == pytest.approx(first - 300.0)
        assert scenario.at_agency(second)["principal"] == pytest.approx(second)
        scenario.assert_claims_open_amounts()

        scenario.pay(second, 250.0)
        assert scenario.credit(third, 200.0) == {"state": "posted", "residual": third - 200.0}
        dispute = scenario.call(
            "nordic.dunning.dispute", "create", {"move_id": scenario.invoices[fourth], "reason": "Never treated"}
        )
        assert scenario.sync().returncode == 0
        scenario.assert_claims_open_amounts()
        assert scenario.residual(second) == pytest.approx(second - 250.0)
        assert scenario.at_agency(fourth)["paused"] is True
        assert scenario.case(fourth)["state"] == "paused"

        scenario.call("nordic.dunning.dispute", "write", [dispute], {"resolution": "The treatment was given"})
        scenario.call("nordic.dunning.dispute", "action_reject", [dispute])
        assert scenario.sync().returncode == 0
        assert scenario.at_agency(fourth)["paused"] is False
        assert scenario.case(fourth)["state"] == "active"

        assert scenario.sync().returncode == 0  # nothing new: nothing sent again
        scenario.assert_claims_open_amounts()
        commands = scenario.call(
            "nordic.collection.case.command",
            "search_read",
            [["agency_id", "=", scenario.data["agency_id"]]],
            fields=["action", "state", "data"],
            order="id",
        )
        assert [(c["action"], c["state"]) for c in commands] == [
            ("creditor_payment", "done"),
            ("creditor_payment", "done"),
            ("pause", "done"),
            ("resume", "done"),
        ]
        assert sorted(c["data"]["amount"] for c in commands if c["action"] == "creditor_payment") == [200.0, 250.0]
    finally:
        scenario.close()
