"""The agency adapter: the only code that talks HTTP to a collection agency (protocol: docs/agency-api.yaml).

It carries the protocol's bodies as they are; ``sidecar/mapper.py`` turns them into the Odoo contract's
neutral records and back.

Every request has a (connect, read) timeout. 5xx answers, timeouts, connection errors and bodies that are not
the JSON the protocol promises are retried with exponential backoff (``backoff * 2**attempt`` seconds, capped
at ``max_backoff``); a 4xx is never retried: it raises :class:`AgencyRejected` with the agency's reason at
once. Retrying a POST is safe because every POST carries an ``Idempotency-Key`` (registrations: the case
UUID; commands: ``command-<odoo command id>``).

An agency is a stranger on the network, so what it answers is read defensively:

- **The API key stays with its host.** Redirects are never followed (a 3xx raises :class:`AgencyRedirected`,
  not retried): a redirect would carry the key to wherever the agency, or whoever took over its address,
  points. An agency id from the agency's own answers is quoted into one path segment, so no answer can steer a
  request to another host or path.
- **Bounded bodies.** A body is streamed and refused beyond ``max_body`` bytes (a declared ``Content-Length``
  beyond it is refused before reading); JSON nested deeper than :data:`MAX_DEPTH` levels, ``NaN``/``Infinity``
  and numbers that overflow to infinity are refused as malformed.
- **No raw transport error escapes**: every ``requests``/``urllib3`` fault becomes an :class:`AgencyError`;
  a URL that cannot be requested at all (no scheme, no host, not http(s)) raises :class:`AgencyConfigError`
  when the client is made, before any request.
"""

import http.client
import json
import logging
import math
import time
from urllib.parse import quote, urlsplit

import requests
import urllib3

_logger = logging.getLogger(__name__)

MAX_BODY = 8 * 1024 * 1024  # bytes; the settings' agency_max_body
MAX_DEPTH = 32  # nesting levels of a JSON body; the protocol's deepest is 4 (a page, a change, its data)
MAX_CURSOR = 200  # characters of a next_cursor (Odoo stores it; a sequence number or a token)
_CHUNK = 64 * 1024


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


class AgencyRedirected(AgencyError):
    """The agency answered 3xx: never followed, the API key must not travel to another address."""


class AgencyConfigError(AgencyError):
    """The agency's URL in Odoo cannot be requested (no scheme or host, not http or https)."""


class _BodyTooLarge(AgencyProtocolError):
    """A body beyond the cap: refused at once, asking again would only fetch as much again."""


# Transport faults: the network, TLS, a broken chunked body, a bad content encoding, a malformed status line.
_TRANSPORT_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)
# Faults of the request itself (the URL, a header value, a body that is no JSON): retrying cannot help.
_REQUEST_ERRORS = (
    requests.exceptions.InvalidJSONError,
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.InvalidHeader,
    requests.exceptions.URLRequired,
)


def check_base_url(base_url):
    """The agency URL without its trailing slash; AgencyConfigError if it is not an http(s) URL with a host."""
    text = base_url.strip() if isinstance(base_url, str) else ""
    try:
        url = urlsplit(text)
        # url.port raises ValueError on a port that is not a number
        usable = url.scheme in ("http", "https") and bool(url.hostname) and (url.port or 0) >= 0
    except ValueError:
        usable = False
    if not usable:
        raise AgencyConfigError(f"agency URL {base_url!r:.200} is not an http(s)://host URL")
    return text.rstrip("/")


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
        max_body=MAX_BODY,
    ):
        self.base_url = check_base_url(base_url)
        self.api_key = api_key
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_body = max_body
        self.session = session or requests.Session()
        self.sleep = sleep
        self.stats = {"requests": 0, "retries": 0}

    def close(self):
        self.session.close()

    # ------------------------------------------------------------------ transport
    def _request(self, method, path, body=None, params=None, idempotency_key=None):
        headers = {"X-API-Key": self.api_key, "Accept": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        url = self.base_url + path
        attempt = 0
        while True:
            outcome = self._attempt(method, path, url, body, params, headers)
            if not isinstance(outcome, AgencyError):
                return outcome
            failure = outcome
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

    def _attempt(self, method, path, url, body, params, headers):
        """One request: the parsed body, or the retryable AgencyError; raises what retrying cannot mend."""
        where = f"{method} {path}"
        self.stats["requests"] += 1
        try:
            response = self.session.request(
                method,
                url,
                json=body,
                params=params,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            )
        except _REQUEST_ERRORS as err:
            raise AgencyConfigError(f"{where}: the request cannot be made: {err.__class__.__name__}: {err}") from None
        except _TRANSPORT_ERRORS as err:
            return AgencyUnavailable(f"{where}: {err.__class__.__name__}: {err}")
        try:
            content = self._read_body(response)
        except _BodyTooLarge as err:
            raise _BodyTooLarge(f"{where}: {err}") from None
        except _TRANSPORT_ERRORS as err:
            return AgencyUnavailable(f"{where}: reading the answer failed: {err.__class__.__name__}: {err}")
        finally:
            response.close()
        status = response.status_code
        if 300 <= status < 400:
            target = str(response.headers.get("Location") or "")[:200]
            raise AgencyRedirected(f"{where}: the agency answered {status} to {target!r}: redirects are not followed")
        if 400 <= status < 500:
            raise AgencyRejected(status, _reason(content, response.reason), method, path)
        if status >= 500:
            return AgencyUnavailable(f"{where}: agency error {status}: {_reason(content, response.reason)}")
        try:
            return _parse(content)
        except AgencyProtocolError as err:
            return AgencyProtocolError(f"{where}: {err}")

    def _read_body(self, response):
        """The body's bytes, at most ``max_body`` of them; _BodyTooLarge beyond."""
        declared = response.headers.get("Content-Length")
        if declared and declared.strip().isdigit() and int(declared) > self.max_body:
            raise _BodyTooLarge(f"the answer declares {int(declared)} bytes, more than the {self.max_body} allowed")
        chunks, size = [], 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > self.max_body:
                raise _BodyTooLarge(f"the answer is larger than the {self.max_body} bytes allowed")
            chunks.append(chunk)
        return b"".join(chunks)

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
        return self._request("GET", f"/v1/cases/{_segment(external_id)}")

    def changes(self, since=None, limit=500):
        """One page of changes after ``since``: ``(changes, next_cursor)``."""
        params = {"limit": limit}
        if since:
            params["since"] = since
        page = self._request("GET", "/v1/changes", params=params)
        changes, cursor = page.get("changes"), page.get("next_cursor")
        if not isinstance(changes, list) or not isinstance(cursor, str) or not 0 < len(cursor) <= MAX_CURSOR:
            raise AgencyProtocolError(f"GET /v1/changes: expected changes and next_cursor, got {page!r:.200}")
        return changes, cursor

    def post_command(self, external_id, endpoint, body, idempotency_key):
        """POST a command (``pause``, ``resume``, ``withdraw``, ``creditor-payments``, ``dispute-answers``) to a
        case; the same idempotency key again answers the first result."""
        if not external_id:
            raise AgencyRejected(0, "the case has no agency id yet")
        return self._request(
            "POST", f"/v1/cases/{_segment(external_id)}/{endpoint}", body=body, idempotency_key=idempotency_key
        )


def _segment(external_id):
    """An agency's case id as one path segment: ``/``, ``?``, ``#``, ``..`` and ``@`` cannot leave it."""
    return quote(str(external_id), safe="")


def _reason(content, fallback):
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):
        return content[:200].decode("utf-8", "replace") or fallback
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"])[:500]
    return content[:200].decode("utf-8", "replace")


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def _parse(content):
    try:
        body = json.loads(content, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise AgencyProtocolError(f"the JSON body is nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as err:
        snippet = content[:80].decode("utf-8", "replace")
        raise AgencyProtocolError(f"malformed JSON body ({str(err)[:200]}); starts with {snippet!r}") from None
    if not isinstance(body, dict):
        raise AgencyProtocolError(f"expected a JSON object, got {type(body).__name__}")
    if _depth(body) > MAX_DEPTH:
        raise AgencyProtocolError(f"the JSON body is nested deeper than {MAX_DEPTH} levels")
    return body


def _depth(value):
    """Nesting depth of a parsed JSON value, without recursion (a hostile body must not exhaust the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                return level
            stack.extend((child, level + 1) for child in item)
    return deepest
