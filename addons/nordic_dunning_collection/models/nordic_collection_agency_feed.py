"""Is the agency's feed moving? What the last pass of the sidecar applied, what failed, and a loud warning on
the agency when changes keep failing while nothing moves (a stalled feed is money nobody sees)."""

from odoo import _, api, fields, models

from .nordic_collection_case_sidecar_parse import later_cursor


# The agency's feed health is split from its configuration to keep each file short.
# pylint: disable=consider-merging-classes-inherited
class NordicCollectionAgency(models.Model):
    _inherit = "nordic.collection.agency"

    last_apply_date = fields.Datetime(
        "Last change applied", readonly=True, copy=False, help="When a change of this agency was last applied."
    )
    last_pass_applied = fields.Integer("Applied in the last pass", readonly=True, copy=False)
    last_pass_total = fields.Integer("Changes in the last pass", readonly=True, copy=False)
    last_pass_failed = fields.Integer("Failed in the last pass", readonly=True, copy=False)
    cursor_date = fields.Datetime("Cursor moved on", readonly=True, copy=False)
    feed_stalled = fields.Boolean(
        "Feed stalled",
        readonly=True,
        copy=False,
        help="The last pass applied none of its changes, or changes failed while the cursor did not move.",
    )
    feed_warning = fields.Char(compute="_compute_feed_warning")

    @api.depends("feed_stalled", "last_pass_applied", "last_pass_total", "last_pass_failed", "quarantined_count")
    def _compute_feed_warning(self):
        for agency in self:
            if agency.feed_stalled:
                agency.feed_warning = _(
                    "The agency's feed is stalled: the last pass applied %(applied)s of %(total)s changes "
                    "(%(failed)s failed); %(quarantined)s changes wait in quarantine.",
                    applied=agency.last_pass_applied,
                    total=agency.last_pass_total,
                    failed=agency.last_pass_failed,
                    quarantined=agency.quarantined_count,
                )
            elif agency.quarantined_count:
                agency.feed_warning = _(
                    "%s changes of this agency wait in quarantine: re-apply or dismiss them.", agency.quarantined_count
                )
            else:
                agency.feed_warning = False

    def _sidecar_record_pass(self, applied, total, problems, position):
        """Record one page of the feed: counts, the cursor (forward only) and the failures as the last error."""
        self.ensure_one()
        now = fields.Datetime.now()
        vals = {
            "last_sync": now,
            "last_pass_applied": applied,
            "last_pass_total": total,
            "last_pass_failed": len(problems),
        }
        moved = False
        # ``position``, not ``cursor``: Odoo's _() takes a local named cursor for a database cursor.
        if isinstance(position, (str, int)) and not isinstance(position, bool) and str(position):
            kept = later_cursor(self.cursor, position)
            moved = kept != self.cursor
            if moved:
                vals.update(cursor=kept, cursor_date=now)
        if applied:
            vals["last_apply_date"] = now
        vals["feed_stalled"] = bool(total and not applied) or bool(problems and not moved)
        if problems:
            vals["last_error"] = self.env._(
                "%(count)s of %(total)s changes quarantined, e.g. %(id)s: %(error)s",
                count=len(problems),
                total=total,
                id=problems[0][0] or "?",
                error=problems[0][1][:500],
            )
        elif total:
            vals["last_error"] = False
        self.write(vals)

    @api.model
    def _sidecar_heartbeat_error(self, stats):
        """The failure a heartbeat's ``stats`` report (sidecar/sync.py's AgencyReport), or False."""
        if not isinstance(stats, dict):
            return False
        parts = []
        for key in ("error", "refused"):
            if isinstance(stats.get(key), str) and stats[key]:
                parts.append(stats[key])
        errors = stats.get("errors")
        if isinstance(errors, list):
            parts.extend(str(error) for error in errors[:5] if error)
        if isinstance(stats.get("quarantined"), int) and stats["quarantined"] > 0:
            parts.append(_("%s changes quarantined", stats["quarantined"]))
        return "\n".join(parts)[:4000] or False
