"""Texts for people, written where the reader's language is not known (domain, workers, CLI).

Vietnamese is the source language: every msgid *is* the Vietnamese text. Code below the
web layer never translates. It marks texts so that `pybabel extract` finds them and keeps
each text's parameters with it; the web layer (`portal.i18n.translate`) says it in the
request's language from the gettext catalogue. See docs/decisions/0010-translations.md.

- `N_("…")` marks a literal that is stored or passed on and translated later (field
  errors, labels, module constants). It returns the literal unchanged.
- `Message("… %(name)s …", name=value)` is a text with parameters. As a `str` it is the
  Vietnamese rendering, so logs, audit details and tests read it as they always did; it
  also keeps `msgid` and `params`, so it can be rendered again in another language.
- `PluralMessage(singular, plural, n, …)` is the same for a text with a count (`%(num)d`).

Raising a domain error needs none of these: `NotFound("Không tìm thấy hồ sơ")` and
`NotFound("Không có thủ tục mã %(code)s", params={"code": code})` are extracted because
every `DomainError` class name is an extraction keyword (portal/translations/__init__.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SOURCE_LANGUAGE = "vi"


def N_(msgid: str) -> str:  # noqa: N802 (the name gettext tools know)
    """Mark `msgid` for extraction without translating it now (gettext's `gettext_noop`)."""
    return msgid


class Message(str):
    """A Vietnamese text that remembers its msgid and parameters.

    Parameters that are themselves `Message`s are translated too; anything else (a name,
    a number, a reason someone typed) is shown as it is.
    """

    msgid: str
    plural: str | None
    n: int | None
    params: Mapping[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Message:
        return cls._make(msgid, None, None, params)

    @classmethod
    def _make(cls, msgid: str, plural: str | None, n: int | None, params: Mapping[str, Any]) -> Message:
        source = msgid if plural is None or n == 1 else plural
        self = str.__new__(cls, source % params if params else source)
        self.msgid, self.plural, self.n, self.params = msgid, plural, n, dict(params)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.msgid, self.plural, self.n, self.params))


class PluralMessage(Message):
    """A text whose wording depends on a count; `%(num)d` in it is the count.

    Vietnamese does not inflect, so `singular` and `plural` are usually the same text;
    the English catalogue gives both forms.
    """

    def __new__(cls, singular: str, plural: str, n: int, /, **params: Any) -> PluralMessage:
        return cls._make(singular, plural, n, {"num": n, **params})  # type: ignore[return-value]


def _rebuild(cls: type[Message], msgid: str, plural: str | None, n: int | None, params: Mapping[str, Any]) -> Message:
    return cls._make(msgid, plural, n, params)
