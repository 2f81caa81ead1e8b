"""The project's PDF reports carry their own layout: no HTTP fetch by wkhtmltopdf.

Odoo's report layout links the report asset bundles (``/web/assets/.../web.report_assets_common.min.css``)
under a ``<base href>`` of the report URL, and wkhtmltopdf fetches them over HTTP. Where nothing answers on
that URL (a cron or a job worker on a machine without the web server) the fetch fails with
``ConnectionRefusedError`` and the letter loses its layout. For the reports of these addons the bundles are
written into the page instead (read through the asset bundle API, cached per bundle version).

Their text is set in fonts installed on the machine, not in the bundle's web font (Lato): wkhtmltopdf draws a
web font as outlines, so a letter set in it has no text at all (the OCR reference could not be copied, and
pdftotext finds nothing), and with no web server it falls back to a serif font. The logo of a statement is a
``data:`` URI in the page (see report/customer_statement.py).
"""

import re

from markupsafe import Markup

from odoo import models, tools

ASSET_LINK = re.compile(r"""<link\b[^>]*?\bhref=["'](/web/assets/[^"']+\.css)["'][^>]*>""")
ASSET_SCRIPT = re.compile(r"""<script\b[^>]*?\bsrc=["'](/web/assets/[^"']+\.js)["'][^>]*>\s*</script>""")
HEAD_END = re.compile(r"</head>", re.I)
# Installed fonts, after the bundle: DejaVu (fonts-dejavu-core, which Debian's and Ubuntu's wkhtmltopdf pull in),
# else Liberation or Arial.
REPORT_FONTS = (
    '<style type="text/css">'
    'html body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; }'
    'html body .font-monospace { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace !important; }'
    "</style>"
)


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _nordic_is_project_report(self):
        """Whether this is one of the project's reports (letters, statements), by its report name."""
        self.ensure_one()
        return (self.report_name or "").split(".")[0].startswith("nordic_dunning")

    def _nordic_inline_report_assets(self):
        """Whether the asset bundles go into the page (the project's reports): wkhtmltopdf fetches nothing."""
        return self._nordic_is_project_report()

    def _prepare_html(self, html, report_model=False):
        result = super()._prepare_html(html, report_model=report_model)
        if not result or len(self) != 1 or not self._nordic_is_project_report():
            return result
        bodies, res_ids, header, footer, specific_paperformat_args = result
        inline = self._nordic_inline_report_assets()
        return (
            [self._nordic_self_contained_html(body, inline) for body in bodies],
            res_ids,
            self._nordic_self_contained_html(header, inline),
            self._nordic_self_contained_html(footer, inline),
            specific_paperformat_args,
        )

    def _nordic_self_contained_html(self, html, inline=True):
        """``html`` with the report fonts and, with ``inline``, its asset bundle links replaced by the bundles'
        content."""
        if not html:
            return html
        text = HEAD_END.sub(lambda match: REPORT_FONTS + match.group(0), str(html), count=1)
        if inline:

            def style(match):
                return f'<style type="text/css">{self._nordic_asset_content(match.group(1))}</style>'

            def script(match):
                return f'<script type="text/javascript">{self._nordic_asset_content(match.group(1))}</script>'

            text = ASSET_SCRIPT.sub(script, ASSET_LINK.sub(style, text))
        return Markup(text) if isinstance(html, Markup) else text

    @tools.ormcache("url")
    def _nordic_asset_content(self, url):
        """The content of the asset bundle served at ``url`` (its version is in the URL, hence the cache key)."""
        filename = url.rsplit("/", 1)[-1]
        is_css = filename.endswith(".css")
        name = re.sub(r"(\.rtl)?(\.min)?\.(css|js)$", "", filename)
        bundle = self.env["ir.qweb"]._get_asset_bundle(
            name, css=is_css, js=not is_css, rtl=".rtl." in filename, debug_assets=".min." not in filename
        )
        attachments = bundle.css() if is_css else bundle.js()
        return b"\n".join(attachment.raw or b"" for attachment in attachments).decode()

    def retrieve_attachment(self, record):
        """A dunning notice's letter is the PDF the notice records (the evidence), read without a search per
        notice and never re-rendered; one that has none yet is rendered."""
        if self.model == "nordic.dunning.notice":
            return record.attachment_id or None
        return super().retrieve_attachment(record)
