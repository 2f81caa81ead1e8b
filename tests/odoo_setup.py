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
                run._send_pending_now()
    return moves


def bench_cases(env, company, agency_record, count, principal=1006.0):
    """``count`` cases to submit for the benchmark, created in one statement (no invoice run per case).

    Every case points to the same posted invoice of ``principal`` (the sandbox's outcome class of 1006 is
    surveillance).
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
    # The bench database is thrown away: every case shares one invoice rather than posting N invoices and running
    # the dunning levels through the ORM (minutes of setup, and not what the benchmark measures). The rows are
    # written as the hand-over writes them, by SQL: the model opens cases only for invoices a run demanded.
    env.cr.execute("DROP INDEX IF EXISTS nordic_collection_case_open_move_uniq")
    env.cr.execute(
        """
        INSERT INTO nordic_collection_case
            (name, uuid, move_id, company_id, partner_id, currency_id, agency_id, user_id, state, debtor_name,
             debtor_street, debtor_zip, debtor_city, debtor_country_id, amount_principal, amount_remaining,
             create_uid, write_uid, create_date, write_date)
        SELECT 'BENCH/' || n, gen_random_uuid()::text, %(move)s, %(company)s, %(partner)s, %(currency)s, %(agency)s,
               %(uid)s, 'to_submit', %(name)s, 'Storgatan 1', '11122', 'Stockholm', %(country)s, %(principal)s,
               %(principal)s, %(uid)s, %(uid)s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
          FROM generate_series(1, %(count)s) AS n
        RETURNING id
        """,
        {
            "move": invoice.id,
            "company": company.id,
            "partner": debtor.id,
            "currency": invoice.currency_id.id,
            "agency": agency_record.id,
            "uid": env.uid,
            "name": debtor.name,
            "country": debtor.country_id.id,
            "principal": principal,
            "count": count,
        },
    )
    return env["nordic.collection.case"].browse(sorted(row[0] for row in env.cr.fetchall()))


def neutralize(env):
    """Mark the database as a neutralized copy, as ``odoo-bin neutralize`` does: test agencies are then allowed."""
    env["ir.config_parameter"].sudo().set_param("database.is_neutralized", True)


def result(value):
    print("RESULT " + json.dumps(value, default=str))


def new_api_key():
    return secrets.token_hex(16)
