"""Writes only the product itself makes: a run's outcome, the audit trail, amounts the law caps.

A caller over RPC (or any script) sets whatever context it likes, so a context *value* cannot tell the
product's own writes from a caller's. The marker here is an object that exists only in this process: code of
the addons passes it down with :func:`as_system` after checking who acts; JSON from outside can never carry
it, so :func:`is_system` is true only on the product's own paths (the pattern of OCA queue_job's
``EDIT_SENTINEL``).
"""

from odoo import _
from odoo.exceptions import AccessError

SYSTEM_KEY = "nordic_dunning_system"
_SYSTEM = object()


def as_system(records):
    """``records`` in an environment whose writes are the product's own (rights and rules unchanged)."""
    return records.with_context(**{SYSTEM_KEY: _SYSTEM})


def is_system(env):
    """Whether ``env`` comes from :func:`as_system` (never true for an RPC caller, whatever its context)."""
    return env.context.get(SYSTEM_KEY) is _SYSTEM


def check_system_fields(records, vals, system_fields):
    """Refuse a caller's create or write of ``system_fields`` of ``records``' model: only the product sets them."""
    if is_system(records.env):
        return
    touched = sorted(set(vals) & set(system_fields))
    if touched:
        labels = [records._fields[name].get_description(records.env)["string"] for name in touched]
        raise AccessError(
            _(
                "%(model)s: %(fields)s can only be set by the dunning process itself, through its buttons.",
                model=records._description,
                fields=", ".join(labels),
            )
        )
