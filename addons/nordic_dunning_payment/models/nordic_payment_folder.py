"""The folder cron: each bank journal's payment files picked up from a folder on the server."""
# pylint: disable=consider-merging-classes-inherited

import logging
import os
import shutil
import threading

from odoo import api, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class NordicPaymentImport(models.Model):
    _inherit = "nordic.payment.import"

    @api.model
    def _cron_import_folders(self):
        """Import the new files of every bank journal's folder: done/ after import, failed/ (error logged) if not."""
        journals = (
            self.env["account.journal"].sudo().search([("type", "=", "bank"), ("nordic_payment_folder", "!=", False)])
        )
        # The folder is an administrator's setting and the cron's user need not be an accountant: the import
        # runs with full rights (it still refuses what it refuses for anyone: known files, bad files).
        for journal in journals:
            self.sudo()._import_folder(journal)

    def _import_folder(self, journal):
        """Import each file directly in ``journal``'s folder, oldest name first; return {file name: import or error}."""
        folder = journal.nordic_payment_folder
        if not os.path.isdir(folder):
            _logger.warning("Payment files folder %s of journal %s does not exist", folder, journal.display_name)
            return {}
        results = {}
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if not os.path.isfile(path) or name.startswith("."):
                continue
            with open(path, "rb") as handle:
                data = handle.read()
            try:
                with self.env.cr.savepoint():
                    record = self.with_company(journal.company_id)._import_file(journal, name, data)
            except UserError as err:
                _logger.error("Payment file %s of journal %s refused: %s", path, journal.display_name, err)
                self._move_to(folder, name, "failed")
                results[name] = str(err)
                continue
            if not getattr(threading.current_thread(), "testing", False):
                # The import is kept before its file leaves the folder.
                self.env.cr.commit()  # pylint: disable=invalid-commit
            self._move_to(folder, name, "done")
            results[name] = record
        return results

    @staticmethod
    def _move_to(folder, name, subfolder):
        target = os.path.join(folder, subfolder)
        os.makedirs(target, exist_ok=True)
        destination = os.path.join(target, name)
        if os.path.exists(destination):
            root, ext = os.path.splitext(name)
            index = 1
            while os.path.exists(os.path.join(target, f"{root}.{index}{ext}")):
                index += 1
            destination = os.path.join(target, f"{root}.{index}{ext}")
        shutil.move(os.path.join(folder, name), destination)
