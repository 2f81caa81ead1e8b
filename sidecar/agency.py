"""The agency adapter: the only code that talks HTTP to a collection agency (protocol: docs/agency-api.yaml).

It carries the protocol's bodies as they are; ``sidecar/mapper.py`` turns them into the Odoo contract's
neutral records and back.

Every request has a (connect, read) timeout. 5xx answers, timeouts, connection errors and bodies that are not
the JSON the protocol promises are retried with exponential backoff (``backoff * 2**attempt`` seconds, capped
at ``max_backoff``); a 4xx is never retried: it raises :class:`AgencyRejected` with the agency's reason at
once. Retrying a POST is safe because every POST carries an ``Idempotency-Key`` (registrations: the case
UUID; commands: ``command-<odoo command id>``).
"""

import json
import logging
import time

import requests

_logger = logging.getLogger(__name__)


class AgencyError(Exception):
    """Base of every error the adapter raises."""


class AgencyRejected(AgencyError):
    """The agency answered 4xx: our request is wrong; retrying it cannot help."""

    def __init__(self, status, reason, method="", path=""):
        where = f"{method} {path}: " if method else ""
        super().__init__(f"{where}agency rejected the request ({status}): {reason}" if status else reason)
        self.status = status
        self.reason = reason


class AgencyUnavailable(AgencyError):
    """5xx, timeout or connection error, still failing after every retry."""


class AgencyProtocolError(AgencyError):
    """The agency answered 2xx with a body that is not what the protocol promises (still so after retries)."""


class AgencyClient:
    """Client of one agency's REST API."""

    def __init__(
        self,
        base_url,
        api_key,
        timeout=(5.0, 30.0),
        retries=3,
        backoff=0.5,
        max_backoff=30.0,
        session=None,
        sleep=time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.session = session or requests.Session()
        self.sleep = sleep
        self.stats = {"requests": 0, "retries": 0}

    def close(self):
        self.session.close()

    # ------------------------------------------------------------------ transport
    def _request(self, method, path, body=None, params=None, idempotency_key=None, expect=("dict",)):
        headers = {"X-API-Key": self.api_key, "Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        url = self.base_url + path
        attempt = 0
        while True:
            self.stats["requests"] += 1
            try:
                response = self.session.request(
                    method, url, json=body, params=params, headers=headers, timeout=self.timeout
                )
            except (requests.Timeout, requests.ConnectionError) as err:
                failure = AgencyUnavailable(f"{method} {path}: {err.__class__.__name__}: {err}")
            else:
                if 400 <= response.status_code < 500:
                    raise AgencyRejected(response.status_code, _reason(response), method, path)
                if response.status_code >= 500:
                    failure = AgencyUnavailable(
                        f"{method} {path}: agency error {response.status_code}: {_reason(response)}"
                    )
                else:
                    try:
                        return _parse(response)
                    except AgencyProtocolError as err:
                        failure = AgencyProtocolError(f"{method} {path}: {err}")
            if attempt >= self.retries:
                raise failure
            delay = min(self.backoff * 2**attempt, self.max_backoff)
            attempt += 1
            self.stats["retries"] += 1
            _logger.warning(
                "agency request failed, retry %d/%d in %.1fs: %s",
                attempt,
                self.retries,
                delay,
                failure,
                extra={"event": "agency_retry", "attempt": attempt, "url": url},
            )
            self.sleep(delay)

    # ------------------------------------------------------------------ protocol
    def info(self):
        info = self._request("GET", "/v1/info")
        if info.get("environment") not in ("test", "production"):
            raise AgencyProtocolError(f"GET /v1/info: environment must be test or production, got {info!r:.200}")
        return info

    def register_case(self, payload, idempotency_key):
        """Register a case; the same idempotency key again returns the same case."""
        case = self._request("POST", "/v1/cases", body=payload, idempotency_key=idempotency_key)
        for field in ("id", "status"):
            if not isinstance(case.get(field), str) or not case[field]:
                raise AgencyProtocolError(f"POST /v1/cases: the answer has no {field}: {case!r:.200}")
        return case

    def get_case(self, external_id):
        return self._request("GET", f"/v1/cases/{external_id}")

    def changes(self, since=None, limit=500):
        """One page of changes after ``since``: ``(changes, next_cursor)``."""
        params = {"limit": limit}
        if since:
            params["since"] = since
        page = self._request("GET", "/v1/changes", params=params)
        changes, cursor = page.get("changes"), page.get("next_cursor")
        if not isinstance(changes, list) or not isinstance(cursor, str) or not cursor:
            raise AgencyProtocolError(f"GET /v1/changes: expected changes and next_cursor, got {page!r:.200}")
        return changes, cursor

    def post_command(self, external_id, endpoint, body, idempotency_key):
        """POST a command (``pause``, ``resume``, ``withdraw``, ``creditor-payments``, ``dispute-answers``) to a
        case; the same idempotency key again answers the first result."""
        if not external_id:
            raise AgencyRejected(0, "the case has no agency id yet")
        return self._request("POST", f"/v1/cases/{external_id}/{endpoint}", body=body, idempotency_key=idempotency_key)


def _reason(response):
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])
    return response.text[:200]


def _parse(response):
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as err:
        snippet = response.content[:80].decode("utf-8", "replace")
        raise AgencyProtocolError(f"malformed JSON body ({err}); starts with {snippet!r}") from None
    if not isinstance(body, dict):
        raise AgencyProtocolError(f"expected a JSON object, got {type(body).__name__}")
    return body
