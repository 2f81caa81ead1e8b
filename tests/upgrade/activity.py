"""Run in ``odoo-bin shell`` on a database of the previous release after scripts/demo_data.py: the rest of
what a production database holds, through the public API of that release, so that the upgrade test sees
every kind of record (cases at the agency with history, agency changes and payments, commands, disputes,
refunds, approvals and their reviewers, group members)."""

from odoo import Command, fields

env = env  # noqa: F821  (given by odoo-bin shell)
Case = env["nordic.collection.case"]
agency = env["nordic.collection.agency"].search([("code", "=", "sandbox")], limit=1)
agency.environment = "production"  # the demo's test agency would be refused by a production database
sidecar = env["res.users"].create(
    {
        "name": "Upgrade sidecar",
        "login": "upgrade_sidecar",
        "company_ids": [Command.set(agency.company_ids.ids)],
        "company_id": agency.company_ids[:1].id,
        "groups_id": [Command.set(env.ref("nordic_dunning.group_nordic_dunning_sidecar").ids)],
    }
)
api = Case.with_user(sidecar)
claimed = api.sidecar_claim(agency.id, 6, "upgrade-test")
assert claimed, "the demo handed no invoice over"
api.sidecar_record_submissions(
    agency.id,
    [
        {"uuid": c["uuid"], "external_id": f"UP-{c['id']}", "ocr": f"77{c['id']}", "status": "registered"}
        for c in claimed
    ],
)
cases = Case.search([("external_id", "like", "UP-%")], order="id")
banks = env["account.journal"].search([("type", "=", "bank")])
# A payment goes to the bank journal of the case's company: pick a case of a company that has one.
payer = cases.filtered(lambda c: c.company_id in banks.company_id)[:1]
changes = []
for i, case in enumerate(cases):
    base = {"case_id": case.external_id, "creditor_reference": case.uuid, "occurred_at": "2026-05-02T10:00:00Z"}
    if case == payer:
        changes.append(
            {**base, "id": f"u{i}p", "type": "payment", "amount": 100.0, "currency": case.currency_id.name, "data": {}}
        )
    elif i == 0:
        changes.append({**base, "id": f"u{i}a", "type": "status", "status": "failed", "data": {"closure_code": "x"}})
    else:
        changes.append({**base, "id": f"u{i}s", "type": "status", "status": "collection_active", "data": {}})
changes.append({"id": "garbage-1", "type": "status"})  # quarantined
api.sidecar_apply_changes(agency.id, changes, "upgrade-cursor")
cases[2:3].action_notify_agency()  # a pause command

# A dispute on an open invoice, a CFO and a clinic manager, a credit note waiting for approval.
invoice = env["account.move"].search(
    [("move_type", "=", "out_invoice"), ("state", "=", "posted"), ("payment_state", "=", "not_paid")], limit=1
)
env["nordic.dunning.dispute"].create(
    {"move_id": invoice.id, "scope": "partial", "reason": "Treatment not given", "amount": 100.0}
)
company = invoice.company_id
for login, group in (
    ("upgrade_cfo", "nordic_dunning.group_nordic_cfo"),
    ("upgrade_mgr", "nordic_dunning.group_nordic_clinic_manager"),
):
    env["res.users"].create(
        {
            "name": login,
            "login": login,
            "company_id": company.id,
            "company_ids": [Command.set(company.ids)],
            "groups_id": [Command.set([env.ref("account.group_account_invoice").id, env.ref(group).id])],
        }
    )
credit = (
    env["account.move.reversal"]
    .with_context(active_model="account.move", active_ids=invoice.ids)
    .create({"reason": "Goodwill", "journal_id": invoice.journal_id.id, "date": fields.Date.today()})
)
credit.refund_moves()
env.cr.commit()
print("UPGRADE-DATA", len(cases), "cases at the agency")
