from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .collection_common import NordicCollectionCommon


@tagged("post_install", "-at_install")
class TestSidecarAccess(NordicCollectionCommon, HttpCase):
    """The sidecar's technical user can call the sidecar methods and nothing else."""

    def test_sidecar_user_reads_and_writes_nothing_else(self):
        """Through the ORM the sidecar user can read no partner, invoice, case or agency, and write no case."""
        case = self.make_case()
        env = self.env(user=self.sidecar_user)
        for model in (
            "res.partner",
            "account.move",
            "nordic.collection.case",
            "nordic.collection.agency",
            "account.payment",
            "nordic.collection.case.change",
        ):
            with self.assertRaises(AccessError, msg=model):
                env[model].search_read([], ["id"], limit=1)
        with self.assertRaises(AccessError):
            case.with_user(self.sidecar_user).write({"state": "paid"})
        with self.assertRaises(AccessError):
            env["nordic.collection.case"].create({"move_id": case.move_id.id, "debtor_name": "x"})
        self.assertEqual(case.state, "to_submit")
        self.assertTrue(env["nordic.collection.case"].sidecar_agencies()["agencies"])

    def test_other_users_cannot_call_the_api(self):
        """A dunning user who is not the sidecar is refused by the sidecar methods."""
        user = self.env["res.users"].create(
            {
                "name": "Clerk",
                "login": "clerk",
                "company_id": self.company.id,
                "company_ids": [Command.set(self.company.ids)],
                "groups_id": [
                    Command.set(
                        [
                            self.env.ref("nordic_dunning.group_nordic_dunning_user").id,
                            self.env.ref("base.group_user").id,
                        ]
                    )
                ],
            }
        )
        with self.assertRaises(AccessError):
            self.Case.with_user(user).sidecar_claim(self.agency.id, 10, "clerk")
        with self.assertRaises(AccessError):
            self.Case.with_user(user).sidecar_agencies()

    def test_api_key_only_for_managers(self):
        """The agency's API key is readable by Dunning managers only."""
        user = self.env["res.users"].create(
            {
                "name": "Clerk",
                "login": "clerk2",
                "company_id": self.company.id,
                "company_ids": [Command.set(self.company.ids)],
                "groups_id": [
                    Command.set(
                        [
                            self.env.ref("nordic_dunning.group_nordic_dunning_user").id,
                            self.env.ref("base.group_user").id,
                        ]
                    )
                ],
            }
        )
        agency = self.agency.with_user(user)
        self.assertEqual(agency.name, "Sandbox agency")
        with self.assertRaises(AccessError):
            agency.read(["api_key"])

    def test_rpc_with_api_key(self):
        """Over XML-RPC with an API key the sidecar user calls the contract and is refused anything else."""
        case = self.make_case()
        user, key = self.env["nordic.collection.agency"]._sidecar_provision_user(login="nordic_sidecar")
        self.assertEqual(user, self.sidecar_user)
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, "nordic_sidecar", key, {})
        self.assertEqual(uid, self.sidecar_user.id)
        rpc = self.xmlrpc_object.execute_kw
        claimed = rpc(db, uid, key, "nordic.collection.case", "sidecar_claim", [self.agency.id, 10, "rpc"])
        self.assertEqual([c["uuid"] for c in claimed], [case.uuid])
        for model, method, args in (
            ("res.partner", "search_read", [[]]),
            ("account.move", "search_read", [[]]),
            ("nordic.collection.case", "write", [case.ids, {"state": "paid"}]),
            ("nordic.collection.agency", "search_read", [[]]),
        ):
            with self.assertRaises(Exception, msg=f"{model}.{method}") as caught:
                rpc(db, uid, key, model, method, args)
            self.assertIn("You are not allowed to", str(caught.exception))
        self.assertEqual(case.state, "submitting")

    def test_provision_user(self):
        """The provisioning helper creates a user with the sidecar group only; non-administrators cannot use it."""
        user, key = self.env["nordic.collection.agency"].sudo()._sidecar_provision_user(login="sidecar2")
        self.assertEqual(user.groups_id, self.env.ref("nordic_dunning_collection.group_nordic_dunning_sidecar"))
        self.assertTrue(key)
        self.assertEqual(self.env["nordic.collection.agency"].sudo()._sidecar_provision_user(login="sidecar2")[0], user)
        self.assertFalse(user._is_internal())
        with self.assertRaises(AccessError):
            self.env["nordic.collection.agency"].with_user(self.sidecar_user)._sidecar_provision_user(login="x")

    def test_multi_company_rules(self):
        """A dunning user of another company sees neither the cases nor the agencies of this one."""
        case = self.make_case()
        other = self.env["res.company"].create({"name": "Other clinic"})
        user = self.env["res.users"].create(
            {
                "name": "Other clerk",
                "login": "other_clerk",
                "company_id": other.id,
                "company_ids": [Command.set(other.ids)],
                "groups_id": [
                    Command.set(
                        [
                            self.env.ref("nordic_dunning.group_nordic_dunning_user").id,
                            self.env.ref("base.group_user").id,
                        ]
                    )
                ],
            }
        )
        self.assertFalse(self.Case.with_user(user).search([]))
        self.assertFalse(self.env["nordic.collection.agency"].with_user(user).search([]))
        with self.assertRaises(AccessError):
            case.with_user(user).read(["state"])
        self.assertEqual(self.Case.search([("id", "=", case.id)]), case)
