from datetime import date

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import NordicDunningCommon


@tagged("post_install", "-at_install")
class TestSecurity(NordicDunningCommon):
    """Who may do what, and companies never see each other's dunning."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.invoice = cls.make_invoice(1000.0, due=date(2026, 4, 1))
        cls.invoicing_user = cls.company_user("nd_billing", "account.group_account_invoice")
        cls.dunning_user = cls.company_user("nd_user", "nordic_dunning.group_nordic_dunning_user")
        cls.other_company = cls.setup_other_company(name="Other AB")["company"]
        cls.other_user = new_test_user(
            cls.env,
            login="nd_other",
            groups="nordic_dunning.group_nordic_dunning_manager",
            company_id=cls.other_company.id,
            company_ids=cls.other_company.ids,
        )

    def test_invoicing_user_reads_only(self):
        """A plain invoicing user sees runs and events but can neither build nor change them."""
        run = self.build_run(date(2026, 4, 10))
        self.assertTrue(run.with_user(self.invoicing_user).line_ids)
        with self.assertRaises(AccessError):
            self.env["nordic.dunning.run"].with_user(self.invoicing_user).create({"policy_id": self.policy.id})
        with self.assertRaises(AccessError):
            run.with_user(self.invoicing_user).action_confirm()

    def test_dunning_user_confirms_but_cannot_configure(self):
        """A Dunning user builds and confirms runs but cannot edit policies or legal rates."""
        run = (
            self.env["nordic.dunning.run"]
            .with_user(self.dunning_user)
            .create({"policy_id": self.policy.id, "date": date(2026, 4, 10)})
        )
        run.action_generate()
        self.confirm_and_send(run, letters=False)
        self.assertEqual(run.state, "done")
        self.assertEqual(self.invoice.nordic_dunning_event_ids.user_id, self.dunning_user)
        with self.assertRaises(AccessError):
            self.policy.with_user(self.dunning_user).name = "Mine"
        with self.assertRaises(AccessError):
            self.env.ref("nordic_dunning.rate_se_reminder_fee_cap").with_user(self.dunning_user).value = 100

    def test_multi_company_isolation(self):
        """A manager of another company sees none of this company's policies, runs or events."""
        self.confirm(self.build_run(date(2026, 4, 10)))
        env = self.env(user=self.other_user, context={"allowed_company_ids": self.other_company.ids})
        self.assertFalse(env["nordic.dunning.run"].search([("company_id", "=", self.company.id)]))
        self.assertFalse(env["nordic.dunning.event"].search([("company_id", "=", self.company.id)]))
        self.assertFalse(env["nordic.dunning.policy"].search([("company_id", "=", self.company.id)]))
