"""Command line of the sidecar.

::

    nordic-sidecar sync --once [--dry-run]      one sync of every agency, then exit
    nordic-sidecar run --every 15m [--dry-run]   sync periodically until SIGTERM / SIGINT (graceful stop)
    nordic-sidecar check                         log in, check every agency's environment, write nothing

Common options: ``--config FILE``, ``--log-format text|json`` (JSON lines on stderr), ``--log-level``,
``--worker NAME``, ``--batch-size N``, ``--agency CODE`` (repeatable). Every other setting comes from the
environment or the config file: see :mod:`sidecar.config`.

Exit codes: 0 everything done; 1 partial failure (an agency or Odoo unreachable, Odoo failing during the login,
a case rejected, a change quarantined: look at the log and Odoo, the next run retries; ``run`` keeps going and
retries next period); 2 configuration error (missing or invalid setting, Odoo refused the login); 3 an agency
was refused for its environment, for an https-less production URL or for a protocol this sidecar does not speak
(see :mod:`sidecar.sync`).

Tests only: ``NORDIC_SIDECAR_CRASH_AT=<checkpoint>[:<n>]`` makes the process ``os._exit(137)`` (as if
SIGKILLed) the n-th time (default first) it passes that checkpoint; the checkpoints are
:data:`sidecar.sync.CHECKPOINTS`.
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from datetime import datetime, timezone

from . import config
from .odoo import OdooAuthError, OdooClient, OdooError
from .sync import CHECKPOINTS, EXIT_CONFIG, EXIT_OK, EXIT_PARTIAL, EXIT_REFUSED, Syncer

_logger = logging.getLogger("sidecar")

_STANDARD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, msg and every ``extra`` field."""

    def format(self, record):
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD_ATTRS})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(log_format, level):
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def crash_checkpoint(environ):
    """The checkpoint hook from NORDIC_SIDECAR_CRASH_AT (tests): exits like a SIGKILL at the chosen point."""
    spec = environ.get("NORDIC_SIDECAR_CRASH_AT")
    if not spec:
        return None
    name, _, nth = spec.partition(":")
    if name not in CHECKPOINTS or (nth and not nth.isdigit()):
        raise config.ConfigError(f"NORDIC_SIDECAR_CRASH_AT must be one of {', '.join(CHECKPOINTS)}[:n]")
    remaining = [int(nth or 1)]

    def hook(checkpoint):
        if checkpoint == name:
            remaining[0] -= 1
            if remaining[0] <= 0:
                sys.stderr.write(f"NORDIC_SIDECAR_CRASH_AT: crashing at {checkpoint}\n")
                sys.stderr.flush()
                os._exit(137)

    return hook


def _parser():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="TOML or INI config file (default: env NORDIC_SIDECAR_CONFIG)")
    common.add_argument("--log-format", choices=("text", "json"))
    common.add_argument("--log-level")
    common.add_argument("--worker", help="name recorded on claimed cases")
    common.add_argument("--batch-size", type=int)
    common.add_argument("--agency", action="append", help="only this agency code (repeatable)")
    parser = argparse.ArgumentParser(
        prog="nordic-sidecar",
        description="Keeps Odoo collection cases and agencies in step.",
        epilog="Exit codes: 0 ok, 1 partial failure, 2 config error, 3 agency refused (environment or protocol).",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync", parents=[common], help="sync once and exit")
    sync.add_argument("--once", action="store_true", help="one sync (the default for this command)")
    sync.add_argument("--dry-run", action="store_true", help="read Odoo and the agencies, write nothing")
    run = commands.add_parser("run", parents=[common], help="sync periodically until SIGTERM")
    run.add_argument("--every", help="period, e.g. 15m (default: setting interval)")
    run.add_argument("--dry-run", action="store_true")
    commands.add_parser("check", parents=[common], help="check login and environments, write nothing")
    return parser


def _settings(args):
    overrides = {
        "log_format": args.log_format,
        "log_level": args.log_level,
        "worker": args.worker,
        "batch_size": args.batch_size,
        "agencies": ",".join(args.agency) if args.agency else None,
        "interval": getattr(args, "every", None),
    }
    return config.load(args.config, overrides=overrides)


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        settings = _settings(args)
        settings.require_odoo()
        checkpoint = crash_checkpoint(os.environ)
    except config.ConfigError as err:
        setup_logging("text", "INFO")
        _logger.error("configuration error: %s", err)
        return EXIT_CONFIG
    setup_logging(settings.log_format, settings.log_level)
    odoo = OdooClient(settings)
    dry_run = getattr(args, "dry_run", False)
    try:
        if args.command == "run":
            return _run_forever(odoo, settings, dry_run, checkpoint)
        odoo.connect()
        syncer = Syncer(odoo, settings, dry_run=dry_run, checkpoint=checkpoint, check_only=args.command == "check")
        report = syncer.run_once()
    except OdooAuthError as err:
        _logger.error("configuration error: %s", err, extra={"event": "config_error"})
        return EXIT_CONFIG
    except OdooError as err:
        _logger.error("Odoo error: %s", err, extra={"event": "odoo_error"})
        return EXIT_PARTIAL
    _logger.info(
        "exit %d (%d RPC calls to Odoo)",
        report.exit_code,
        odoo.calls,
        extra={"event": "exit", "exit_code": report.exit_code, "rpc_calls": odoo.calls},
    )
    return report.exit_code


def _run_forever(odoo, settings, dry_run, checkpoint):
    stop = threading.Event()

    def request_stop(signum, _frame):
        _logger.info(
            "signal %s: stopping after the current batch", signal.Signals(signum).name, extra={"event": "stopping"}
        )
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    interval = settings.interval_seconds
    _logger.info("running every %ss", interval, extra={"event": "start", "interval": interval})
    while not stop.is_set():
        started = time.monotonic()
        try:
            report = Syncer(odoo, settings, dry_run=dry_run, checkpoint=checkpoint, stop=stop).run_once()
        except OdooAuthError:
            raise
        except OdooError as err:
            _logger.error("Odoo error: %s (retrying next period)", err, extra={"event": "odoo_error"})
            odoo.close()
        except Exception:  # the service outlives one bad pass: log it, log in afresh, try again next period
            _logger.exception("sync pass failed (retrying next period)", extra={"event": "pass_error"})
            odoo.close()
        else:
            if report.agencies and all(agency.refused for agency in report.agencies):
                _logger.error("every agency was refused (environment or protocol): stopping", extra={"event": "exit"})
                return EXIT_REFUSED
            if report.errors:  # Odoo failed the pass (login or listing): log in afresh next period
                odoo.close()
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
    _logger.info("stopped", extra={"event": "stopped"})
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
