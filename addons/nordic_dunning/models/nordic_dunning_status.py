from odoo import api, fields, models

from ..tools.sql import array_literal, execute_values

OPEN_PAYMENT_STATES = ("not_paid", "partial")
# The invoice's related field for each status field.
MOVE_FIELDS = {
    "policy_id": "nordic_dunning_policy_id",
    "level_id": "nordic_dunning_level_id",
    "next_level_id": "nordic_dunning_next_level_id",
    "next_date": "nordic_next_dunning_date",
    "last_date": "nordic_last_dunning_date",
    "state": "nordic_dunning_state",
}


class NordicDunningStatus(models.Model):
    """Where one customer invoice stands in dunning: its policy, last and next level and date.

    One narrow row per invoice instead of columns on ``account_move``: a run moves tens of thousands of
    invoices to their next level, and rewriting that many rows of the widest, most indexed table of the
    database costs ten times what rewriting this one does. The invoice shows these values through
    related fields (``account.move.nordic_dunning_*``), which stay searchable, sortable and groupable.

    The history behind the status is in ``nordic.dunning.event``; the status is its projection, so it
    keeps no create/write log of its own.
    """

    _name = "nordic.dunning.status"
    _description = "Dunning status of an invoice"
    _log_access = False
    _rec_name = "move_id"

    move_id = fields.Many2one("account.move", "Invoice", required=True, ondelete="cascade", readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    policy_id = fields.Many2one("nordic.dunning.policy", "Dunning policy", readonly=True, ondelete="set null")
    level_id = fields.Many2one(
        "nordic.dunning.level", "Dunning level", readonly=True, ondelete="set null", help="Last level executed."
    )
    next_level_id = fields.Many2one("nordic.dunning.level", "Next dunning level", readonly=True, ondelete="set null")
    next_date = fields.Date("Next dunning date", readonly=True)
    last_date = fields.Date("Last dunning date", readonly=True)
    state = fields.Selection(
        [("none", "Not dunned"), ("in_dunning", "In dunning"), ("handed_over", "Handed over")],
        string="Dunning state",
        default="none",
        required=True,
        readonly=True,
    )
    is_open = fields.Boolean(
        "Open invoice",
        compute="_compute_is_open",
        store=True,
        help="Posted and not (fully) paid: only open invoices are looked at by a dunning run.",
    )

    _sql_constraints = [
        ("move_unique", "UNIQUE(move_id)", "An invoice has one dunning status."),
    ]

    def init(self):
        res = super().init()
        # A run's selection reads this partial index only: open invoices of a policy by next date.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS nordic_dunning_status_due_idx
                ON nordic_dunning_status (policy_id, next_date)
             WHERE is_open AND next_date IS NOT NULL
            """
        )
        return res

    @api.depends("move_id.move_type", "move_id.state", "move_id.payment_state")
    def _compute_is_open(self):
        for status in self:
            move = status.move_id
            status.is_open = (
                move.move_type == "out_invoice" and move.state == "posted" and move.payment_state in OPEN_PAYMENT_STATES
            )

    @api.model
    def _write_schedule(self, rows):
        """Upsert ``(move_id, policy_id, next_level_id, next_date)`` rows: one statement per 5000 rows.

        Creates the status of invoices that have none (and links the invoice to it); leaves the level
        executed last, its date and the state as they are. Direct SQL on purpose: called for whole runs.
        """
        if not rows:
            return
        # One row per invoice (the last one wins): an upsert cannot touch the same row twice.
        rows = list({row[0]: row for row in rows}.values())
        self.env.flush_all()
        move_ids = [row[0] for row in rows]
        for start in range(0, len(rows), 5000):
            execute_values(
                self.env.cr,
                """
                INSERT INTO nordic_dunning_status (move_id, company_id, policy_id, next_level_id, next_date, state,
                                                   is_open)
                SELECT v.move_id, m.company_id, v.policy_id::int, v.next_level_id::int, v.next_date::date, 'none',
                       m.move_type = 'out_invoice' AND m.state = 'posted'
                       AND m.payment_state IN ('not_paid', 'partial')
                  FROM (VALUES %s) AS v(move_id, policy_id, next_level_id, next_date)
                  JOIN account_move m ON m.id = v.move_id
                    ON CONFLICT (move_id) DO UPDATE
                   SET policy_id = EXCLUDED.policy_id,
                       next_level_id = EXCLUDED.next_level_id,
                       next_date = EXCLUDED.next_date
                """,
                rows[start : start + 5000],
                page_size=5000,
            )
        self._link_moves(move_ids)
        fnames = ["policy_id", "next_level_id", "next_date"]
        self._invalidate_written(fnames)
        self.env["account.move"].browse(move_ids).modified([MOVE_FIELDS[fname] for fname in fnames])

    @api.model
    def _invalidate_written(self, fnames):
        """Forget cached values of status fields written by SQL, and the invoices' related fields.

        Stored computes of the invoices that read them are not triggered here: callers call
        ``modified`` on the invoices whose change matters (it costs a recompute per invoice).
        """
        self.invalidate_model(fnames)
        self.env["account.move"].invalidate_model([MOVE_FIELDS[fname] for fname in fnames])

    @api.model
    def _link_moves(self, move_ids):
        """Point invoices that have just got a status to it (once in an invoice's life)."""
        self.env.cr.execute(
            """
            UPDATE account_move m SET nordic_dunning_status_id = s.id
              FROM nordic_dunning_status s
             WHERE s.move_id = m.id AND m.id = ANY(%s::int[]) AND m.nordic_dunning_status_id IS DISTINCT FROM s.id
            RETURNING m.id
            """,
            [array_literal(move_ids)],
        )
        linked = [move_id for (move_id,) in self.env.cr.fetchall()]
        if linked:
            moves = self.env["account.move"].browse(linked)
            moves.invalidate_recordset(["nordic_dunning_status_id"])
            moves.modified(["nordic_dunning_status_id"])
