from odoo import models


class MailTemplate(models.Model):
    _inherit = "mail.template"

    def _generate_template_attachments(self, res_ids, render_fields, render_results=None):
        """A dunning notice's e-mail carries the notice's stored letter (the same PDF as the printed one, not a
        new rendering)."""
        render_results = super()._generate_template_attachments(res_ids, render_fields, render_results=render_results)
        if self.model == "nordic.dunning.notice" and "attachment_ids" in render_fields:
            for notice in self.env["nordic.dunning.notice"].sudo().browse(res_ids):
                if notice.attachment_id:
                    values = render_results.setdefault(notice.id, {})
                    values["attachment_ids"] = [*values.get("attachment_ids", []), notice.attachment_id.id]
        return render_results
