"""The project's PDF reports carry their own layout: no HTTP fetch by wkhtmltopdf.

Odoo's report layout links the report asset bundles (``/web/assets/.../web.report_assets_common.min.css``)
under a ``<base href>`` of the report URL, and wkhtmltopdf fetches them over HTTP. Where nothing answers on
that URL (a cron or a job worker on a machine without the web server) the fetch fails with
``ConnectionRefusedError`` and the letter loses its layout. For the reports of these addons the bundles are
written into the page instead (read through the asset bundle API, cached per bundle version), and the fonts
the style sheet actually uses are embedded as ``data:`` URIs.
"""

import base64
import posixpath
import re

from markupsafe import Markup

from odoo import models, tools
from odoo.tools.misc import file_path

ASSET_LINK = re.compile(r"""<link\b[^>]*?\bhref=["'](/web/assets/[^"']+\.css)["'][^>]*>""")
ASSET_SCRIPT = re.compile(r"""<script\b[^>]*?\bsrc=["'](/web/assets/[^"']+\.js)["'][^>]*>\s*</script>""")
FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")
FONT_FAMILY = re.compile(r"font-family\s*:\s*([^;}]+)")
FONT_USE = re.compile(r"(?<![-\w])font(?:-family)?\s*:\s*([^;}]+)")
FONT_SRC = re.compile(r"\bsrc\s*:\s*([^;}]+)")
URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)(?:\s*format\(\s*['"]?([\w-]+)['"]?\s*\))?""")
# The font formats wkhtmltopdf's WebKit reads, in the order preferred here (one embedded file per face).
FONT_FORMATS = {"woff": "font/woff", "truetype": "font/ttf", "opentype": "font/otf"}
FONT_EXTENSIONS = {"woff": "woff", "ttf": "truetype", "otf": "opentype"}


def _unquote(name):
    return name.strip().strip("'\"").strip()


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _nordic_self_contained(self):
        """Whether this report is one of the project's (letters, statements), rendered without HTTP fetches."""
        self.ensure_one()
        return (self.report_name or "").split(".")[0].startswith("nordic_dunning")

    def _prepare_html(self, html, report_model=False):
        result = super()._prepare_html(html, report_model=report_model)
        if not result or len(self) != 1 or not self._nordic_self_contained():
            return result
        bodies, res_ids, header, footer, specific_paperformat_args = result
        bodies = [self._nordic_inline_assets(body) for body in bodies]
        return (
            bodies,
            res_ids,
            self._nordic_inline_assets(header),
            self._nordic_inline_assets(footer),
            specific_paperformat_args,
        )

    def _nordic_inline_assets(self, html):
        """``html`` with its asset bundle links replaced by the bundles' content."""
        if not html:
            return html

        def style(match):
            return f'<style type="text/css">{self._nordic_asset_content(match.group(1))}</style>'

        def script(match):
            return f'<script type="text/javascript">{self._nordic_asset_content(match.group(1))}</script>'

        inlined = ASSET_SCRIPT.sub(script, ASSET_LINK.sub(style, str(html)))
        return Markup(inlined) if isinstance(html, Markup) else inlined

    @tools.ormcache("url")
    def _nordic_asset_content(self, url):
        """The content of the asset bundle served at ``url`` (its version is in the URL, hence the cache key),
        fonts embedded for a style sheet."""
        filename = url.rsplit("/", 1)[-1]
        is_css = filename.endswith(".css")
        name = re.sub(r"(\.rtl)?(\.min)?\.(css|js)$", "", filename)
        bundle = self.env["ir.qweb"]._get_asset_bundle(
            name, css=is_css, js=not is_css, rtl=".rtl." in filename, debug_assets=".min." not in filename
        )
        attachments = bundle.css() if is_css else bundle.js()
        content = b"\n".join(attachment.raw or b"" for attachment in attachments).decode()
        return self._nordic_embed_fonts(content) if is_css else content

    def _nordic_embed_fonts(self, css):
        """``css`` with the fonts of every family it uses in a declaration embedded as ``data:`` URIs.

        Families only named inside CSS custom properties (``var()``, which wkhtmltopdf's WebKit does not read)
        and unused faces stay as they are: WebKit loads a web font only for text set in it.
        """
        declarations = " | ".join(FONT_USE.findall(FONT_FACE.sub("", css))).lower()

        def embed(match):
            rule = match.group(0)
            family = FONT_FAMILY.search(rule)
            name = family and _unquote(family.group(1)).lower()
            if not name or not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", declarations):
                return rule
            sources = FONT_SRC.findall(rule)
            data_uri = sources and self._nordic_font_data_uri(sources[-1])
            if not data_uri:
                return rule
            body = FONT_SRC.sub("", rule[rule.index("{") + 1 : rule.rindex("}")])
            body = re.sub(r";(\s*;)+", ";", body).strip().strip(";")
            return "@font-face{%s; src: url(%s) format('%s');}" % (body, data_uri[0], data_uri[1])

        return FONT_FACE.sub(embed, css)

    def _nordic_font_data_uri(self, sources):
        """(data URI, format) of the first local font file among the ``src`` list ``sources`` that
        wkhtmltopdf reads, or None."""
        candidates = []
        for match in URL.finditer(sources):
            path = match.group(2).split("?", 1)[0].split("#", 1)[0]
            fmt = match.group(3) or FONT_EXTENSIONS.get(path.rsplit(".", 1)[-1].lower())
            if fmt in FONT_FORMATS and path.startswith("/"):
                candidates.append((list(FONT_FORMATS).index(fmt), fmt, path))
        for _rank, fmt, path in sorted(candidates):
            try:
                with open(file_path(posixpath.normpath(path).lstrip("/")), "rb") as font:
                    content = font.read()
            except (OSError, ValueError):
                continue
            return f"data:{FONT_FORMATS[fmt]};base64,{base64.b64encode(content).decode()}", fmt
        return None
