"""What a run sends: e-mails, letters and planned calls, never from a test database (the e-mails and letters
are produced by the sending jobs, nordic_dunning_run_sending.py)."""
# pylint: disable=consider-merging-classes-inherited

import io
from collections import defaultdict

from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every, str2bool
from odoo.tools.pdf import PdfReader, PdfWriter, merge_pdf

from ..tools.system import as_system

# Notices rendered per wkhtmltopdf call: one process and one page load for many letters (measured: see the
# README); the split PDF is held in memory, so the chunk stays moderate.
LETTERS_PER_CALL = 100


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
        (by the jobs) whatever they say; without ``letters`` no PDF is rendered and the e-mails go without the
        letter attached."""
        neutralized = self._nordic_is_test_database()
        self.write({"send_emails": send and not neutralized, "send_letters": send and letters and not neutralized})
        if send:
            events = events.sudo()  # the documents are recorded on the audit trail by the product (tools/system)
            if neutralized:
                self._withhold(events)
            else:
                # The notices are written here, in the confirming transaction, so that letter and e-mail jobs
                # working on the same events in parallel find them (see _notices_for).
                self._notices_for(events.filtered(lambda e: e.channel_email or e.channel_letter))
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

    # ------------------------------------------------------------------
    # Notices: one letter and one e-mail per customer and level (policy option), or per invoice
    # ------------------------------------------------------------------

    def _notices_for(self, events):
        """The notices of ``events`` (of this run), written for those that have none yet.

        The events without a notice are locked first: two jobs on the same events (the letter and the e-mail
        of a chunk) never write two notices for them; the second finds the first's once it commits. A chunk
        always holds all of a customer's events in the run, so the grouping is the customer's whole notice."""
        self.ensure_one()
        events = events.sudo()
        missing = events.filtered(lambda e: not e.notice_id)
        if missing:
            self.env.cr.execute(
                "SELECT id FROM nordic_dunning_event WHERE id = ANY(%s) AND notice_id IS NULL ORDER BY id FOR UPDATE",
                [missing.ids],
            )
            free = events.browse([row[0] for row in self.env.cr.fetchall()])
            missing.invalidate_recordset(["notice_id"])
            self._create_notices(free)
        return events.notice_id

    def _create_notices(self, events):
        """Group ``events`` per customer, level, company and currency (per event when the policy's option
        "One reminder per customer" is off) and write one notice per group, set-based."""
        if not events:
            return
        combine = self.policy_id.combine_notices
        groups = defaultdict(list)
        for event in events:
            key = (event.partner_id, event.level_id, event.company_id, event.currency_id)
            groups[(*key, 0 if combine else event.id)].append(event)
        vals_list = []
        for (partner, level, company, currency, _event), members in groups.items():
            amounts = {
                name: currency.round(sum(event[name] for event in members))
                for name in ("amount_residual", "fee_amount", "interest_amount", "compensation_amount", "amount_total")
            }
            deadlines = [event.deadline_date for event in members if event.deadline_date]
            vals_list.append(
                {
                    "run_id": self.id,
                    "partner_id": partner.id,
                    "level_id": level.id,
                    "company_id": company.id,
                    "currency_id": currency.id,
                    "date": min(event.date for event in members),
                    "deadline_date": min(deadlines) if deadlines else False,
                    "event_count": len(members),
                    **amounts,
                }
            )
        notices = (
            as_system(self.env["nordic.dunning.notice"].sudo())
            .with_context(mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True)
            .create(vals_list)
        )
        event_ids, notice_ids = [], []
        for notice, members in zip(notices, groups.values()):
            event_ids += [event.id for event in members]
            notice_ids += [notice.id] * len(members)
        self.env.cr.execute(
            """
            UPDATE nordic_dunning_event e SET notice_id = v.notice_id
              FROM unnest(%s::int[], %s::int[]) AS v(event_id, notice_id)
             WHERE e.id = v.event_id AND e.notice_id IS NULL
            """,
            [event_ids, notice_ids],
        )
        events.invalidate_recordset(["notice_id"])
        notices.invalidate_recordset(["event_ids"])

    def _lock_notices_without(self, notices, field):
        """``notices`` that still have no ``field`` (``attachment_id``, ``mail_message_id``), locked until this
        transaction ends: a concurrent job producing the same document waits, then skips them."""
        todo = notices.filtered(lambda n: not n[field])
        if not todo:
            return todo
        self.env.cr.execute(
            SQL(
                "SELECT id FROM nordic_dunning_notice WHERE id = ANY(%s) AND %s IS NULL ORDER BY id FOR UPDATE",
                todo.ids,
                SQL.identifier(field),
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        notices.invalidate_recordset([field])
        return todo.browse(ids)

    def _record_on_notices(self, field, pairs):
        """Write ``field`` of notices once from ``pairs`` of (notice id, document id), in one statement."""
        if not pairs:
            return
        notice_ids, document_ids = zip(*pairs)
        self.env.cr.execute(
            SQL(
                """
                UPDATE nordic_dunning_notice n SET %(field)s = v.document_id
                  FROM unnest(%(notices)s::int[], %(documents)s::int[]) AS v(notice_id, document_id)
                 WHERE n.id = v.notice_id AND n.%(field)s IS NULL
                """,
                field=SQL.identifier(field),
                notices=list(notice_ids),
                documents=list(document_ids),
            )
        )
        self.env["nordic.dunning.notice"].browse(notice_ids).invalidate_recordset([field])

    def _record_on_events(self, events, event_field, notice_field):
        """Each of ``events`` records its notice's document (the evidence trail), once, in one statement."""
        self.env.cr.execute(
            SQL(
                """
                UPDATE nordic_dunning_event e SET %(event_field)s = n.%(notice_field)s
                  FROM nordic_dunning_notice n
                 WHERE n.id = e.notice_id AND e.id = ANY(%(events)s)
                   AND e.%(event_field)s IS NULL AND n.%(notice_field)s IS NOT NULL
                """,
                event_field=SQL.identifier(event_field),
                notice_field=SQL.identifier(notice_field),
                events=events.ids,
            )
        )
        events.invalidate_recordset([event_field])

    # ------------------------------------------------------------------
    # Letters
    # ------------------------------------------------------------------

    def _render_letters(self, events):
        """The letter of each of ``events`` with the letter channel: its notice's PDF, rendered many notices
        per wkhtmltopdf call, stored on the notice and recorded on each event. Events that already record
        their letter are left alone (a retried job renders nothing twice)."""
        events = events.sudo().filtered(lambda e: e.channel_letter and not e.letter_attachment_id)
        if not events:
            return
        self._render_notice_pdfs(self._notices_for(events))
        self._record_on_events(events, "letter_attachment_id", "attachment_id")

    def _render_notice_pdfs(self, notices):
        """Render the notices that have no PDF yet, ``LETTERS_PER_CALL`` per wkhtmltopdf call, and store each
        notice's part of the PDF as its attachment (the report's ``attachment`` name), recorded on the notice.

        Odoo's own multi-record rendering passes one HTML document per record to wkhtmltopdf and splits by
        the PDF's outlines; Debian's wkhtmltopdf (unpatched Qt) accepts neither several documents nor
        outlines. So the notices of a call are one document, each starting on a new page with its letter
        number, and the PDF is split where the next notice's letter number appears (_split_notice_pdf)."""
        todo = self._lock_notices_without(notices.sudo(), "attachment_id")
        if not todo:
            return
        report = self.env.ref("nordic_dunning.action_report_dunning_letter").sudo()
        for chunk in split_every(LETTERS_PER_CALL, todo.ids, todo.browse):
            context = report._get_rendering_context(report, chunk.ids, {"report_type": "pdf"})
            html = report.with_context(debug=False)._render_template(
                "nordic_dunning.report_dunning_letter_batch", context
            )
            bodies, _ids, header, footer, paperformat_args = report._prepare_html(html, report_model=report.model)
            content = report._run_wkhtmltopdf(
                bodies,
                report_ref=report.report_name,
                header=header,
                footer=footer,
                specific_paperformat_args=paperformat_args,
            )
            attachments = (
                self.env["ir.attachment"]
                .sudo()
                .create(
                    [
                        {
                            "name": notice._letter_filename(),
                            "raw": part,
                            "res_model": notice._name,
                            "res_id": notice.id,
                            "mimetype": "application/pdf",
                        }
                        for notice, part in zip(chunk, self._split_notice_pdf(chunk, content))
                    ]
                )
            )
            self._record_on_notices("attachment_id", list(zip(chunk.ids, attachments.ids)))

    @api.model
    def _split_notice_pdf(self, notices, content):
        """``content``, the PDF of ``notices`` in order, as one PDF per notice: a notice starts on the page
        that carries its letter number's link (its first page, see the letter template). Reading the pages'
        link annotations costs next to nothing, where extracting their text took most of the time."""
        reader = PdfReader(io.BytesIO(content))
        markers = [notice._letter_link() for notice in notices]
        starts = []
        for number, page in enumerate(reader.pages):
            if len(starts) < len(markers) and markers[len(starts)] in self._pdf_page_links(page):
                starts.append(number)
        if len(starts) != len(notices) or starts[0] != 0:
            raise UserError(
                _(
                    "The letters of %(notices)s could not be split from their common PDF (%(found)s of %(count)s "
                    "letter numbers found); check the letter template.",
                    notices=", ".join(notices[:5].mapped("display_name")),
                    found=len(starts),
                    count=len(notices),
                )
            )
        parts = []
        for first, end in zip(starts, [*starts[1:], len(reader.pages)]):
            writer = PdfWriter()
            for number in range(first, end):
                writer.add_page(reader.pages[number])
            with io.BytesIO() as stream:
                writer.write(stream)
                parts.append(stream.getvalue())
        return parts

    @staticmethod
    def _pdf_page_links(page):
        """The URIs of ``page``'s link annotations."""
        annotations = page.get("/Annots")
        links = set()
        for annotation in annotations.get_object() if annotations is not None else []:
            action = annotation.get_object().get("/A")
            if action is not None and action.get("/URI"):
                links.add(str(action["/URI"]))
        return links

    def _letters_batch_action(self):
        """Download the run's print batch: every letter's stored PDF merged into one (none re-rendered)."""
        self.ensure_one()
        if self.letter_attachment_id:
            return self._download_action(self.letter_attachment_id)
        notices = self.event_ids.sudo().filtered("channel_letter").notice_id
        if not notices:
            raise UserError(_("No letter in this run."))
        self._render_notice_pdfs(notices)  # a run confirmed without letters (benchmarks, demo data)
        notices = notices.sorted(lambda n: (n.partner_id.name or "", n.id))
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": f"{self.name.replace('/', '-')}-letters.pdf",
                    "raw": merge_pdf([notice.attachment_id.raw for notice in notices]),
                    "res_model": self._name,
                    "res_id": self.id,
                    "mimetype": "application/pdf",
                }
            )
        )
        self.letter_attachment_id = attachment
        return self._download_action(attachment)

    @api.model
    def _download_action(self, attachment):
        return {"type": "ir.actions.act_url", "url": f"/web/content/{attachment.id}?download=true", "target": "self"}

    # ------------------------------------------------------------------
    # E-mails
    # ------------------------------------------------------------------

    def _send_emails(self, events, with_pdf=True):
        """One e-mail per notice of ``events`` with the e-mail channel, to the customer, with the notice's
        letter attached (rendered first when ``with_pdf`` and it has none); each event records the message.
        Events and notices that already record their e-mail are left alone (a retried job sends nothing twice).

        The level's template is used when it is one for notices; the default notice template otherwise."""
        events = events.sudo().filtered(lambda e: e.channel_email and not e.mail_message_id and e.partner_id.email)
        if not events:
            return
        notices = self._lock_notices_without(self._notices_for(events), "mail_message_id")
        if with_pdf:
            self._render_notice_pdfs(notices)
        default = self.env.ref("nordic_dunning.mail_template_dunning_event")
        by_template = defaultdict(notices.browse)
        for notice in notices:
            template = notice.level_id.mail_template_id
            by_template[template if template.model == notice._name else default] |= notice
        sent = []
        for template, recs in by_template.items():
            mails = template.send_mail_batch(recs.ids)
            sent += [(mail.res_id, mail.mail_message_id.id) for mail in mails]
        self._record_on_notices("mail_message_id", sent)
        self._record_on_events(events, "mail_message_id", "mail_message_id")
