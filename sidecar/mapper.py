"""Mappers: between the neutral records of the Odoo contract and the words of one agency protocol.

Odoo speaks neutral records (docs/rpc-contract.md): a case with its debtor and debts, changes of a kind
(state, payment, fee, interest, dispute) whose ``state`` is one of the case's own states, commands by action.
Each agency protocol is one mapper class here and its adapter (the HTTP client of ``sidecar/agency.py`` for the
nordic protocol); the agency's ``protocol`` code in Odoo picks both (:data:`PROTOCOLS`). Adding a protocol is
a new mapper and adapter here: Odoo does not change.

A mapper never raises on what an agency reports: a change it cannot map goes to Odoo with an ``error``, and
Odoo quarantines it visibly while the others are applied.
"""

from .agency import AgencyClient
from .contract import REGISTERED_STATES


class MappingError(ValueError):
    """An Odoo record has no equivalent in the agency's protocol."""


class UnknownProtocol(LookupError):
    """Odoo names an agency protocol this sidecar does not speak."""


class NordicV1Mapper:
    """The nordic agency REST protocol, version 1 (docs/agency-api.yaml)."""

    code = "nordic_v1"
    adapter = AgencyClient
    # The agency's status -> the case's state. A dispute is a pause: the agency holds the case until answered.
    STATES = {
        "registered": "submitted",
        "collection_active": "active",
        "paused": "paused",
        "disputed": "paused",
        "paid": "paid",
        "partly_paid": "partly_paid",
        "surveillance": "surveillance",
        "failed": "failed",
        "withdrawn": "withdrawn",
    }
    # The agency's change type -> the kind of change.
    KINDS = {"status": "state", "payment": "payment", "fee": "fee", "interest": "interest", "dispute": "dispute"}
    # Odoo's answer to a dispute -> the agency's.
    ANSWERS = {"uphold": "uphold", "withdraw": "withdraw"}
    # Odoo's command action -> the agency's endpoint under /v1/cases/<id>/.
    COMMANDS = {
        "pause": "pause",
        "resume": "resume",
        "withdraw": "withdraw",
        "creditor_payment": "creditor-payments",
        "dispute_answer": "dispute-answers",
    }

    def to_register_body(self, case):
        """The agency's registration body (``CaseRegistration``) of a neutral case."""
        debtor = case["debtor"]
        return {
            "creditor_reference": case["uuid"],
            "currency": case["currency"],
            "first_action": "debt_collection",
            "debtor": {
                "name": debtor["name"],
                "id_number": debtor.get("id_number") or "",
                "is_company": bool(debtor.get("is_company")),
                "address": {key: debtor.get(key) or "" for key in ("street", "zip", "city", "country")},
                "email": debtor.get("email") or "",
                "phone": debtor.get("phone") or "",
            },
            "debts": [
                {
                    "invoice_number": debt["invoice_number"],
                    "invoice_date": debt.get("invoice_date"),
                    "due_date": debt["due_date"],
                    "principal": debt["principal"],
                    "fees": debt.get("fees") or 0.0,
                    "interest": debt.get("interest") or 0.0,
                    "ocr": debt.get("payment_reference") or debt["invoice_number"],
                }
                for debt in case["debts"]
            ],
            "disputed": bool(case.get("disputed")),
            "dispute_text": case.get("dispute_text") or "",
        }

    def submission_state(self, agency_status):
        """The case's state once the agency registered it: the one its answer names, if a registration can lead
        there; else submitted (the change feed tells the rest)."""
        state = self.STATES.get(agency_status) if isinstance(agency_status, str) else None
        return state if state in REGISTERED_STATES else "submitted"

    def to_submission(self, case, agency_case):
        """The ``sidecar_record_submissions`` item of a case the agency registered (``CaseSummary``)."""
        status = agency_case.get("status")
        return {
            "uuid": case["uuid"],
            "external_id": agency_case["id"],
            "ocr": agency_case.get("ocr") or "",
            "state": self.submission_state(status),
            "agency_status": status if isinstance(status, str) else None,
        }

    def to_change(self, change):
        """The neutral change of one agency ``Change``; one that cannot be mapped carries an ``error``."""
        if not isinstance(change, dict):
            return {"id": None, "error": "the agency's change is not an object", "data": {"raw": repr(change)[:500]}}
        status, kind = change.get("status"), change.get("type")
        neutral = {
            "id": change.get("id"),
            "uuid": change.get("creditor_reference"),
            "external_id": change.get("case_id"),
            "kind": self.KINDS.get(kind) if isinstance(kind, str) else None,
            "occurred_at": change.get("occurred_at"),
            "data": change.get("data") or {},
        }
        if neutral["kind"] is None:
            return {**neutral, "error": f"unknown change type {kind!r}"}
        if not isinstance(neutral["data"], dict):
            return {
                **neutral,
                "data": {"raw": repr(neutral["data"])[:500]},
                "error": "the change's data is not an object",
            }
        if neutral["kind"] in ("payment", "fee", "interest"):
            return {**neutral, "amount": change.get("amount"), "currency": change.get("currency")}
        if neutral["kind"] == "dispute":
            status = status or "disputed"
        if not isinstance(status, str) or status not in self.STATES:
            return {**neutral, "error": f"unknown agency status {status!r}"}
        # The agency reports a dispute as a change of type dispute, or as the status disputed.
        kind = "dispute" if status == "disputed" else neutral["kind"]
        return {**neutral, "kind": kind, "state": self.STATES[status], "agency_status": status}

    def cursor_after(self, cursor, since):
        """Whether the feed's ``cursor`` lies past ``since`` (None: the feed's start).

        The protocol's cursors are opaque strings in the feed's order; decimal ones (the sandbox's, and any
        agency's sequence numbers) are compared as numbers, any other can only be told apart from ``since``.
        """
        if since is None:
            return True
        if cursor.isascii() and cursor.isdigit() and since.isascii() and since.isdigit():
            return int(cursor) > int(since)
        return cursor != since

    def to_command(self, command):
        """(endpoint, body) of an Odoo command; MappingError for an action the protocol does not have."""
        action = command.get("action")
        if action not in self.COMMANDS:
            raise MappingError(f"unknown command action {action!r}")
        data = command.get("data") or {}
        if action == "creditor_payment":
            body = {key: data[key] for key in ("amount", "date", "reference") if key in data}
        elif action == "dispute_answer":
            answer = data.get("answer") or "uphold"
            if answer not in self.ANSWERS:
                raise MappingError(f"unknown dispute answer {answer!r}")
            body = {"answer": self.ANSWERS[answer], "text": data.get("text") or ""}
        else:
            body = {"reason": data.get("reason") or ""}
        return self.COMMANDS[action], body


PROTOCOLS = {mapper.code: mapper for mapper in (NordicV1Mapper,)}


def mapper_for(protocol):
    """The mapper of an agency's ``protocol`` code (Odoo's agency record); UnknownProtocol if there is none."""
    try:
        return PROTOCOLS[protocol]()
    except (KeyError, TypeError):
        raise UnknownProtocol(
            f"protocol {protocol!r} is not one this sidecar speaks ({', '.join(sorted(PROTOCOLS))})"
        ) from None
