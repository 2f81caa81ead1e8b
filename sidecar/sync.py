"""The sync core: turns agency answers into the batches of the Odoo contract, in fixed steps per agency.

Odoo speaks neutral records (docs/rpc-contract.md); each agency's ``protocol`` picks the mapper and adapter
that speak its words (``sidecar/mapper.py``, ``sidecar/agency.py``). An agency whose protocol this sidecar does
not know is refused like a wrong environment: nothing is sent to it.

1. **Environment check.** The agency's ``/v1/info`` must report the environment Odoo has configured for it;
   a production agency is refused when Odoo's database is neutralized (a copy, a test database), and a test
   agency is refused from a production database unless the agency allows it (``allow_test_from_production``):
   seed 003's test file must never reach real debtors, and test data must never leave production by accident.
2. **Submit.** ``sidecar_claim`` (row locks, SKIP LOCKED: two sidecars never hold the same case) → map each
   neutral case to the agency's registration, register it with the case UUID as ``Idempotency-Key`` →
   ``sidecar_record_submissions`` (with the state the agency's answer maps to). A case the agency accepted but
   Odoo never heard of (a crash in between) is claimed again after its lease and registered again with the
   same key: the agency answers the case it already has, never a second one.
3. **Commands.** ``sidecar_pending_commands`` → map and send each (``Idempotency-Key: command-<id>``) →
   ``sidecar_ack_commands``. A command sent but never acked is sent again; its key makes that harmless.
4. **Changes.** Pages of ``GET /v1/changes?since=<cursor>``, each change mapped to a neutral one →
   ``sidecar_apply_changes(changes, next_cursor)``. Odoo applies a page and stores the cursor in one
   transaction and skips change ids it already has, so a crash before, during or after the call loses nothing
   and applies nothing twice.

Nothing here keeps state between runs: Odoo holds the cases, claims, commands, applied change ids and cursors.
"""

import logging
from dataclasses import asdict, dataclass, field

from .agency import AgencyError, AgencyProtocolError, AgencyRejected
from .mapper import MappingError, UnknownProtocol, mapper_for
from .odoo import OdooAuthError, OdooError

_logger = logging.getLogger(__name__)

CHECKPOINTS = (
    "after_claim",  # cases claimed in Odoo, nothing sent
    "after_register",  # the agency accepted a case, Odoo does not know yet
    "after_record",  # a batch of submissions recorded
    "after_command",  # a command sent, not acked
    "after_fetch",  # a page of changes fetched, not applied
    "after_apply",  # a page applied (cursor stored)
)

EXIT_OK, EXIT_PARTIAL, EXIT_CONFIG, EXIT_REFUSED = 0, 1, 2, 3


class EnvironmentRefused(Exception):
    """This agency must not be synced from this database."""


def check_agency(database, agency):
    """Raise EnvironmentRefused when Odoo's record of ``agency`` alone says it must not be contacted.

    A production agency is reached over https only: its API key and the debtors' data never cross the network
    in clear. Nor is it contacted at all from a neutralized database (the check after ``/v1/info`` repeats it
    with what the agency reports). Test agencies (the sandbox on loopback) may use http.
    """
    name = agency.get("code") or agency.get("name")
    if agency.get("environment") == "production":
        url = agency.get("base_url")
        if not isinstance(url, str) or not url.strip().lower().startswith("https://"):
            raise EnvironmentRefused(
                f"agency {name} is a production agency and its URL {url!r:.200} is not https: refusing to send "
                f"its API key or any case over an unencrypted connection"
            )
    _check_database(database, agency, agency.get("environment"))


def check_environment(database, agency, reported):
    """Raise EnvironmentRefused when syncing ``agency`` (Odoo's record) from ``database`` is unsafe.

    ``reported`` is the environment the agency's ``/v1/info`` reports.
    """
    configured = agency.get("environment")
    name = agency.get("code") or agency.get("name")
    if reported != configured:
        raise EnvironmentRefused(f"agency {name}: configured as {configured} in Odoo but the agency reports {reported}")
    _check_database(database, agency, reported)


def _check_database(database, agency, reported):
    name = agency.get("code") or agency.get("name")
    if reported == "production" and database.get("neutralized"):
        raise EnvironmentRefused(
            f"agency {name} is a production agency and database {database.get('name')} is neutralized (a copy or "
            f"test database): refusing to send anything to it"
        )
    if reported == "test" and not database.get("neutralized") and not agency.get("allow_test_from_production"):
        raise EnvironmentRefused(
            f"agency {name} is a test agency and database {database.get('name')} is a production database; "
            f"allow it on the agency (allow test from production) if this is intended"
        )


def submission_error(case, error):
    """The ``sidecar_record_submissions`` item for a case the agency did not take."""
    return {"uuid": case["uuid"], "error": str(error)[:1000]}


def command_ack(command, error=None):
    """The ``sidecar_ack_commands`` item of a command."""
    return {"command_id": command["command_id"], "ok": error is None, "error": None if error is None else str(error)}


@dataclass
class AgencyReport:
    """What one run did for one agency."""

    agency_id: int
    code: str
    claimed: int = 0
    submitted: int = 0
    rejected: int = 0
    not_submitted: int = 0
    commands_sent: int = 0
    commands_failed: int = 0
    changes_fetched: int = 0
    applied: int = 0
    duplicates: int = 0
    quarantined: int = 0
    cursor: str | None = None
    refused: str = ""
    errors: list = field(default_factory=list)

    @property
    def exit_code(self):
        if self.refused:
            return EXIT_REFUSED
        if self.errors or self.rejected or self.not_submitted or self.commands_failed or self.quarantined:
            return EXIT_PARTIAL
        return EXIT_OK

    def stats(self):
        """What the heartbeat tells Odoo; ``error`` (the refusal or the errors, else empty) is the agency's
        last error there."""
        data = asdict(self)
        data.pop("agency_id")
        data["error"] = "; ".join(([self.refused] if self.refused else []) + self.errors)[:2000]
        return data


@dataclass
class RunReport:
    """What one run did."""

    agencies: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    dry_run: bool = False

    @property
    def exit_code(self):
        codes = [report.exit_code for report in self.agencies] + [EXIT_PARTIAL for _ in self.errors]
        if EXIT_REFUSED in codes:
            return EXIT_REFUSED
        return max(codes, default=EXIT_OK)

    def totals(self):
        keys = (
            "claimed",
            "submitted",
            "rejected",
            "not_submitted",
            "commands_sent",
            "commands_failed",
            "changes_fetched",
            "applied",
            "duplicates",
            "quarantined",
        )
        return {key: sum(getattr(report, key) for report in self.agencies) for key in keys}


class Syncer:
    """Runs the steps of the module docstring for every agency Odoo lists."""

    def __init__(self, odoo, settings, dry_run=False, checkpoint=None, stop=None, check_only=False):
        self.odoo = odoo
        self.check_only = check_only  # environments only: no step runs
        self.settings = settings
        self.dry_run = dry_run or check_only
        self.checkpoint = checkpoint or (lambda name: None)
        self.stop = stop  # a threading.Event: checked between batches for a graceful stop

    def _make_agency(self, agency, mapper):
        settings = self.settings
        return mapper.adapter(
            agency["base_url"],
            agency["api_key"],
            timeout=(settings.agency_connect_timeout, settings.agency_timeout),
            retries=settings.agency_retries,
            backoff=settings.agency_backoff,
            max_body=settings.agency_max_body,
        )

    def _stopping(self):
        return self.stop is not None and self.stop.is_set()

    def run_once(self):
        report = RunReport(dry_run=self.dry_run)
        try:
            listing = self.odoo.agencies()
        except OdooAuthError:
            raise
        except OdooError as err:
            _logger.error("cannot list agencies: %s", err, extra={"event": "odoo_error"})
            report.errors.append(str(err))
            return report
        database = listing.get("database") if isinstance(listing, dict) else None
        agencies = listing.get("agencies") if isinstance(listing, dict) else None
        if not isinstance(database, dict) or not isinstance(agencies, list):
            report.errors.append(f"Odoo's list of agencies is not the contract's: {listing!r:.200}")
            _logger.error("cannot list agencies: %s", report.errors[-1], extra={"event": "odoo_error"})
            return report
        wanted = self.settings.agency_codes
        for agency in agencies:
            if not isinstance(agency, dict) or not isinstance(agency.get("id"), int):
                report.errors.append(f"Odoo listed an agency that is not a record with an id: {agency!r:.200}")
                continue
            if wanted and agency.get("code") not in wanted:
                continue
            if self._stopping():
                break
            report.agencies.append(self.sync_agency(database, agency))
        _logger.info(
            "sync done%s: %s",
            " (dry run)" if self.dry_run else "",
            " ".join(f"{key}={value}" for key, value in report.totals().items()),
            extra={"event": "sync_done", "dry_run": self.dry_run, **report.totals(), "exit_code": report.exit_code},
        )
        return report

    def sync_agency(self, database, agency):
        report = AgencyReport(
            agency_id=agency["id"], code=agency.get("code") or str(agency["id"]), cursor=agency.get("cursor")
        )
        log = {"agency": report.code}
        try:
            mapper = mapper_for(agency.get("protocol"))
        except UnknownProtocol as err:
            report.refused = f"agency {report.code}: {err}"
            _logger.error("refused: %s", report.refused, extra={"event": "protocol_refused", **log})
        else:
            self._sync_steps(database, agency, mapper, report, log)
        if not self.dry_run:
            try:
                self.odoo.heartbeat(
                    {"worker": self.settings.worker, "agency_id": agency["id"], "stats": report.stats()}
                )
            except OdooError as err:
                report.errors.append(str(err))
        _logger.info("agency %s: %s", report.code, report.stats(), extra={"event": "agency_done", **log})
        return report

    def _sync_steps(self, database, agency, mapper, report, log):
        """The steps for one agency. Whatever goes wrong with it (its answers, its URL, a refusal, Odoo) is its
        report's error or refusal: the run goes on with the next agency."""
        client = None
        try:
            check_agency(database, agency)
            client = self._make_agency(agency, mapper)
            info = client.info()
            check_environment(database, agency, info["environment"])
            if self.check_only:
                _logger.info(
                    "agency %s: %s environment, %s, accepted",
                    report.code,
                    info["environment"],
                    info.get("name"),
                    extra={"event": "check_ok", **log},
                )
                return
            self._submit(client, mapper, agency, report, log)
            self._commands(client, mapper, agency, report, log)
            self._changes(client, mapper, agency, report, log)
        except EnvironmentRefused as err:
            report.refused = str(err)
            _logger.error("refused: %s", err, extra={"event": "environment_refused", **log})
        except (AgencyError, OdooError) as err:
            report.errors.append(str(err))
            _logger.error("agency %s: %s", report.code, err, extra={"event": "sync_error", **log})
        except Exception as err:  # an answer nobody foresaw must not end the run for the other agencies
            report.errors.append(f"unexpected {err.__class__.__name__}: {err}"[:1000])
            _logger.exception("agency %s: unexpected error", report.code, extra={"event": "sync_error", **log})
        finally:
            if client is not None:
                client.close()

    # ------------------------------------------------------------------ steps
    def _submit(self, client, mapper, agency, report, log):
        if self.dry_run:
            _logger.info("dry run: claiming cases skipped (a claim writes)", extra={"event": "dry_run", **log})
            return
        limit = self.settings.batch_size
        for _batch in range(self.settings.max_batches):
            if self._stopping():
                return
            cases = self.odoo.claim(agency["id"], limit, self.settings.worker)
            if not cases:
                return
            report.claimed += len(cases)
            self.checkpoint("after_claim")
            results, failure = [], None
            for case in cases:
                if failure is not None:
                    results.append(submission_error(case, f"not sent: {failure}"))
                    report.not_submitted += 1
                    continue
                try:
                    body = mapper.to_register_body(case["case"])
                    agency_case = client.register_case(body, idempotency_key=case["uuid"])
                except AgencyRejected as err:
                    results.append(submission_error(case, err))
                    report.rejected += 1
                    _logger.warning(
                        "case %s rejected: %s",
                        case["uuid"],
                        err.reason,
                        extra={"event": "case_rejected", "uuid": case["uuid"], **log},
                    )
                except AgencyError as err:
                    failure = err
                    results.append(submission_error(case, err))
                    report.not_submitted += 1
                else:
                    results.append(mapper.to_submission(case, agency_case))
                    report.submitted += 1
                    self.checkpoint("after_register")
            self.odoo.record_submissions(agency["id"], results)
            self.checkpoint("after_record")
            _logger.info(
                "agency %s: submitted %d cases so far",
                report.code,
                report.submitted,
                extra={"event": "progress", "step": "submit", "submitted": report.submitted, **log},
            )
            if failure is not None:
                raise failure
            if len(cases) < limit or any("error" in result for result in results):
                # Rejected cases go back to "to submit": claiming again now would only take them again.
                return

    def _commands(self, client, mapper, agency, report, log):
        limit = self.settings.batch_size
        seen = set()
        for _batch in range(self.settings.max_batches):
            if self._stopping():
                return
            commands = self.odoo.pending_commands(agency["id"], limit)
            commands = [command for command in commands if command["command_id"] not in seen]
            if not commands:
                return
            if self.dry_run:
                _logger.info("dry run: %d commands would be sent", len(commands), extra={"event": "dry_run", **log})
                return
            acks, failure = [], None
            for command in commands:
                seen.add(command["command_id"])
                try:
                    endpoint, body = mapper.to_command(command)
                    client.post_command(
                        command["external_id"], endpoint, body, idempotency_key=f"command-{command['command_id']}"
                    )
                except (AgencyRejected, MappingError) as err:
                    acks.append(command_ack(command, err))
                    report.commands_failed += 1
                except AgencyError as err:
                    failure = err
                    break
                else:
                    acks.append(command_ack(command))
                    report.commands_sent += 1
                    self.checkpoint("after_command")
            if acks:
                self.odoo.ack_commands(agency["id"], acks)
            if failure is not None:
                raise failure
            if len(commands) < limit:
                return

    def _changes(self, client, mapper, agency, report, log):
        cursor = agency.get("cursor") or None
        page_size = self.settings.changes_page
        for _page in range(self.settings.max_batches):
            if self._stopping():
                return
            changes, next_cursor = client.changes(since=cursor, limit=page_size)
            if not changes:
                return
            # Odoo's cursor never goes back: a page whose cursor is not past the one read from Odoo (or sent
            # since) is the agency's error, and neither it nor its cursor reaches Odoo.
            if not mapper.cursor_after(next_cursor, cursor):
                raise AgencyProtocolError(f"GET /v1/changes: the cursor {next_cursor!r} does not move past {cursor!r}")
            report.changes_fetched += len(changes)
            self.checkpoint("after_fetch")
            if self.dry_run:
                cursor = next_cursor
                continue
            neutral = [mapper.to_change(change) for change in changes]
            result = self.odoo.apply_changes(agency["id"], neutral, next_cursor)
            self.checkpoint("after_apply")
            report.applied += result.get("applied", 0)
            report.duplicates += result.get("duplicates", 0)
            for item in result.get("quarantined") or []:
                report.quarantined += 1
                _logger.warning(
                    "change %s quarantined in Odoo: %s",
                    item.get("id"),
                    item.get("error"),
                    extra={"event": "change_quarantined", "change_id": item.get("id"), **log},
                )
            cursor = report.cursor = next_cursor
            _logger.info(
                "agency %s: %d changes fetched, %d applied, %d duplicates so far",
                report.code,
                report.changes_fetched,
                report.applied,
                report.duplicates,
                extra={
                    "event": "progress",
                    "step": "changes",
                    "fetched": report.changes_fetched,
                    "applied": report.applied,
                    **log,
                },
            )
            if len(changes) < page_size:
                return
