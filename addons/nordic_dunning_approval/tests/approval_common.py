from odoo import Command
from odoo.tests import new_test_user, tagged

from odoo.addons.nordic_dunning.tests.common import NordicDunningCommon


class NordicApproveMixin:
    """Approving a credit note or write-off in a test as a CFO who did not create it."""

    def nordic_approve(self, move, comment="Approved in test"):
        """Approve a draft credit note or write-off as a CFO (never its creator), so that it can be posted."""
        company = move.company_id
        approver = self.env["res.users"].search([("login", "=", "nordic_test_cfo")])
        if not approver:
            approver = new_test_user(
                self.env,
                login="nordic_test_cfo",
                groups="account.group_account_invoice,nordic_dunning_approval.group_nordic_cfo",
                company_id=company.id,
            )
        approver.company_ids |= company
        if approver not in move.review_ids.reviewer_ids:
            move.restart_validation()
            move.request_validation()
        move = move.with_user(approver).with_context(allowed_company_ids=company.ids)
        action = move.validate_tier()
        wizard = self.env["comment.wizard"].with_user(approver).with_context(**action["context"])
        wizard.create({"comment": comment}).add_comment()


@tagged("post_install", "-at_install")
class NordicApprovalCommon(NordicApproveMixin, NordicDunningCommon):
    """Head office with two clinics (branches), their managers, a clerk, a CFO and a CEO."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "child_ids": [Command.create({"name": "Clinic Södermalm"}), Command.create({"name": "Clinic Kista"})],
                "nordic_hq_email": "hq@example.com",
            }
        )
        cls.cr.precommit.run()  # the branches get the chart of accounts
        cls.clinic_a, cls.clinic_b = cls.company.child_ids.sorted("id")
        all_companies = cls.company | cls.clinic_a | cls.clinic_b

        def user(login, groups, company, companies=all_companies):
            return new_test_user(
                cls.env,
                login=login,
                groups=f"account.group_account_invoice,{groups}" if groups else "account.group_account_invoice",
                company_id=company.id,
                company_ids=[Command.set(companies.ids)],
                email=f"{login}@example.com",
            )

        # Clinic staff see their own clinic; the CFO and the CEO see every company.
        cls.clerk = user("clerk", "", cls.clinic_a, cls.clinic_a)
        cls.manager_a = user(
            "manager_a", "nordic_dunning_approval.group_nordic_clinic_manager", cls.clinic_a, cls.clinic_a
        )
        # Manager of clinic B who may also read clinic A: seeing a credit note is no right to approve it.
        cls.manager_b = user(
            "manager_b",
            "nordic_dunning_approval.group_nordic_clinic_manager",
            cls.clinic_b,
            cls.clinic_a | cls.clinic_b,
        )
        cls.cfo = user("cfo", "nordic_dunning_approval.group_nordic_cfo", cls.company)
        cls.ceo = user("ceo", "nordic_dunning_approval.group_nordic_ceo", cls.company)
        cls.clinic_a.nordic_clinic_manager_ids = cls.manager_a
        cls.clinic_b.nordic_clinic_manager_ids = cls.manager_b

    @staticmethod
    def as_user(records, user):
        return records.with_user(user).with_context(allowed_company_ids=user.company_ids.ids)

    def make_credit_note(self, amount, user=None, company=None, currency=None, date="2026-03-10", taxes=False):
        """A draft customer credit note of ``amount`` created by ``user`` (the clerk) in ``company`` (clinic A)."""
        user = user or self.clerk
        company = company or self.clinic_a
        vals = {
            "move_type": "out_refund",
            "company_id": company.id,
            "partner_id": self.customer.id,
            "invoice_date": date,
            "date": date,
            "invoice_line_ids": [
                Command.create(
                    {
                        "name": "Goodwill",
                        "quantity": 1,
                        "price_unit": amount,
                        "tax_ids": [Command.set(taxes.ids)] if taxes else [Command.clear()],
                    }
                )
            ],
        }
        if currency:
            vals["currency_id"] = currency.id
        return self.as_user(self.env["account.move"], user).with_company(company).create(vals)

    def make_clinic_invoice(self, amount, taxes=False, company=None, date="2026-02-01"):
        """A posted customer invoice of clinic A (or ``company``)."""
        invoice = (
            self.env["account.move"]
            .with_company(company or self.clinic_a)
            .create(
                {
                    "move_type": "out_invoice",
                    "company_id": (company or self.clinic_a).id,
                    "partner_id": self.customer.id,
                    "invoice_date": date,
                    "invoice_date_due": date,
                    "date": date,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Crown",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.set(taxes.ids)] if taxes else [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        invoice.action_post()
        return invoice

    def approve(self, move, user, comment="Checked"):
        """Approve ``move`` as ``user`` through the comment wizard, as in the form."""
        action = self.as_user(move, user).validate_tier()
        wizard = (
            self.as_user(self.env["comment.wizard"], user)
            .with_context(**action["context"])
            .create({"comment": comment})
        )
        wizard.add_comment()
