"""A dossier's recorded history, read in the reader's language.

What the portal records about a dossier (event notes, actor labels, the last
forwarding error) is stored once, in Vietnamese human wording, as the record of
what happened. Pages show it in the reader's language: every wording the portal
writes is listed in `MESSAGES` as a message with named parts ("Tiếp nhận tại
{point}"), translated through portal/i18n.py, with its parts put back (each part
read the same way where it is itself a wording of ours, such as the reason inside
a note; names, codes and the city's own words stay as they are). Spellings that
older versions stored (English machine labels such as "worker: forward to city")
are listed as other spellings of the same message, so old rows read right too.

What the city system writes (its status notes) is its own words: Vietnamese pages
show them as they came, English pages quote them as the city's (lang="vi").
Whoever makes the portal record a new wording adds it here;
tests/portal/test_history_language.py reads every line of real histories in both
languages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from agents.dossiers.models import DossierState
from portal.core.i18n import N_
from portal.i18n import translate

_PART = re.compile(r"\{(\w+)\}")
# Parts that are always of one shape; any other part is "some text".
_PART_SHAPES = {"status": r"\d{3}"}
# Parts that are themselves one of the portal's wordings (read the same way); every
# other part (a name, a code, the city's own words) stays exactly as it was stored.
_WORDING_PARTS = {"reason"}


@dataclass(frozen=True)
class RecordedMessage:
    """One wording the portal stores, with its named parts, and older spellings of it."""

    vietnamese: str  # what the portal stores today; also the key of its translation
    also: tuple[str, ...] = field(default=())

    @cached_property
    def _patterns(self) -> tuple[re.Pattern[str], ...]:
        return tuple(_pattern(spelling) for spelling in (self.vietnamese, *self.also))

    def parts_of(self, text: str) -> dict[str, str] | None:
        for pattern in self._patterns:
            found = pattern.fullmatch(text)
            if found:
                return found.groupdict()
        return None


def _pattern(spelling: str) -> re.Pattern[str]:
    out, last = [], 0
    for part in _PART.finditer(spelling):
        out.append(re.escape(spelling[last : part.start()]))
        out.append(f"(?P<{part.group(1)}>{_PART_SHAPES.get(part.group(1), '.+?')})")
        last = part.end()
    out.append(re.escape(spelling[last:]))
    return re.compile("".join(out), re.S)


MESSAGES: tuple[RecordedMessage, ...] = (
    # event notes and actors written by agents/dossiers/filing.py and forwarding.py
    RecordedMessage("Tiếp nhận tại {point}"),
    RecordedMessage("Hệ thống một cửa đã nhận hồ sơ, mã hồ sơ {code}"),
    RecordedMessage("Hệ thống một cửa từ chối: {reason}"),
    RecordedMessage("Cổng đại lý (tự động gửi hồ sơ)", also=("worker: forward to city",)),
    RecordedMessage("Cổng đại lý (tự động hỏi trạng thái)", also=("worker: status poll",)),
    # failures as agents/city/client.py words them (kept as the dossier's last error, and in notes)
    RecordedMessage("Không kết nối được tới hệ thống một cửa", also=("city system unreachable: {detail}",)),
    RecordedMessage(
        "Hệ thống một cửa tạm thời không xử lý được yêu cầu (mã lỗi {status})", also=("city system answered {status}",)
    ),
    RecordedMessage(
        "Hệ thống một cửa không chấp nhận thông tin xác thực của cổng (mã lỗi 401)",
        also=("city system refused our client credentials (401)",),
    ),
    RecordedMessage(
        "Hệ thống một cửa không chấp nhận mã truy cập của cổng (mã lỗi 401)",
        also=("city system refused our access token (401)",),
    ),
    RecordedMessage(
        "“{city_words}” (mã lỗi {status}, trường {field})", also=("{status} {city_words} (field {field})",)
    ),
    RecordedMessage("“{city_words}” (mã lỗi {status})", also=("{status} {city_words}",)),
    # payments/confirmation.py and payments/refunds.py: the fee paid, and given back, through VNPay
    RecordedMessage("Đã nộp lệ phí {amount} đồng qua VNPay"),
    RecordedMessage("Đã hoàn {amount} đồng qua VNPay"),
    # the actor of a dossier a partner's system filed (agents/api_clients/service.py labels it in English)
    RecordedMessage(
        "Ứng dụng {client} ({client_id}) của {owner}", also=("API client {client} ({client_id}) for {owner}",)
    ),
)

CITY = N_("Hệ thống một cửa")
CITY_NOTE = N_("Ghi chú của hệ thống một cửa (nguyên văn tiếng Việt):")
REFUSED_FOR_CITIZENS = N_("Hệ thống một cửa từ chối nhận hồ sơ; vui lòng liên hệ điểm tiếp nhận")


def recorded(text: str | None, language: str) -> str:
    """A stored wording of the portal's, in `language`; text it does not know stays as it is."""
    if not text:
        return ""
    for message in MESSAGES:
        parts = message.parts_of(text)
        if parts is not None:
            wording = translate(message.vietnamese, language)
            return wording.format(
                **{
                    name: recorded(value, language) if name in _WORDING_PARTS else value
                    for name, value in parts.items()
                }
            )
    return text


@dataclass(frozen=True)
class HistoryLine:
    event: Any  # the DossierEvent: time and status
    by: str  # who did it, in the reader's language
    note: str  # what happened, in the reader's language
    quote: str = ""  # the city's own words, shown as they came (Vietnamese)


def history_lines(dossier: Any, point_name: str, language: str, *, for_staff: bool) -> list[HistoryLine]:
    """The dossier's history as a reader sees it: staff see who did what; citizens see the point."""
    lines = []
    for event in dossier.timeline:
        if event.source == "city":
            by = translate(CITY, language)
            if language == "vi" or not event.note:
                lines.append(HistoryLine(event, by, event.note))
            else:
                lines.append(HistoryLine(event, by, translate(CITY_NOTE, language), quote=event.note))
            continue
        by = recorded(event.actor, language) if for_staff else point_name
        if event.state == DossierState.rejected.value and not for_staff:
            note = translate(REFUSED_FOR_CITIZENS, language)  # the city's technical reason is for staff
        else:
            note = recorded(event.note, language)
        lines.append(HistoryLine(event, by, note))
    return lines
