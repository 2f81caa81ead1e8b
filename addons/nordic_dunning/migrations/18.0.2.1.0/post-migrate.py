"""18.0.2.1.0: reload the reminder e-mail template for notices (see pre-migrate)."""

from odoo import SUPERUSER_ID, api
from odoo.tools.convert import convert_file


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    # Mode "init" updates the existing record although its data file is noupdate (as openupgradelib's load_data).
    convert_file(env, "nordic_dunning", "data/mail_template_data.xml", {}, mode="init", noupdate=True)
