from datetime import date

from odoo import Command, fields
from odoo.tests import new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@tagged("post_install", "-at_install")
class NordicDunningCommon(AccountTestInvoicingCommon):
    """A company of ``country_code`` with its legal profile's policy, and helpers to age invoices."""

    country_code = "SE"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.policy = cls.env["nordic.dunning.policy"]._create_from_profile(cls.company, cls.country_code)
        cls.levels = cls.policy.level_ids.sorted("sequence")
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Patient Ada",
                "email": "ada@example.com",
                "lang": "en_US",
                "street": "Storgatan 1",
                "zip": "11122",
                "city": "Stockholm",
            }
        )
        cls.sale_journal = cls.company_data["default_journal_sale"]

    @classmethod
    def get_default_groups(cls):
        return super().get_default_groups() | cls.env.ref("nordic_dunning.group_nordic_dunning_manager")

    @classmethod
    def make_invoice(
        cls,
        amount=1000.0,
        due=date(2026, 4, 1),
        partner=None,
        sent=True,
        invoice_date=None,
        taxes=False,
        journal=None,
        company=None,
    ):
        """A posted customer invoice of ``amount`` due on ``due``, sent to the customer unless told otherwise."""
        vals = {"journal_id": (journal or cls.sale_journal).id} if not company else {}
        move = (
            cls.env["account.move"]
            .with_company(company or cls.company)
            .create(
                {
                    **vals,
                    "move_type": "out_invoice",
                    "partner_id": (partner or cls.customer).id,
                    "invoice_date": invoice_date or due.replace(day=1) if due.day > 1 else due,
                    "invoice_date_due": due,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Treatment",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.set(taxes.ids)] if taxes else [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        move.action_post()
        if sent:
            move.is_move_sent = True
        return move

    def build_run(self, day, policy=None):
        """The run the daily cron would build on ``day`` (an empty recordset when nothing is due)."""
        return self.env["nordic.dunning.run"]._build_for_policies(policy or self.policy, day)

    def confirm(self, run):
        run.with_context(nordic_dunning_no_letters=True).action_confirm()
        return run.event_ids

    def nordic_approve(self, move, comment="Approved in test"):
        """Approve a draft credit note or write-off as a CFO (never its creator), so that it can be posted."""
        company = move.company_id
        approver = self.env["res.users"].search([("login", "=", "nordic_test_cfo")])
        if not approver:
            approver = new_test_user(
                self.env,
                login="nordic_test_cfo",
                groups="account.group_account_invoice,nordic_dunning.group_nordic_cfo",
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

    @staticmethod
    def today():
        return fields.Date.today()
