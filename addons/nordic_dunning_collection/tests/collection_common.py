from datetime import date

from odoo import Command

from odoo.addons.nordic_dunning.tests.common import NordicDunningCommon
from odoo.addons.nordic_dunning.tools.system import as_system


class NordicCollectionCommon(NordicDunningCommon):
    """An agency serving the test company, a sidecar technical user, and invoices handed over to it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bank_journal = cls.company_data["default_journal_bank"]
        cls.agency = cls.env["nordic.collection.agency"].create(
            {
                "name": "Sandbox agency",
                "code": "SANDBOX",
                "base_url": "https://agency.example",
                "api_key": "secret-key",
                "environment": "production",
                "company_ids": [Command.set(cls.company.ids)],
                "payment_journal_id": cls.bank_journal.id,
                "user_id": cls.env.user.id,
            }
        )
        cls.sidecar_user = cls.env["res.users"].create(
            {
                "name": "Collection sidecar",
                "login": "nordic_sidecar",
                "password": "nordic_sidecar_pw",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "groups_id": [Command.set(cls.env.ref("nordic_dunning_collection.group_nordic_dunning_sidecar").ids)],
            }
        )
        cls.Case = cls.env["nordic.collection.case"]

    @classmethod
    def make_case(cls, amount=1000.0, partner=None, agency=None):
        """A case waiting for submission for a new sent invoice demanded once (its first reminder), opened
        the way the product opens one (without going through the runs up to the hand-over)."""
        invoice = cls.make_invoice(amount, due=date(2026, 4, 1), partner=partner)
        cls.confirm_and_send(
            cls.env["nordic.dunning.run"]._build_for_policies(cls.policy, date(2026, 4, 10)), letters=False
        )
        debtor = invoice.commercial_partner_id
        case = as_system(cls.Case.sudo()).create(
            {
                "move_id": invoice.id,
                "company_id": invoice.company_id.id,
                "partner_id": debtor.id,
                "currency_id": invoice.currency_id.id,
                "agency_id": (agency or cls.agency).id,
                "user_id": cls.env.user.id,
                "debtor_name": debtor.name,
                "amount_principal": amount,
            }
        )
        return case.with_env(cls.env)  # the test's own environment: never the product's sentinel

    def hand_over(self, *invoices):
        """Age the invoices (due 1 April 2026) through the three Swedish levels to the hand-over."""
        for day in (date(2026, 4, 10), date(2026, 4, 17), date(2026, 4, 24)):
            self.confirm(self.build_run(day))
        return self.Case.search([("move_id", "in", [inv.id for inv in invoices])])

    def submit(self, cases, prefix="AG"):
        """Claim and record the cases as the sidecar would; returns the claimed cases."""
        api = self.Case.with_user(self.sidecar_user)
        claimed = api.sidecar_claim(self.agency.id, 100, "test-worker")
        api.sidecar_record_submissions(
            self.agency.id,
            [
                {
                    "uuid": c["uuid"],
                    "external_id": f"{prefix}-{c['id']}",
                    "ocr": f"99{c['id']}",
                    "state": "submitted",
                    "agency_status": "registered",
                }
                for c in claimed
            ],
        )
        return claimed

    def change(
        self, case, change_id, kind="state", state=None, label=None, amount=None, data=None, when="2026-05-02T10:00:00Z"
    ):
        """A change as the sidecar reports it: neutral, with ``label`` the agency's own word for the state."""
        return {
            "id": change_id,
            "uuid": case.uuid,
            "external_id": case.external_id,
            "kind": kind,
            "state": state,
            "agency_status": label,
            "amount": amount,
            "currency": case.currency_id.name if amount else None,
            "occurred_at": when,
            "data": data or {},
        }
