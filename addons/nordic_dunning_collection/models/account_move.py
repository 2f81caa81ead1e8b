"""The invoice at the collection agency: its cases, and the proof that all collection measures were taken
(tandvårdsstöd)."""

from odoo import _, api, fields, models
from odoo.exceptions import UserError

# Agency outcomes that end collection (Försäkringskassan: "all conceivable measures" were taken).
ENDING_CASE_STATES = ("failed", "surveillance")
EXHAUSTED_DEPENDS = (
    "move_type",
    "state",
    "payment_state",
    "nordic_dunning_state",
    "nordic_dunning_policy_id.level_ids",
    "nordic_dunning_event_ids.state",
    "nordic_dunning_event_ids.level_id",
    "nordic_collection_case_ids.state",
)


class AccountMove(models.Model):
    _inherit = "account.move"

    # ------------------------------------------------------------------
    # Collection cases
    # ------------------------------------------------------------------

    nordic_collection_case_ids = fields.One2many("nordic.collection.case", "move_id", string="Collection cases")
    nordic_collection_case_count = fields.Integer(compute="_compute_nordic_collection_case_count")

    def _compute_nordic_collection_case_count(self):
        # A count only, shown on invoices to users who may not read cases (e.g. salespeople).
        counts = dict(
            self.env["nordic.collection.case"]
            .sudo()
            ._read_group([("move_id", "in", self.ids)], ["move_id"], ["__count"])
        )
        for move in self:
            move.nordic_collection_case_count = counts.get(move, 0)

    def action_nordic_view_collection_cases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "nordic_dunning_collection.action_nordic_collection_case"
        )
        action["domain"] = [("move_id", "=", self.id)]
        action["context"] = {}
        if self.nordic_collection_case_count == 1:
            action.update(view_mode="form", res_id=self.nordic_collection_case_ids.id, views=[(False, "form")])
        return action

    def action_nordic_notify_agency(self):
        """The customer disputes a handed-over invoice: ask the agency to pause its case."""
        cases = self.nordic_collection_case_ids.filtered(lambda c: c.state not in ("withdrawn", "cancelled", "paid"))
        if not cases:
            raise UserError(_("No open collection case for these invoices."))
        cases.action_notify_agency()
        return True

    # ------------------------------------------------------------------
    # Tandvårdsstöd: all collection measures taken
    # ------------------------------------------------------------------

    nordic_collection_exhausted = fields.Boolean(
        "All collection measures taken",
        compute="_compute_nordic_collection_exhausted",
        store=True,
        index="btree_not_null",
        help="Tandvårdsstöd may be claimed: the patient paid, or every dunning level was executed, the case was "
        "handed over and the agency reported an outcome that ends collection.",
    )
    # Not stored: the reason changes with every dunning level, the flag only when collection ends.
    nordic_collection_exhausted_reason = fields.Char(
        "Support claim",
        compute="_compute_nordic_collection_exhausted_reason",
        help="Why the support claim is ready, or what is still missing.",
    )

    @api.depends(*EXHAUSTED_DEPENDS)
    def _compute_nordic_collection_exhausted(self):
        invoices = self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        (self - invoices).nordic_collection_exhausted = False
        # Only a paid or a handed-over invoice can be ready: the others need no reading of events or cases.
        candidates = invoices.filtered(
            lambda m: m.payment_state in ("paid", "in_payment") or m.nordic_dunning_state == "handed_over"
        )
        (invoices - candidates).nordic_collection_exhausted = False
        outcomes = candidates._nordic_collection_outcomes()
        for move in candidates:
            move.nordic_collection_exhausted = move._nordic_exhausted_state(outcomes.get(move.id))[0]

    @api.depends(*EXHAUSTED_DEPENDS)
    def _compute_nordic_collection_exhausted_reason(self):
        invoices = self.filtered(lambda m: m.move_type == "out_invoice" and m.state == "posted")
        (self - invoices).nordic_collection_exhausted_reason = False
        outcomes = invoices._nordic_collection_outcomes()
        for move in invoices:
            move.nordic_collection_exhausted_reason = move._nordic_exhausted_state(outcomes.get(move.id))[1]

    def _nordic_exhausted_state(self, outcome):
        """(ready, reason) of one invoice given its collection ``outcome`` (see _nordic_collection_outcomes)."""
        self.ensure_one()
        if self.payment_state in ("paid", "in_payment"):
            return True, _("Paid by the patient.")
        policy = self.nordic_dunning_policy_id
        if not policy:
            return False, _("No dunning policy: no measure was taken.")
        done_levels = self.nordic_dunning_event_ids.filtered(lambda e: e.state == "done").level_id
        missing = policy.level_ids - done_levels
        if missing:
            return False, _("Not executed yet: %s.", ", ".join(missing.sorted("sequence").mapped("name")))
        if self.nordic_dunning_state != "handed_over":
            return False, _("Not handed over to collection.")
        if not outcome:
            return False, _("Handed over; the agency has not reported an outcome that ends collection.")
        return True, _("All measures taken: %s.", outcome)

    def _nordic_collection_cases(self):
        """{invoice id: its collection cases}, read as superuser (the evidence is shown to invoice users)."""
        result = {}
        for case in self.env["nordic.collection.case"].sudo().search([("move_id", "in", self.ids)]):
            result.setdefault(case.move_id.id, case.browse())
            result[case.move_id.id] |= case
        return result

    def _nordic_collection_outcomes(self):
        """{invoice id: label of the agency outcome that ends collection} for those that have one."""
        outcomes = {}
        states = dict(self.env["nordic.collection.case"]._fields["state"]._description_selection(self.env))
        for move_id, cases in self._nordic_collection_cases().items():
            for case in cases.filtered(lambda c: c.state in ENDING_CASE_STATES):
                outcomes[move_id] = _("agency reported %s", states[case.state])
        return outcomes

    def _nordic_collection_case_changed(self):
        """The cases of these invoices changed state: their support-claim flag must be recomputed."""
        self.env.add_to_compute(self._fields["nordic_collection_exhausted"], self)
        self.invalidate_recordset(["nordic_collection_exhausted_reason"])

    # ------------------------------------------------------------------
    # Evidence
    # ------------------------------------------------------------------

    def _nordic_collection_measures(self):
        """Every measure taken on this invoice, oldest first: dicts with date, measure, channel, document."""
        self.ensure_one()
        measures = []
        if self.nordic_is_sent:
            measures.append(
                {
                    "date": self.nordic_sent_date or self.invoice_date,
                    "measure": _("Invoice %(name)s sent, due %(due)s", name=self.name, due=self.invoice_date_due),
                    "channel": _("Attested") if self.nordic_sent_attested else _("Odoo"),
                    "document": self.name,
                }
            )
        for event in self.nordic_dunning_event_ids.filtered(lambda e: e.state == "done").sorted(
            lambda e: (e.date, e.id)
        ):
            channels = [
                label
                for flag, label in (
                    (event.channel_email, _("E-mail")),
                    (event.channel_letter, _("Letter")),
                    (event.channel_call, _("Call")),
                )
                if flag
            ]
            documents = [
                doc
                for doc in (
                    event.letter_attachment_id.name,
                    event.mail_message_id.subject,
                    event.activity_id.summary,
                )
                if doc
            ]
            measures.append(
                {
                    "date": event.date,
                    "measure": event.level_id.name,
                    "channel": ", ".join(channels) or "-",
                    "document": ", ".join(documents) or event.name,
                }
            )
        for case in self._nordic_collection_cases().get(self.id, []):
            states = dict(case._fields["state"]._description_selection(self.env))
            handover = case.event_id.date
            measures.append(
                {
                    "date": handover or fields.Date.to_date(case.create_date),
                    "measure": _("Handed over to collection: case %s", case.display_name),
                    "channel": case.agency_id.display_name,
                    "document": _("State: %s", states.get(case.state, case.state)),
                }
            )
            # The agency's reports (status history): each one is a measure with its date.
            for entry in case.history_ids:
                if entry.old_state == entry.new_state or entry.new_state in ("to_submit", "submitting"):
                    continue
                measures.append(
                    {
                        "date": fields.Date.to_date(entry.date),
                        "measure": _("Collection case: %s", states.get(entry.new_state, entry.new_state)),
                        "channel": _("Collection agency"),
                        "document": entry.agency_status or entry.note or case.display_name,
                    }
                )
        return sorted(measures, key=lambda m: m["date"] or fields.Date.today())

    def action_nordic_print_evidence(self):
        return self.env.ref("nordic_dunning_collection.action_report_collection_evidence").report_action(self)
