"""Documents for the counter's tests: small real files, and the clamd the portal under test scans with.

Filing through a draft needs the procedure's mandatory documents, so the helpers that file
(`PortalClient.form_defaults`, the e2e `file_at_the_counter`) upload one small PDF into each.
"""

from __future__ import annotations

import io
import re
from functools import cache

from pypdf import PdfWriter

from portal.scanner_daemon import ClamdDaemon, start_clamd

MANDATORY_SLOT = re.compile(r'data-slot="([^"]+)" data-mandatory')
_started: list[ClamdDaemon] = []


@cache
def a_pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=420, height=595)  # A5
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def ensure_portal_clamd() -> ClamdDaemon:
    """The clamd at the socket the portal's settings name (the var folder's), started once per run."""
    from portal.core.settings import get_settings

    if not _started:
        _started.append(start_clamd(get_settings().var_dir))
    return _started[0]


def stop_portal_clamd() -> None:
    while _started:
        _started.pop().stop()


def mandatory_slots(draft_page: str) -> list[str]:
    return MANDATORY_SLOT.findall(draft_page)
