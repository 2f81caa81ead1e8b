"""The odoorpc client over real JSON-RPC (the contract served by tests/contract_odoo.py): API key login, batch
calls only, Odoo errors mapped to clear exceptions."""

import pytest

from sidecar.config import Settings
from sidecar.odoo import OdooAuthError, OdooClient, OdooError
from tests.contract_odoo import ContractOdoo, JsonRpcServer


@pytest.fixture
def rpc():
    contract = ContractOdoo(
        [
            {
                "id": 1,
                "code": "A",
                "name": "A",
                "base_url": "http://127.0.0.1:9",
                "api_key": "x",
                "environment": "production",
            }
        ],
        neutralized=True,
    )
    server = JsonRpcServer(contract)
    yield server
    server.stop()


def settings(server, **values):
    return Settings(
        **{
            "odoo_port": server.port,
            "odoo_db": "testdb",
            "odoo_login": "sidecar",
            "odoo_api_key": "odoo-api-key",
            "odoo_timeout": 5,
            **values,
        }
    )


def test_login_with_api_key_and_count_calls(rpc):
    """The API key is the RPC password; login costs 3 requests, each batch method exactly one."""
    client = OdooClient(settings(rpc)).connect()
    assert client.calls == 3
    assert client.agencies()["database"]["neutralized"] is True
    assert client.pending_commands(1, 100) == []
    assert client.calls == 5 == rpc.requests


def test_wrong_key_is_auth_error(rpc):
    """A wrong API key is a configuration error, not a transient one."""
    with pytest.raises(OdooAuthError, match="login"):
        OdooClient(settings(rpc, odoo_api_key="wrong")).connect()


def test_user_error_is_reported(rpc):
    """Odoo's UserError (here: a production agency from a neutralized database) arrives as OdooError."""
    client = OdooClient(settings(rpc)).connect()
    with pytest.raises(OdooError, match="production agency from a neutralized database"):
        client.claim(1, 10, "w")


def test_unreachable_odoo():
    """Nobody listening: OdooError saying so."""
    with pytest.raises(OdooError, match="unreachable"):
        OdooClient(Settings(odoo_port=9, odoo_db="d", odoo_login="l", odoo_api_key="k", odoo_timeout=2)).connect()


def test_only_sidecar_methods(rpc):
    """The client has no way to call anything but the contract's sidecar_* methods."""
    client = OdooClient(settings(rpc)).connect()
    client.agencies()
    client.heartbeat({"worker": "w", "agency_id": None, "stats": {}})
    assert set(rpc.contract.calls) == {"sidecar_agencies", "sidecar_heartbeat"}
    assert not [name for name in dir(OdooClient) if name in ("search", "write", "read", "browse", "execute_kw")]
