"""docs/agency-api.yaml and the sandbox agree on the paths of the protocol."""

import re

from tests.conftest import ROOT


def test_every_documented_path_is_served(sandbox):
    """Each path of the OpenAPI document is routed by the sandbox (never 404 for an unknown path)."""
    text = (ROOT / "docs" / "agency-api.yaml").read_text()
    paths = re.findall(r"^  (/[^:\s]+):$", text, re.MULTILINE)
    assert len(paths) == 12
    for path in paths:
        method = "GET" if path in ("/v1/info", "/v1/changes", "/_sandbox/stats") or path == "/v1/cases/{id}" else "POST"
        response = sandbox.call(method, path.replace("{id}", "SBX0000001"), {})
        assert response.status_code != 404 or "no case" in response.json()["error"], path
