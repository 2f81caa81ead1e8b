from datetime import date

from odoo import Command, fields
from odoo.tests import new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon
from odoo.addons.queue_job.tests.common import trap_jobs


@tagged("post_install", "-at_install")
class NordicDunningCommon(AccountTestInvoicingCommon):
    """A company of ``country_code`` with the policy of legal profile ``profile_code`` (default: the same
    country), and helpers to age invoices."""

    country_code = "SE"
    profile_code = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.policy = cls.env["nordic.dunning.policy"]._create_from_profile(
            cls.company, cls.profile_code or cls.country_code
        )
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
    def company_user(cls, login, groups):
        """A user of the test company only, in ``groups`` (comma-separated xml ids)."""
        return new_test_user(
            cls.env, login=login, groups=groups, company_id=cls.company.id, company_ids=cls.company.ids
        )

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

    def confirm(self, run, letters=False):
        """Confirm ``run`` and perform the sending jobs it enqueued (fees, e-mails; letters if asked)."""
        self.confirm_and_send(run, letters=letters)
        return run.event_ids

    @staticmethod
    def confirm_and_send(run, **kwargs):
        """``run._confirm(**kwargs)``, then its enqueued jobs performed as the jobrunner would."""
        with trap_jobs() as trap:
            run._confirm(**kwargs)
            trap.perform_enqueued_jobs()
        return trap

    @staticmethod
    def today():
        return fields.Date.today()
