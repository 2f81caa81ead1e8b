"""Demo data for scripts/demo, run inside ``odoo-bin shell`` (``env`` is given). Idempotent.

A Swedish dental-clinic chain (seed 002: a head office with two clinics as branches) and a
Norwegian company (seed 004), customers in sv/nb/en, invoices at many overdue ages, and
the dunning history of the last 60 days replayed day by day. Today's runs are built and
left for review, as an accountant would find them in the morning.
"""

import os
import random
from datetime import timedelta

from odoo import Command, fields

env = env  # noqa: F821  (given by odoo-bin shell)
rng = random.Random(42)
today = fields.Date.today()
Company = env["res.company"]
Policy = env["nordic.dunning.policy"]

# The demo companies use the localisations the template already has (l10n_se, l10n_no). Odoo would
# otherwise install every module tagged for the country on company creation (Peppol among them,
# which needs packages the demo does not).
type(Company).install_l10n_modules = lambda self: False

for code in ("sv_SE", "nb_NO"):
    env["res.lang"]._activate_lang(code)
env["ir.module.module"].search(
    [("name", "in", ["nordic_dunning", "nordic_dunning_collection", "nordic_dunning_approval"])]
)._update_translations(["sv_SE", "nb_NO"])


def ensure_company(name, country_code, chart, **vals):
    company = Company.search([("name", "=", name)], limit=1)
    if company:
        return company, False
    country = env["res.country"].search([("code", "=", country_code)], limit=1)
    # iap_enrich_auto_done: no call to the partner-autocomplete service from a demo.
    company = Company.create(
        {
            "name": name,
            "country_id": country.id,
            "currency_id": country.currency_id.id,
            "iap_enrich_auto_done": True,
            **vals,
        }
    )
    env.user.company_ids |= company
    env["account.chart.template"].try_loading(chart, company=company, install_demo=False)
    return company, True


def add_bank(company, number):
    """The account printed on letters, next to the OCR/KID reference."""
    bank = env["res.partner.bank"].create({"acc_number": number, "partner_id": company.partner_id.id})
    env["account.journal"].search(
        [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
    ).bank_account_id = bank


def make_invoices(company, customers, count, reference_model, journal=None):
    journal = journal or env["account.journal"].search(
        [("type", "=", "sale"), ("company_id", "=", company.root_id.id)], limit=1
    )
    journal.invoice_reference_model = reference_model
    Move = env["account.move"].with_company(company).with_context(tracking_disable=True)
    vals = []
    for i in range(count):
        age = rng.randint(-10, 75)  # days past due (negative: not due yet)
        due = today - timedelta(days=age)
        vals.append(
            {
                "move_type": "out_invoice",
                "partner_id": customers[i % len(customers)].id,
                "journal_id": journal.id,
                "invoice_date": due - timedelta(days=30),
                "invoice_date_due": due,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": rng.choice(["Undersökning", "Fyllning", "Rotfyllning", "Konsultasjon", "Tannrens"]),
                            "quantity": 1,
                            "price_unit": rng.choice([450, 850, 1250, 2400, 3900, 6200]),
                            "tax_ids": [Command.clear()],
                        }
                    )
                ],
            }
        )
    moves = Move.create(vals)
    moves.action_post()
    # Most invoices were sent from Odoo; a few never were (seed 000): they are never dunned.
    sent = moves.filtered(lambda m: m.id % 9)
    sent.write({"is_move_sent": True})
    return moves


def replay_history(policy, days=60):
    """Build and confirm the runs of the past days, without e-mails or letters; their fee jobs are performed
    here (the demo's jobrunner only starts with the server)."""
    Run = env["nordic.dunning.run"].with_company(policy.company_id).with_context(tracking_disable=True)
    for offset in range(days, 0, -1):
        day = today - timedelta(days=offset)
        for run in Run._build_for_policies(policy, day):
            if run.state == "draft":
                run._confirm(send=False)
                run._send_pending_now()


to_replay = []

# --- Sweden: Orasolv Tandvård (head office) with two clinics as branches ---------------------
hq, created = ensure_company(
    "Orasolv Tandvård AB",
    "SE",
    "se",
    email="ekonomi@orasolv.example",
    street="Sveavägen 1",
    zip="11157",
    city="Stockholm",
    company_registry="556000-0000",
)
if created:
    add_bank(hq, "Bankgiro 5050-1055")
    hq.write(
        {
            "child_ids": [
                Command.create({"name": "Orasolv Klinik Solna"}),
                Command.create({"name": "Orasolv Klinik Uppsala"}),
            ]
        }
    )
    env.cr.precommit.run()
    policy_se = Policy.search([("company_id", "=", hq.id)], limit=1) or Policy._create_from_profile(hq, "SE")
    patients = env["res.partner"].create(
        [
            {
                "name": f"Patient {name}",
                "email": f"{name.lower()}@example.com",
                "lang": lang,
                "street": "Storgatan 1",
                "zip": "11122",
                "city": "Stockholm",
                "country_id": hq.country_id.id,
                "nordic_fee_agreed": agreed,
                "nordic_fee_agreed_date": today - timedelta(days=400) if agreed else False,
            }
            for name, lang, agreed in [
                ("Astrid", "sv_SE", True),
                ("Bertil", "sv_SE", False),
                ("Cecilia", "sv_SE", True),
                ("David", "en_US", False),
                ("Elsa", "sv_SE", True),
                ("Folke", "sv_SE", False),
            ]
        ]
    )
    patients[5].write({"nordic_dunning_excluded": True, "nordic_dunning_exclude_reason": "Instalment plan agreed"})
    for clinic in hq.child_ids:
        make_invoices(clinic, patients, 30, "se_ocr2")
    to_replay.append(policy_se)

# --- Norway: a small business using the AutoCollect-like routine ---------------------------
no_co, created = ensure_company(
    "Fjordservice AS",
    "NO",
    "no",
    email="regnskap@fjordservice.example",
    street="Karl Johans gate 1",
    zip="0154",
    city="Oslo",
    company_registry="999999999",
)
if created:
    add_bank(no_co, "1503.12.34567")
    policy_no = Policy.search([("company_id", "=", no_co.id)], limit=1) or Policy._create_from_profile(no_co, "NO")
    customers = env["res.partner"].create(
        [
            {
                "name": name,
                "email": f"post@{name.split()[0].lower()}.example",
                "lang": lang,
                "is_company": company,
                "street": "Storgata 2",
                "zip": "0155",
                "city": "Oslo",
                "country_id": no_co.country_id.id,
            }
            for name, lang, company in [
                ("Nordlys Bygg AS", "nb_NO", True),
                ("Kari Nordmann", "nb_NO", False),
                ("Ola Hansen", "nb_NO", False),
                ("Bergen Kafé AS", "nb_NO", True),
            ]
        ]
    )
    make_invoices(no_co, customers, 30, "no")
    to_replay.append(policy_no)

# --- The collection agency (the sandbox started by scripts/demo) and the sidecar's user ---------
agency_url = os.environ.get("DEMO_AGENCY_URL", "http://127.0.0.1:8950")
Agency = env["nordic.collection.agency"]
agency = Agency.search([("code", "=", "sandbox")], limit=1)
if not agency:
    bank = env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", hq.id)], limit=1)
    agency = Agency.create(
        {
            "name": "Prioriet Inkasso (sandbox)",
            "code": "sandbox",
            "base_url": agency_url,
            "api_key": os.environ.get("DEMO_AGENCY_KEY", "demo-agency-key"),
            "environment": "test",
            # A demo database is no production database, but it is not neutralized either.
            "allow_test_from_production": True,
            "company_ids": [Command.set((hq | hq.child_ids | no_co).ids)],
            "payment_journal_id": bank.id,
        }
    )
secret_file = os.environ.get("DEMO_SIDECAR_KEY_FILE")
if secret_file and not os.path.exists(secret_file):
    _user, key = Agency._sidecar_provision_user(login="nordic_sidecar")
    with open(secret_file, "w") as fh:
        fh.write(key)
    os.chmod(secret_file, 0o600)

# The last 60 days, now that the agency exists to receive the hand-overs.
for policy in to_replay:
    replay_history(policy)

# --- A run at scale: 1,000 invoices of 200 patients, one letter and one e-mail per patient ------------
# Confirmed here; its fees, letters and e-mails are queue_job jobs, performed by the jobrunner of the served
# demo (watch the run's progress) or, with --no-serve, right here.
mass, created = ensure_company(
    "Orasolv Tandvård Väst AB",
    "SE",
    "se",
    email="ekonomi.vast@orasolv.example",
    street="Kungsportsavenyen 1",
    zip="41136",
    city="Göteborg",
    company_registry="556000-0001",
)
mass_run = env["nordic.dunning.run"]
if created:
    add_bank(mass, "Bankgiro 5050-1063")
    policy_mass = Policy.search([("company_id", "=", mass.id)], limit=1) or Policy._create_from_profile(mass, "SE")
    mass.nordic_anomaly_max_lines = 0  # a run of this size is expected here
    patients = env["res.partner"].create(
        [
            {
                "name": f"Patient Väst {i:03d}",
                "email": f"vast{i:03d}@example.com",
                "lang": "sv_SE",
                "street": "Vasagatan 2",
                "zip": "41124",
                "city": "Göteborg",
                "country_id": mass.country_id.id,
                "nordic_fee_agreed": True,
                "nordic_fee_agreed_date": today - timedelta(days=400),
            }
            for i in range(200)
        ]
    )
    journal = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", mass.id)], limit=1)
    journal.invoice_reference_model = "se_ocr2"
    moves = (
        env["account.move"]
        .with_company(mass)
        .with_context(tracking_disable=True)
        .create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": patients[i % len(patients)].id,
                    "journal_id": journal.id,
                    "invoice_date": today - timedelta(days=44),
                    "invoice_date_due": today - timedelta(days=14),
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": rng.choice(["Undersökning", "Fyllning", "Tandrengöring"]),
                                "quantity": 1,
                                "price_unit": rng.choice([450, 850, 1250]),
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
                for i in range(1000)
            ]
        )
    )
    moves.action_post()
    moves.write({"is_move_sent": True})
    mass_run = env["nordic.dunning.run"].with_company(mass)._build_for_policies(policy_mass, today)
    if mass_run.state == "to_approve":
        mass_run.action_approve()
    mass_run._confirm()
    env.cr.commit()
    if os.environ.get("DEMO_SEND_NOW"):
        mass_run._send_pending_now()
        env.cr.commit()
    print(
        f"DEMO: {mass.name}: run {mass_run.name} of {len(mass_run.line_ids)} invoices confirmed, "
        f"{len(mass_run.notice_ids)} reminders (one per patient), sending: {mass_run.sending_progress}."
    )

# --- This morning: today's runs, left for review --------------------------------------------
runs = env["nordic.dunning.run"]
for policy in Policy.search([("company_id", "!=", mass.id)]):
    if not runs.search([("policy_id", "=", policy.id), ("date", "=", today)]):
        runs |= runs.with_company(policy.company_id)._build_for_policies(policy, today)
env.cr.commit()
print(
    f"DEMO: {Policy.search_count([])} policies, "
    f"{env['nordic.dunning.event'].search_count([])} dunning events so far, "
    f"{runs.search_count([('state', 'in', ('draft', 'to_approve'))])} run(s) waiting for review today."
)
