"""Settings of the sidecar: command line, then environment variable, then config file, then default.

The config file is given by ``--config FILE`` or ``NORDIC_SIDECAR_CONFIG``. A ``.toml`` file is read as TOML
(keys at the top level or in a ``[sidecar]`` table); any other file as INI with a ``[sidecar]`` section. Keys
in the file are the setting names below (``odoo_db = "prod"``).

=========================  ======================================  ==================  ==========================
setting                    environment variable                    default             meaning
=========================  ======================================  ==================  ==========================
odoo_url                   ODOO_URL                                (none)              e.g. https://erp.example.com;
                                                                                       sets protocol, host, port
odoo_host                  ODOO_HOST                               127.0.0.1           Odoo host
odoo_port                  ODOO_PORT                               8069                Odoo HTTP port
odoo_protocol              ODOO_PROTOCOL                           jsonrpc             jsonrpc or jsonrpc+ssl
odoo_db                    ODOO_DB                                 (required)          database name
odoo_login                 ODOO_LOGIN                              (required)          the sidecar's technical user
odoo_api_key               ODOO_API_KEY                            (required)          that user's Odoo API key
                                                                                       (used as the RPC password)
odoo_timeout               ODOO_TIMEOUT                            120                 seconds per Odoo call
batch_size                 NORDIC_SIDECAR_BATCH_SIZE               100                 cases claimed / commands
                                                                                       fetched per Odoo call
changes_page               NORDIC_SIDECAR_CHANGES_PAGE             1000                agency changes per page
                                                                                       (= per Odoo apply call)
max_batches                NORDIC_SIDECAR_MAX_BATCHES              1000                batches per step and run
interval                   NORDIC_SIDECAR_INTERVAL                 15m                 ``run`` period: 90s, 15m,
                                                                                       1h or seconds
agency_connect_timeout     NORDIC_SIDECAR_AGENCY_CONNECT_TIMEOUT   5                   seconds to connect
agency_timeout             NORDIC_SIDECAR_AGENCY_TIMEOUT           30                  seconds to read an answer
agency_retries             NORDIC_SIDECAR_AGENCY_RETRIES           3                   retries on 5xx / timeout /
                                                                                       malformed body (never 4xx)
agency_backoff             NORDIC_SIDECAR_AGENCY_BACKOFF           0.5                 first retry delay (doubles)
agency_max_body            NORDIC_SIDECAR_AGENCY_MAX_BODY          8388608             bytes of one agency answer;
                                                                                       a larger one is refused
agencies                   NORDIC_SIDECAR_AGENCIES                 (all)               comma-separated agency
                                                                                       codes to sync
worker                     NORDIC_SIDECAR_WORKER                   <host>-<pid>        name recorded on claims
log_format                 NORDIC_SIDECAR_LOG_FORMAT               text                text or json (JSON lines)
log_level                  NORDIC_SIDECAR_LOG_LEVEL                INFO                DEBUG, INFO, WARNING...
=========================  ======================================  ==================  ==========================
"""

import configparser
import os
import re
import socket
from dataclasses import dataclass, field, fields
from urllib.parse import urlsplit

from .agency import MAX_BODY

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: INI files only
    tomllib = None


class ConfigError(Exception):
    """A setting is missing or invalid (exit code 2)."""


def parse_duration(value):
    """Seconds in ``"90s"``, ``"15m"``, ``"1h"``, ``"1h30m"`` or a plain number of seconds."""
    text = str(value).strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        seconds = float(text)
    else:
        parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
        if not text or not parts:
            raise ConfigError(f"invalid duration {value!r}: use e.g. 90s, 15m, 1h")
        hours, minutes, secs = (int(part or 0) for part in parts.groups())
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds <= 0:
        raise ConfigError(f"invalid duration {value!r}: must be positive")
    return seconds


def _default_worker():
    return f"{socket.gethostname()}-{os.getpid()}"


@dataclass
class Settings:
    """Every setting of the sidecar (see the module docstring)."""

    odoo_url: str = ""
    odoo_host: str = "127.0.0.1"
    odoo_port: int = 8069
    odoo_protocol: str = "jsonrpc"
    odoo_db: str = ""
    odoo_login: str = ""
    odoo_api_key: str = field(default="", repr=False)
    odoo_timeout: float = 120.0
    batch_size: int = 100
    changes_page: int = 1000
    max_batches: int = 1000
    interval: str = "15m"
    agency_connect_timeout: float = 5.0
    agency_timeout: float = 30.0
    agency_retries: int = 3
    agency_backoff: float = 0.5
    agency_max_body: int = MAX_BODY
    agencies: str = ""
    worker: str = field(default_factory=_default_worker)
    log_format: str = "text"
    log_level: str = "INFO"

    ENV = {
        "odoo_url": "ODOO_URL",
        "odoo_host": "ODOO_HOST",
        "odoo_port": "ODOO_PORT",
        "odoo_protocol": "ODOO_PROTOCOL",
        "odoo_db": "ODOO_DB",
        "odoo_login": "ODOO_LOGIN",
        "odoo_api_key": "ODOO_API_KEY",
        "odoo_timeout": "ODOO_TIMEOUT",
    }

    @classmethod
    def env_var(cls, name):
        return cls.ENV.get(name, f"NORDIC_SIDECAR_{name.upper()}")

    @property
    def interval_seconds(self):
        return parse_duration(self.interval)

    @property
    def agency_codes(self):
        return [code.strip() for code in self.agencies.split(",") if code.strip()]

    def require_odoo(self):
        missing = [self.env_var(name) for name in ("odoo_db", "odoo_login", "odoo_api_key") if not getattr(self, name)]
        if missing:
            raise ConfigError(f"missing setting(s): {', '.join(missing)} (environment or config file)")


def read_file(path):
    """The settings in a TOML or INI config file, as a dict of strings/values."""
    if not os.path.isfile(path):
        raise ConfigError(f"config file {path} does not exist")
    try:
        if path.endswith(".toml"):
            if tomllib is None:
                raise ConfigError("TOML config files need Python 3.11 or later: use an INI file")
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
            return data.get("sidecar", data)
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(path, encoding="utf-8")
        if not parser.has_section("sidecar"):
            raise ConfigError(f"config file {path} has no [sidecar] section")
        return dict(parser.items("sidecar"))
    except (ValueError, configparser.Error) as err:
        raise ConfigError(f"config file {path} cannot be read: {err}") from None


def load(config_path=None, environ=None, overrides=None):
    """Settings from ``overrides`` (the command line), ``environ``, the config file and the defaults."""
    environ = os.environ if environ is None else environ
    config_path = config_path or environ.get("NORDIC_SIDECAR_CONFIG")
    from_file = read_file(config_path) if config_path else {}
    known = {f.name: f for f in fields(Settings)}
    unknown = sorted(set(from_file) - set(known))
    if unknown:
        raise ConfigError(f"unknown setting(s) in {config_path}: {', '.join(unknown)}")
    values = {}
    for name, spec in known.items():
        raw = None
        if overrides and overrides.get(name) is not None:
            raw = overrides[name]
        elif environ.get(Settings.env_var(name)) not in (None, ""):
            raw = environ[Settings.env_var(name)]
        elif name in from_file:
            raw = from_file[name]
        if raw is None:
            continue
        values[name] = _convert(name, spec.type, raw)
    settings = Settings(**values)
    _apply_url(settings)
    _validate(settings)
    return settings


def _convert(name, kind, raw):
    try:
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    return str(raw)


def _apply_url(settings):
    if not settings.odoo_url:
        return
    url = urlsplit(settings.odoo_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"odoo_url must look like http(s)://host[:port], got {settings.odoo_url!r}")
    settings.odoo_protocol = "jsonrpc+ssl" if url.scheme == "https" else "jsonrpc"
    settings.odoo_host = url.hostname
    settings.odoo_port = url.port or (443 if url.scheme == "https" else 80)


def _validate(settings):
    if settings.odoo_protocol not in ("jsonrpc", "jsonrpc+ssl"):
        raise ConfigError("odoo_protocol must be jsonrpc or jsonrpc+ssl")
    for name in ("batch_size", "changes_page", "max_batches", "odoo_port", "agency_max_body"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name} must be at least 1")
    if settings.changes_page > 10000:
        raise ConfigError("changes_page must be at most 10000 (the protocol's page limit)")
    for name in ("odoo_timeout", "agency_connect_timeout", "agency_timeout"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{name} must be positive")
    if settings.agency_retries < 0 or settings.agency_backoff < 0:
        raise ConfigError("agency_retries and agency_backoff must not be negative")
    if settings.log_format not in ("text", "json"):
        raise ConfigError("log_format must be text or json")
    settings.log_level = settings.log_level.upper()
    if settings.log_level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError("log_level must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    parse_duration(settings.interval)
