"""Vietnamese first, English complete: the request's language, and texts said in it.

The language is resolved once per request (`request_language`: the `lang` cookie, then
`Accept-Language`, then Vietnamese) and kept on `request.state`; templates, error pages
and JSON error messages all read it there. `translate` says a msgid or a
`portal.core.i18n.Message` in a language, from the gettext catalogues in
`portal/translations` (Vietnamese is the source: no catalogue, the msgid is the text).
docs/decisions/0010-translations.md explains the design.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from litestar.connection import ASGIConnection

from portal.core.i18n import N_, SOURCE_LANGUAGE, Message
from portal.translations import TRANSLATED_LANGUAGES, po_file

log = logging.getLogger(__name__)

LANGUAGES = (SOURCE_LANGUAGE, *TRANSLATED_LANGUAGES)
LANGUAGE_COOKIE = "lang"

# Labels of enum values shown on pages (roles, statuses, kinds).
VALUE_LABELS: dict[str, str] = {
    "agent_staff": N_("Nhân viên đại lý"),
    "point_lead": N_("Trưởng điểm"),
    "partner_manager": N_("Quản lý đối tác"),
    "center_admin": N_("Quản trị Trung tâm"),
    "auditor": N_("Kiểm toán viên"),
    "pending": N_("Chờ duyệt"),
    "approved": N_("Đã duyệt"),
    "closed": N_("Đã đóng"),
    "active": N_("Đang hoạt động"),
    "suspended": N_("Tạm dừng"),
    "applied": N_("Đã đăng ký, chờ duyệt"),
    "ended": N_("Đã chấm dứt"),
    "before": N_("Thu trước khi giải quyết"),
    "after": N_("Thu sau khi giải quyết"),
    "none": N_("Không thu"),
    "post": N_("Bưu chính"),
    "telco": N_("Viễn thông"),
    "retail": N_("Bán lẻ"),
    "bank": N_("Ngân hàng"),
}


# -- the request's language ------------------------------------------------------------


def language_from_header(accept_language: str | None) -> str | None:
    """The best of our languages in an `Accept-Language` header (RFC 9110 §12.5.4), or None."""
    best: tuple[float, int, str] | None = None
    for position, item in enumerate((accept_language or "").split(",")):
        tag, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            candidate = (-quality, position, primary)
            best = candidate if best is None or candidate < best else best
    return best[2] if best else None


def resolve_language(cookie: str | None, accept_language: str | None) -> str:
    """The person's choice (cookie) first, then the browser's, then Vietnamese."""
    if cookie in LANGUAGES:
        return cookie
    return language_from_header(accept_language) or SOURCE_LANGUAGE


def request_language(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The language of this request: resolved by the first caller, kept on `request.state`.

    Resolved on first use rather than in a middleware, because Litestar runs middleware
    only for matched routes, and a 404 for an unknown address must speak the language too.
    """
    state: dict[str, Any] = connection.scope.setdefault("state", {})
    language = state.get("language")
    if language is None:
        language = state["language"] = resolve_language(
            connection.cookies.get(LANGUAGE_COOKIE), connection.headers.get("accept-language")
        )
    return str(language)


# -- the catalogues ----------------------------------------------------------------------


@functools.cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The translations of `language`, compiled from its .po in memory once per process.

    The source language (and any language we have no catalogue for) gets the null
    catalogue: the msgid is the text. Fuzzy entries are left out, as gettext does.
    """
    if language not in TRANSLATED_LANGUAGES:
        return gettext.NullTranslations()
    with po_file(language).open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def load_catalogues() -> None:
    """Compile every catalogue now, so a broken .po stops the start instead of a page."""
    for language in TRANSLATED_LANGUAGES:
        catalogue(language)


def translate(text: str, language: str) -> str:
    """Say `text` in `language`: a msgid, or a `Message` with its parameters.

    A text that is not in the catalogue (a name, a reason someone typed, an outside
    system's words) comes back as it is.
    """
    if not text or language == SOURCE_LANGUAGE:
        return str(text)  # a Message is already the Vietnamese rendering
    translations = catalogue(language)
    if not isinstance(text, Message):
        return translations.gettext(text)
    if text.plural is None:
        wording = translations.gettext(text.msgid)
    else:
        wording = translations.ngettext(text.msgid, text.plural, text.n if text.n is not None else 1)
    if not text.params:
        return wording
    params = {
        name: translate(value, language) if isinstance(value, Message) else value for name, value in text.params.items()
    }
    try:
        return wording % params
    except (KeyError, ValueError, TypeError):
        log.warning("translation of %r into %s does not fit its parameters; shown in Vietnamese", text.msgid, language)
        return str(text)


def translate_errors(field_errors: dict[str, str], language: str) -> dict[str, str]:
    return {name: translate(message, language) for name, message in field_errors.items()}
