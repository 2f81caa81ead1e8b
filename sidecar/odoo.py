"""The Odoo client: odoorpc over JSON-RPC, with an explicit timeout, logged in with the user's API key.

Only the batch methods of ``nordic.collection.case`` (see docs/rpc-contract.md, ``sidecar_*``) are called,
each with one ``execute_kw``: never a per-record call. ``calls`` counts every JSON-RPC request (the three of the
login included) for the benchmark and the logs.
"""

import logging
import urllib.error

import odoorpc
import odoorpc.error

_logger = logging.getLogger(__name__)

MODEL = "nordic.collection.case"


class OdooError(Exception):
    """Odoo refused a call or could not be reached."""


class OdooAuthError(OdooError):
    """Wrong database, login or API key (a configuration error)."""


class SidecarApi:
    """One method per batch RPC of the contract; subclasses say how a call reaches Odoo (``_call``)."""

    def _call(self, method, *args):
        raise NotImplementedError

    def agencies(self):
        return self._call("sidecar_agencies")

    def claim(self, agency_id, limit, worker):
        return self._call("sidecar_claim", agency_id, limit, worker)

    def record_submissions(self, agency_id, results):
        return self._call("sidecar_record_submissions", agency_id, results)

    def apply_changes(self, agency_id, changes, cursor):
        return self._call("sidecar_apply_changes", agency_id, changes, cursor)

    def pending_commands(self, agency_id, limit):
        return self._call("sidecar_pending_commands", agency_id, limit)

    def ack_commands(self, agency_id, acks):
        return self._call("sidecar_ack_commands", agency_id, acks)

    def heartbeat(self, info):
        return self._call("sidecar_heartbeat", info)


class OdooClient(SidecarApi):
    """The sidecar's view of Odoo over odoorpc."""

    def __init__(self, settings):
        self.settings = settings
        self.calls = 0
        self._odoo = None

    def connect(self):
        settings = self.settings
        settings.require_odoo()
        try:
            odoo = odoorpc.ODOO(
                settings.odoo_host,
                protocol=settings.odoo_protocol,
                port=settings.odoo_port,
                timeout=settings.odoo_timeout,
            )
            self.calls += 1  # version_info
            counted = odoo.json

            def json(url, params):
                self.calls += 1
                return counted(url, params)

            odoo.json = json
            # odoorpc >= 10 logs in through /jsonrpc common.login, where Odoo accepts an API key as password.
            odoo.login(settings.odoo_db, settings.odoo_login, settings.odoo_api_key)
        except odoorpc.error.RPCError as err:
            raise OdooAuthError(f"Odoo login as {settings.odoo_login!r} on {settings.odoo_db!r} failed: {err}") from err
        except (urllib.error.URLError, OSError) as err:
            raise OdooError(f"Odoo at {settings.odoo_host}:{settings.odoo_port} is unreachable: {err}") from err
        self._odoo = odoo
        return self

    def _call(self, method, *args):
        if self._odoo is None:
            self.connect()
        try:
            return self._odoo.execute_kw(MODEL, method, list(args), {})
        except odoorpc.error.RPCError as err:
            raise OdooError(f"{MODEL}.{method}: {err}") from err
        except (urllib.error.URLError, OSError) as err:
            raise OdooError(f"{MODEL}.{method}: Odoo unreachable: {err}") from err

    def close(self):
        self._odoo = None
