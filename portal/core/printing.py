"""Printed output: HTML to an A5 PDF (WeasyPrint), and QR codes as inline SVG (segno).

Receipts are rendered from the same Jinja templates as their pages; this module only
turns the finished HTML into PDF bytes. WeasyPrint shapes text with Pango/HarfBuzz, so
Vietnamese tone marks are placed right even in decomposed (NFD) text; the HTML is
NFC-normalised anyway, so the PDF's text layer (copy, search, `pdftotext`) holds the
precomposed letters people type and search for.

Debian runtime libraries: libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0, and the
font fonts-noto-core (Noto Sans covers Vietnamese); `./run` installs them.

The renderer fetches nothing: only `data:` URLs are allowed, so a value that slipped into
a template as markup cannot make the server read a local file or call a URL. Styles are
passed as strings and images inline (the QR as SVG).
"""

from __future__ import annotations

import unicodedata

import segno
from markupsafe import Markup
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher

# The defaults of a printed page; a template's own CSS (author styles) overrides them.
PAGE_CSS = """
@page { size: A5 portrait; margin: 10mm; }
html { font-family: "Noto Sans", sans-serif; font-size: 10pt; line-height: 1.35; }
"""


def render_pdf(html: str, *, stylesheets: tuple[str, ...] = ()) -> bytes:
    """PDF bytes of `html`, on A5 pages unless its CSS says otherwise."""
    document = HTML(string=unicodedata.normalize("NFC", html), url_fetcher=URLFetcher(allowed_protocols=("data",)))
    pdf: bytes = document.write_pdf(stylesheets=[CSS(string=PAGE_CSS), *(CSS(string=css) for css in stylesheets)])
    return pdf


def qr_svg(data: str, *, size_mm: float = 30.0, title: str | None = None) -> Markup:
    """An inline <svg> QR code of `data`, `size_mm` wide including its quiet zone (4 modules)."""
    code = segno.make(data, error="m", micro=False)
    border = 4
    width, _ = code.symbol_size(scale=1, border=border)
    svg = code.svg_inline(scale=size_mm / width, unit="mm", border=border, title=title, dark="#000", light="#fff")
    return Markup(svg)  # noqa: S704 - segno writes the SVG; the title is escaped by segno
