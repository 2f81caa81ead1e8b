"""Data for the end-to-end tests and the benchmark, created inside ``odoo-bin shell`` (``env`` is given).

Run as ``odoo_shell(db, setup_code("call(env, ...)"))``: the file's source is executed in the shell, then the call,
whose JSON result is printed on a line starting with ``RESULT ``.
"""

import json
import secrets
from datetime import date, timedelta

from odoo import Command

COMPANY_NAME = "E2E Tandvård AB"


def swedish_company(env, name=COMPANY_NAME):
    """A Swedish company with the BAS chart and the SE legal profile's policy (created once)."""
    company = env["res.company"].search([("name", "=", name)], limit=1)
    if not company:
        company = (
            env["res.company"]
            .with_context(chart_template_load=True)
            .create({"name": name, "country_id": env.ref("base.se").id, "currency_id": env.ref("base.SEK").id})
        )
        env.user.company_ids |= company
        env.ref("base.user_admin").company_ids |= company
        env["account.chart.template"].try_loading("se", company=company, install_demo=False)
    policy = env["nordic.dunning.policy"].search([("company_id", "=", company.id)], limit=1)
    if not policy:
        policy = env["nordic.dunning.policy"]._create_from_profile(company, "SE")
    return company, policy


def sidecar_user(env, login="sidecar"):
    """The sidecar's technical user: only the sidecar group, and an API key (returned) instead of a password."""
    group = env.ref("nordic_dunning_collection.group_nordic_dunning_sidecar")
    companies = env["res.company"].search([])
    user = env["res.users"].search([("login", "=", login)], limit=1)
    values = {"company_ids": [Command.set(companies.ids)], "groups_id": [Command.set([group.id])]}
    if user:
        user.write(values)
    else:
        user = env["res.users"].create(
            {"name": "Collection sidecar", "login": login, "company_id": companies[0].id, **values}
        )
    key = env["res.users.apikeys"].with_user(user).sudo()._generate(None, "e2e sidecar", None)
    return login, key


def agency(env, company, base_url, api_key, code="SBX", environment="test"):
    """A collection agency record pointing at a sandbox, serving ``company``."""
    model = env["nordic.collection.agency"]
    bank = env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
    values = {
        "payment_journal_id": bank.id,
        "name": f"Sandbox {code}",
        "code": code,
        "base_url": base_url,
        "api_key": api_key,
        "environment": environment,
        "company_ids": [Command.set(company.ids)],
    }
    record = model.search([("code", "=", code)], limit=1)
    if record:
        record.write(values)
    else:
        record = model.create(values)
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
                run._confirm(send=False)
    return moves


def bench_cases(env, company, agency_record, count, principal=1006.0):
    """``count`` cases to submit for the benchmark, created in one batch (no invoice run per case).

    Required fields are filled by type so this keeps working while the case model grows; every case points to
    the same posted invoice of ``principal`` (the sandbox's outcome class of 1006 is surveillance).
    """
    env = env(context=dict(env.context, allowed_company_ids=[company.id], tracking_disable=True))
    debtor = env["res.partner"].create(
        {
            "name": "Bench Debtor",
            "street": "Storgatan 1",
            "zip": "11122",
            "city": "Stockholm",
            "country_id": env.ref("base.se").id,
        }
    )
    journal = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
    invoice = env["account.move"].create(
        {
            "move_type": "out_invoice",
            "partner_id": debtor.id,
            "invoice_date": date(2025, 12, 1),
            "invoice_date_due": date(2026, 1, 1),
            "journal_id": journal.id,
            "invoice_line_ids": [
                Command.create(
                    {"name": "Treatment", "quantity": 1, "price_unit": principal, "tax_ids": [Command.clear()]}
                )
            ],
        }
    )
    invoice.action_post()
    invoice.is_move_sent = True  # no collection case without proof of sending (seed 000)
    by_model = {
        "account.move": invoice,
        "res.partner": debtor,
        "res.company": company,
        "nordic.collection.agency": agency_record,
        "res.currency": env.ref("base.SEK"),
    }
    model = env["nordic.collection.case"]
    # The bench database is thrown away: let every case share one invoice rather than posting N invoices through
    # the ORM (minutes of setup, and not what the benchmark measures).
    env.cr.execute("DROP INDEX IF EXISTS nordic_collection_case_open_move_uniq")
    values = {"state": "to_submit"}
    for name, field in model._fields.items():
        if name in ("id", "state") or (field.compute and not field.store) or field.related:
            continue
        if field.type == "many2one" and field.comodel_name in by_model:
            values[name] = by_model[field.comodel_name].id
        elif field.type == "monetary" and "principal" in name:
            values[name] = principal
        elif field.type == "many2many" and field.comodel_name == "account.move":
            values[name] = [Command.set(invoice.ids)]
        elif field.required and field.default is None:
            if field.type == "many2one":
                values[name] = env[field.comodel_name].search([], limit=1).id
            elif field.type == "selection":
                values[name] = field.get_values(env)[0]
            elif field.type in ("char", "text"):
                values[name] = "bench"
            elif field.type in ("float", "monetary", "integer"):
                values[name] = principal
            elif field.type in ("date", "datetime"):
                values[name] = date.today()
    return model.create([dict(values) for _ in range(count)])


def neutralize(env):
    """Mark the database as a neutralized copy, as ``odoo-bin neutralize`` does: test agencies are then allowed."""
    env["ir.config_parameter"].sudo().set_param("database.is_neutralized", True)


def result(value):
    print("RESULT " + json.dumps(value, default=str))


def new_api_key():
    return secrets.token_hex(16)
