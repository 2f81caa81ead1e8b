"""The Odoo client: odoorpc over JSON-RPC, with an explicit timeout, logged in with the user's API key.

Only the batch methods of ``nordic.collection.case`` (see docs/rpc-contract.md, ``sidecar_*``) are called,
each with one ``execute_kw``: never a per-record call. ``calls`` counts every JSON-RPC request (the three of the
login included) for the benchmark and the logs.

Only a login Odoo refuses (wrong login or API key, access denied, a database that does not exist) is an
:class:`OdooAuthError`, a configuration error. Anything else on the way (Odoo unreachable, a proxy's 5xx, a
database error such as ``server closed the connection unexpectedly``, an answer that is not JSON-RPC) is an
:class:`OdooError`: transient, the next run or tick tries again.
"""

import http.client
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


# Faults of the way to Odoo or of its answer: the network, HTTP errors (urllib's HTTPError is a URLError), a
# cut connection, a body that is not JSON or not shaped like JSON-RPC.
_TRANSIENT = (
    urllib.error.URLError,
    OSError,
    http.client.HTTPException,
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
)


def login_refused(err, database):
    """Whether an RPCError of the login means Odoo refused it (rather than failed while trying)."""
    info = err.info if isinstance(err.info, dict) else {}
    data = info.get("data") if isinstance(info.get("data"), dict) else {}
    if not info:
        return True  # odoorpc's own "Wrong login ID or password": Odoo answered the login with no user
    if str(data.get("name") or "").endswith("AccessDenied"):
        return True
    return f'database "{database}" does not exist' in str(data.get("message") or err)


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
            where = f"Odoo login as {settings.odoo_login!r} on {settings.odoo_db!r}"
            if login_refused(err, settings.odoo_db):
                raise OdooAuthError(f"{where} refused: {err}") from err
            raise OdooError(f"{where} failed on Odoo's side (retried later): {err}") from err
        except _TRANSIENT as err:
            raise OdooError(
                f"Odoo at {settings.odoo_host}:{settings.odoo_port} is unreachable or answered no JSON-RPC: "
                f"{err.__class__.__name__}: {err}"
            ) from err
        self._odoo = odoo
        return self

    def _call(self, method, *args):
        if self._odoo is None:
            self.connect()
        try:
            return self._odoo.execute_kw(MODEL, method, list(args), {})
        except odoorpc.error.RPCError as err:
            raise OdooError(f"{MODEL}.{method}: {err}") from err
        except _TRANSIENT as err:
            raise OdooError(f"{MODEL}.{method}: Odoo unreachable or no JSON-RPC answer: {err}") from err

    def close(self):
        self._odoo = None
