"""Booking a run's fees: one journal entry per batch of charges."""
# pylint: disable=consider-merging-classes-inherited

from collections import defaultdict

from odoo import Command, _, models

from ..tools.sql import array_literal

# Charges booked per journal entry (see _charge_fees).
FEE_ENTRY_LINES = 1000


# The run's model is split by concern, one file each (selection, charges, guard, execution, booking,
# communication), to keep every file short.
# pylint: disable=consider-merging-classes-inherited
class NordicDunningRun(models.Model):
    _inherit = "nordic.dunning.run"

    def _charge_fees(self, events, day):
        """Book fees (and interest when the policy charges it): entries of at most FEE_ENTRY_LINES charges.

        One receivable line per event, on the invoice's receivable account and partner, so the
        customer really owes the fee; income lines are summed per account, dated ``day`` (the sending day).
        Fees carry no VAT.
        Odoo creates a journal entry's lines at a cost that grows faster than their number, so a
        run of 10k fees is booked as ten entries rather than one.
        """
        policy = self.policy_id
        charge_interest = policy.interest_mode == "charge"
        # Only the charged events are read (a run of 100k reminders may have no fee at all; interest
        # shown on a reminder is charged only by a policy that charges it).
        self.env.cr.execute(
            """SELECT id, fee_amount + COALESCE(compensation_amount, 0) > 0, %(interest)s AND interest_amount > 0
                 FROM nordic_dunning_event
                WHERE id = ANY(%(ids)s::int[])
                  AND (fee_amount + COALESCE(compensation_amount, 0) > 0 OR (%(interest)s AND interest_amount > 0))
                ORDER BY id""",
            {"ids": array_literal(events.ids), "interest": charge_interest},
        )
        flags = self.env.cr.fetchall()
        fee_events = events.browse([event_id for event_id, fee, _interest in flags if fee])
        interest_events = events.browse([event_id for event_id, _fee, interest in flags if interest])
        if not fee_events and not interest_events:
            return
        fee_account, interest_account = policy._charge_accounts()
        charges, keys = [], []
        for kind, recs, account in (("fee", fee_events, fee_account), ("interest", interest_events, interest_account)):
            for event in recs:
                charges.append(
                    {
                        "invoice": event.move_id,
                        # A business customer's compensation is booked with the fee (one receivable line,
                        # reversed with it by a cancellation).
                        "amount": event.fee_amount + event.compensation_amount
                        if kind == "fee"
                        else event.interest_amount,
                        "currency": event.currency_id,
                        "account": account,
                        "label": (
                            _("Reminder fee and late-payment compensation %s", event.move_id.name)
                            if event.compensation_amount
                            else _("Reminder fee %s", event.move_id.name)
                        )
                        if kind == "fee"
                        else _("Late interest %s", event.move_id.name),
                        "maturity": event.deadline_date,
                    }
                )
                keys.append((kind, event.id))
        count = -(-len(charges) // FEE_ENTRY_LINES)
        moves = self.env["account.move"]
        booked = defaultdict(lambda: [None, None])  # event id: [fee line id, interest line id]
        for number, start in enumerate(range(0, len(charges), FEE_ENTRY_LINES), 1):
            ref = _("Dunning charges %s", self.name)
            if count > 1:
                ref = f"{ref} ({number}/{count})"
            move, receivable_lines = policy._post_charges(charges[start : start + FEE_ENTRY_LINES], day, ref)
            moves |= move
            for (kind, event_id), line_id in zip(keys[start : start + FEE_ENTRY_LINES], receivable_lines.ids):
                booked[event_id][kind == "interest"] = line_id
        # The events' documents and flags, written in one statement (events are otherwise immutable).
        event_ids = list(booked)
        self.env.cr.execute(
            """UPDATE nordic_dunning_event e
                  SET fee_move_line_id = COALESCE(v.fee_line_id, e.fee_move_line_id),
                      interest_move_line_id = COALESCE(v.interest_line_id, e.interest_move_line_id),
                      fee_charged = v.fee_line_id IS NOT NULL OR e.fee_charged,
                      interest_charged = v.interest_line_id IS NOT NULL OR e.interest_charged
                 FROM unnest(%s::int[], %s::int[], %s::int[]) AS v(id, fee_line_id, interest_line_id)
                WHERE e.id = v.id""",
            [
                array_literal(event_ids),
                array_literal([booked[event_id][0] for event_id in event_ids]),
                array_literal([booked[event_id][1] for event_id in event_ids]),
            ],
        )
        events.invalidate_recordset(["fee_charged", "interest_charged", "fee_move_line_id", "interest_move_line_id"])
        self.fee_move_ids = [Command.link(move.id) for move in moves]
