"""Data for the end-to-end tests and the benchmark, created inside ``odoo-bin shell`` (``env`` is given).

Run as ``odoo_shell(db, setup_code("call(env, ...)"))``: the file's source is executed in the shell, then the call,
whose JSON result is printed on a line starting with ``RESULT ``.
"""

import json
import secrets
from datetime import date, timedelta

from odoo import Command

COMPANY_NAME = "E2E Tandvård AB"


def swedish_company(env):
    """A Swedish company with the BAS chart and the SE legal profile's policy (created once)."""
    company = env["res.company"].search([("name", "=", COMPANY_NAME)], limit=1)
    if not company:
        company = (
            env["res.company"]
            .with_context(chart_template_load=True)
            .create({"name": COMPANY_NAME, "country_id": env.ref("base.se").id, "currency_id": env.ref("base.SEK").id})
        )
        env.user.company_ids |= company
        env["account.chart.template"].try_loading("se", company=company, install_demo=False)
    policy = env["nordic.dunning.policy"].search([("company_id", "=", company.id)], limit=1)
    if not policy:
        policy = env["nordic.dunning.policy"]._create_from_profile(company, "SE")
    return company, policy


def sidecar_user(env, company, login="sidecar"):
    """The sidecar's technical user: only the sidecar group, and an API key (returned) instead of a password."""
    group = env.ref("nordic_dunning.group_nordic_dunning_sidecar")
    user = env["res.users"].search([("login", "=", login)], limit=1)
    if not user:
        user = env["res.users"].create(
            {
                "name": "Collection sidecar",
                "login": login,
                "company_id": company.id,
                "company_ids": [Command.set(env["res.company"].search([]).ids)],
                "groups_id": [Command.set([group.id])],
            }
        )
    key = env["res.users.apikeys"].with_user(user).sudo()._generate(None, "e2e sidecar", None)
    return login, key


def agency(env, company, base_url, api_key, code="SBX", environment="test"):
    """A collection agency record pointing at a sandbox."""
    record = env["nordic.collection.agency"].search([("code", "=", code)], limit=1)
    values = {
        "name": f"Sandbox {code}",
        "code": code,
        "base_url": base_url,
        "api_key": api_key,
        "environment": environment,
        "company_ids": [Command.set(company.ids)],
    }
    if record:
        record.write(values)
    else:
        record = env["nordic.collection.agency"].create(values)
    return record


def handed_over_invoices(env, company, policy, amounts, due=date(2026, 1, 1)):
    """Posted, sent invoices of ``amounts``, dunned through every level up to the hand-over."""
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    journal = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
    se = env.ref("base.se")
    partners = env["res.partner"].create(
        [
            {
                "name": f"Debtor {index}",
                "email": f"debtor{index}@example.com",
                "street": "Storgatan 1",
                "zip": "11122",
                "city": "Stockholm",
                "country_id": se.id,
                "company_type": "person",
            }
            for index in range(len(amounts))
        ]
    )
    moves = env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": due - timedelta(days=31),
                "invoice_date_due": due,
                "journal_id": journal.id,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Treatment", "quantity": 1, "price_unit": amount, "tax_ids": [Command.clear()]}
                    )
                ],
            }
            for partner, amount in zip(partners, amounts, strict=True)
        ]
    )
    moves.action_post()
    moves.write({"is_move_sent": True})
    day = due
    while any(move.nordic_dunning_state != "handed_over" for move in moves) and day < due + timedelta(days=120):
        day += timedelta(days=1)
        for run in env["nordic.dunning.run"]._build_for_policies(policy, day):
            if run.line_ids:
                run.with_context(nordic_dunning_no_letters=True, nordic_dunning_no_send=True).action_confirm()
    return moves


def result(value):
    print("RESULT " + json.dumps(value, default=str))


def new_api_key():
    return secrets.token_hex(16)
