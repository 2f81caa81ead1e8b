"""What a run sends: e-mails, letters and planned calls, never from a test database (the e-mails and letters
are produced by the sending jobs, nordic_dunning_run_sending.py)."""
# pylint: disable=consider-merging-classes-inherited

from collections import defaultdict

from odoo import _, api, models
from odoo.tools import str2bool


# The run's model is split by concern, one file each (selection, charges, guard, execution, booking,
# communication), to keep every file short.
# pylint: disable=consider-merging-classes-inherited
class NordicDunningRun(models.Model):
    _inherit = "nordic.dunning.run"

    def _handover(self, events):
        """Hook: these events reached a hand-over level. The engine only records the measure; the
        collection addon (nordic_dunning_collection) opens a case at the agency for each event."""

    def _communicate(self, events, send=True, letters=True):
        """Call activities now; fees, e-mails and letters enqueued as jobs; nothing leaves a test database.

        ``send`` and ``letters`` are for the product's own callers (benchmarks, demo data, tests), never a
        context a caller could set: over RPC a run is confirmed with everything it sends. Fees are booked
        (by the jobs) whatever they say."""
        neutralized = self._nordic_is_test_database()
        self.write({"send_emails": send and not neutralized, "send_letters": send and letters and not neutralized})
        if send:
            events = events.sudo()  # the documents are recorded on the audit trail by the product (tools/system)
            if neutralized:
                self._withhold(events)
            self._plan_calls(events.filtered("channel_call"))
        self._enqueue_sending()

    @api.model
    def _nordic_is_test_database(self):
        """A neutralized database (a copy of production for tests) must never reach real customers."""
        return str2bool(self.env["ir.config_parameter"].sudo().get_param("database.is_neutralized") or "0")

    def _withhold(self, events):
        """Record on the run what a production database would have sent."""
        mails = events.filtered(lambda e: e.channel_email and e.partner_id.email)
        letters = events.filtered("channel_letter")
        if not mails and not letters:
            return
        names = sorted(set((mails | letters).partner_id.mapped("display_name")))
        note = _(
            "Test database (neutralized): %(mails)s e-mail(s) and %(letters)s letter(s) were withheld; "
            "customers: %(names)s",
            mails=len(mails),
            letters=len(letters),
            names=", ".join(names[:50]) + (_(" and %s more", len(names) - 50) if len(names) > 50 else ""),
        )
        self.withheld_note = note
        self.message_post(body=note)

    def _send_emails(self, events):
        by_template = defaultdict(events.browse)
        default = self.env.ref("nordic_dunning.mail_template_dunning_event", raise_if_not_found=False)
        for event in events.filtered(lambda e: e.partner_id.email):
            template = event.level_id.mail_template_id or default
            if template:
                by_template[template] |= event
        for template, recs in by_template.items():
            mails = template.send_mail_batch(recs.ids)
            messages = {mail.res_id: mail.mail_message_id.id for mail in mails}
            for event in recs:
                if messages.get(event.id):
                    event.mail_message_id = messages[event.id]

    def _plan_calls(self, events):
        if not events:
            return
        activity_type = self.env.ref("mail.mail_activity_data_call")
        model_id = self.env["ir.model"]._get_id("account.move")
        activities = self.env["mail.activity"].create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": event.move_id.id,
                    "activity_type_id": activity_type.id,
                    "summary": _(
                        "Call about %(invoice)s (%(level)s)", invoice=event.move_id.name, level=event.level_id.name
                    ),
                    "user_id": (event.move_id.invoice_user_id or self.env.user).id,
                    "date_deadline": event.date,
                }
                for event in events
            ]
        )
        for event, activity in zip(events, activities):
            event.activity_id = activity

    def _render_letters(self, events):
        if not events:
            return
        report = self.env.ref("nordic_dunning.action_report_dunning_letter")
        content, _fmt = self.env["ir.actions.report"]._render_qweb_pdf(report, events.ids)
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"{self.name.replace('/', '-')}-letters.pdf",
                "raw": content,
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/pdf",
            }
        )
        self.letter_attachment_id = attachment
        events.write({"letter_attachment_id": attachment.id})
