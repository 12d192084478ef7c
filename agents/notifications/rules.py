"""Pure rules of citizen notifications: recipients, SMS length, message texts, send outcomes. No I/O.

* **Recipients.** :func:`normalise_mobile` (Vietnamese mobile numbers, to
  E.164) and :func:`normalise_email` refuse what cannot be sent to with an
  :class:`InvalidRecipient` carrying a Vietnamese message for the counter form.
* **SMS length.** :func:`sms_segments` counts parts as gateways bill them
  (GSM-7 or UCS-2); :func:`unaccented` turns Vietnamese into GSM-7 text for
  gateways that take unaccented brand-name messages only.
* **Texts.** :func:`sms_text` (fits two segments) and :func:`email_text` for
  each status that matters to the citizen (:class:`NotificationKind`).
* **Outcomes.** What one send attempt came to, the same for every channel:
  :class:`Accepted`, :class:`Refused` (``permanent`` or not) and :class:`RetryLater`.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

# -- outcomes of a send attempt ------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    """The provider took the message: the gateway gave its id, or the SMTP relay answered 250.

    For SMS this is not yet delivery: the gateway's delivery report says that later.
    """

    message_id: str
    #: SMS parts billed (SMS only).
    segments: int | None = None
    #: The provider had already accepted this message (an idempotent retry).
    replayed: bool = False


@dataclass(frozen=True)
class Refused:
    """The provider (or our own check) will not take this message.

    ``permanent``: the message itself can never be sent (bad recipient, text too
    long...): give it up.  Not permanent: our account or configuration was refused
    (API key, brand name, SMTP login, TLS): nothing is wrong with the message, so
    keep it, alert an operator, and send it once the configuration is fixed.
    """

    code: str
    reason: str
    permanent: bool


@dataclass(frozen=True)
class RetryLater:
    """A transient failure (network, timeout, 5xx, 4xx SMTP reply): try again with backoff."""

    reason: str
    #: Seconds the provider asked us to wait (``Retry-After``), if it said.
    retry_after: float | None = None


Outcome = Accepted | Refused | RetryLater


# -- recipients ------------------------------------------------------------------------


class InvalidRecipient(ValueError):
    """A phone number or email address that cannot receive a notification.

    ``code`` is for programs and logs; ``message`` is Vietnamese, for the form field.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
#: Mobile numbers since the 2018 renumbering: 0 + 3/5/7/8/9 + 8 digits.
_MOBILE_NATIONAL = re.compile(r"0([35789]\d{8})")
_MOBILE_INTERNATIONAL = re.compile(r"(?:\+|00)?84([35789]\d{8})")
_LANDLINE = re.compile(r"(?:0|(?:\+|00)?84)2\d{9}")
_OLD_MOBILE = re.compile(r"(?:0|(?:\+|00)?84)1\d{9}")


def normalise_mobile(raw: str) -> str:
    """A Vietnamese mobile number in E.164: ``0912 345 678`` / ``84912345678`` / ``+84 912.345.678`` -> ``+84912345678``.

    Raises :class:`InvalidRecipient` for anything else, saying why (a landline,
    an 11-digit number from before 2018, not a number at all).
    """
    compact = _PHONE_SEPARATORS.sub("", raw or "")
    if not compact:
        raise InvalidRecipient("missing_phone", "Chưa có số điện thoại")
    match = _MOBILE_NATIONAL.fullmatch(compact) or _MOBILE_INTERNATIONAL.fullmatch(compact)
    if match is not None:
        return "+84" + match.group(1)
    if _LANDLINE.fullmatch(compact):
        raise InvalidRecipient("landline", "Đây là số máy bàn, không nhận được tin nhắn SMS")
    if _OLD_MOBILE.fullmatch(compact):
        raise InvalidRecipient(
            "old_mobile_format", "Số di động 11 số đã đổi sang 10 số từ năm 2018, vui lòng nhập số mới"
        )
    if not re.fullmatch(r"\+?\d+", compact):
        raise InvalidRecipient("malformed_phone", "Số điện thoại chỉ gồm chữ số (có thể bắt đầu bằng +84)")
    raise InvalidRecipient("not_mobile", "Số di động không hợp lệ (10 chữ số, bắt đầu bằng 03, 05, 07, 08 hoặc 09)")


_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TLD = re.compile(r"(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})")


def normalise_email(raw: str) -> str:
    """An address we can send to: ``  Lan.Nguyen@Example.VN `` -> ``Lan.Nguyen@example.vn``.

    Plain ``local@domain`` only (no display name, no list).  The local part must
    be ASCII (we do not rely on SMTPUTF8 relays); an internationalised domain is
    converted to its ``xn--`` form.  Raises :class:`InvalidRecipient`.
    """
    address = (raw or "").strip()
    if not address:
        raise InvalidRecipient("missing_email", "Chưa có địa chỉ email")
    invalid = InvalidRecipient("malformed_email", "Địa chỉ email không hợp lệ (dạng ten@tenmien.vn)")
    if len(address) > 254 or address.count("@") != 1 or any(c.isspace() or ord(c) < 32 for c in address):
        raise invalid
    local, domain = address.split("@")
    if not local or len(local) > 64 or not _LOCAL_PART.fullmatch(local):
        if local and not local.isascii():
            raise InvalidRecipient("non_ascii_email", "Phần trước @ của địa chỉ email phải viết không dấu")
        raise invalid
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise invalid from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        raise invalid
    if not _TLD.fullmatch(labels[-1]):
        raise invalid
    return f"{local}@{ascii_domain}"


def message_id_for(key: str, domain: str) -> str:
    """The RFC 5322 Message-ID we give an email: ``<{key}@{domain}>``.

    Derived from our own key (the outbox row), so every retry of one
    notification carries the same Message-ID and a duplicate can be recognised.
    """
    local = re.sub(r"[^A-Za-z0-9._-]", "-", key).strip(".-")
    if not local:
        raise ValueError("a Message-ID needs a non-empty key")
    return f"<{local}@{domain}>"


# -- SMS length (3GPP TS 23.038) ---------------------------------------------------------

_GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")  # two septets each


def is_gsm7(text: str) -> bool:
    """Whether ``text`` fits the GSM 7-bit alphabet (else it travels as UCS-2)."""
    return all(c in _GSM7_BASIC or c in _GSM7_EXTENSION for c in text)


def sms_segments(text: str) -> int:
    """How many SMS parts a gateway bills for ``text``.

    GSM-7: 160 septets in one SMS, 153 per part when split; UCS-2 (any
    Vietnamese diacritic beyond à è é ì ò ù): 70 UTF-16 units, 67 per part.
    """
    if is_gsm7(text):
        costs = [2 if c in _GSM7_EXTENSION else 1 for c in text]
        single, part = 160, 153
    else:
        costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
        single, part = 70, 67
    if sum(costs) <= single:
        return 1 if costs else 0
    parts, used = 1, 0
    for cost in costs:  # an escape or surrogate pair is never split between parts
        if used + cost > part:
            parts, used = parts + 1, 0
        used += cost
    return parts


_ASCII_PUNCTUATION = str.maketrans(
    {"đ": "d", "Đ": "D", "‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "\u00a0": " "}
)


def unaccented(text: str) -> str:
    """Vietnamese without diacritics, in the GSM-7 alphabet: ``Hồ sơ đã được tiếp nhận`` -> ``Ho so da duoc tiep nhan``."""
    decomposed = unicodedata.normalize("NFD", text.translate(_ASCII_PUNCTUATION))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return "".join(c if c in _GSM7_BASIC else "?" for c in unicodedata.normalize("NFC", stripped))


# -- message texts -----------------------------------------------------------------------


class NotificationKind(str, enum.Enum):
    """The status changes a citizen is told about."""

    received = "received"
    supplement_requested = "supplement_requested"
    refused = "refused"
    stopped = "stopped"
    result_ready = "result_ready"
    returned = "returned"


#: DVCQG status code (TrangThaiHoSo) -> what the citizen is told.
KIND_BY_CITY_STATUS = {
    2: NotificationKind.received,
    3: NotificationKind.refused,
    5: NotificationKind.supplement_requested,
    8: NotificationKind.stopped,
    9: NotificationKind.result_ready,
    10: NotificationKind.returned,
}


def kind_for_city_status(status: int) -> NotificationKind | None:
    """The notification a city status calls for, or ``None`` when the citizen need not be told."""
    return KIND_BY_CITY_STATUS.get(status)


@dataclass(frozen=True)
class NotificationFacts:
    """What a message about one dossier may say. Nothing else about the citizen goes into it."""

    tracking_code: str
    tracking_link: str
    procedure_name: str
    #: The city's note: what to bring (supplement), the reason (refused, stopped).
    note: str | None = None
    due_date: date | None = None
    point_name: str | None = None
    point_address: str | None = None
    #: For the email greeting only; never in an SMS (a phone may be shared).
    citizen_name: str | None = None
    rating_link: str | None = None


def tracking_link(public_url: str, tracking_code: str) -> str:
    """The public tracking page with the code filled in (the citizen adds the phone number)."""
    return f"{public_url.rstrip('/')}/track?code={quote(tracking_code)}"


_LEAD_IN = re.compile(r"^(?:hồ sơ|đề nghị|yêu cầu|lý do|công dân)\b[^:]{0,60}:\s*", re.IGNORECASE)


def plain_reason(note: str | None) -> str | None:
    """The city's note as the citizen should read it: NFC, one line, without a lead-in that repeats the status.

    ``"Hồ sơ không được tiếp nhận: thành phần hồ sơ không đầy đủ."`` -> ``"thành phần hồ sơ không đầy đủ"``.
    """
    if not note:
        return None
    text = " ".join(unicodedata.normalize("NFC", note).split())
    text = _LEAD_IN.sub("", text).strip(" .;,:")
    return text or None


def _vn_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


#: Shortest a truncated note may become before it is left out of an SMS altogether.
_MIN_NOTE = 12


def _sms_templates(kind: NotificationKind, facts: NotificationFacts) -> tuple[list[str], str | None, str]:
    """(texts with a ``{note}`` slot, most complete first; the note; the text without any note) for one kind."""
    code = facts.tracking_code
    see = f" Xem: {facts.tracking_link}"
    note = plain_reason(facts.note)
    if kind is NotificationKind.received:
        due = f", hẹn trả ngày {_vn_date(facts.due_date)}" if facts.due_date else ""
        return [], None, f"Hồ sơ {code} đã được tiếp nhận{due}.{see}"
    if kind is NotificationKind.supplement_requested:
        return (
            [
                f"Hồ sơ {code} cần bổ sung: {{note}}. Mang đến nơi đã nộp.{see}",
                f"Hồ sơ {code} cần bổ sung: {{note}}.{see}",
            ],
            note,
            f"Hồ sơ {code} cần bổ sung giấy tờ, vui lòng mang đến nơi đã nộp.{see}",
        )
    if kind is NotificationKind.refused:
        return [f"Hồ sơ {code} không được tiếp nhận: {{note}}.{see}"], note, f"Hồ sơ {code} không được tiếp nhận.{see}"
    if kind is NotificationKind.stopped:
        return [f"Hồ sơ {code} bị dừng xử lý: {{note}}.{see}"], note, f"Hồ sơ {code} bị dừng xử lý.{see}"
    if kind is NotificationKind.result_ready:
        point = " ".join(facts.point_name.split()) if facts.point_name else None
        return (
            [f"Hồ sơ {code} đã có kết quả, mời ông/bà đến nhận tại {{note}}.{see}"],
            point,
            f"Hồ sơ {code} đã có kết quả, mời ông/bà đến nơi đã nộp để nhận.{see}",
        )
    return [], None, f"Hồ sơ {code} đã được trả kết quả. Cảm ơn ông/bà!{see}"


def _shorten(text: str, length: int, ellipsis: str) -> str:
    if len(text) <= length:
        return text
    cut = text[: max(0, length - len(ellipsis))]
    if " " in cut[len(cut) // 2 :]:  # end on a word boundary when one is near
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.") + ellipsis


def _fill(template: str, note: str, ellipsis: str) -> str:
    if note.endswith(ellipsis):  # no full stop after a shortened note
        return template.replace("{note}.", note)
    return template.replace("{note}", note)


def sms_text(kind: NotificationKind, facts: NotificationFacts, *, accents: bool = True, max_segments: int = 2) -> str:
    """The SMS for ``kind``, at most ``max_segments`` parts long.

    The most complete wording that fits is chosen; failing that, the city's note
    (or the point's name) is shortened at a word boundary, and left out when
    only a few characters of it would remain.  Only when even the fixed part
    (mostly the tracking link) is too long does the text exceed ``max_segments``.
    ``accents=False`` gives the GSM-7 form for gateways that refuse Vietnamese
    diacritics (and fits much more per part).
    """
    templates, note, without_note = _sms_templates(kind, facts)
    ellipsis = "…" if accents else "..."

    def render(text: str) -> str:
        return unicodedata.normalize("NFC", text) if accents else unaccented(text)

    def fits(text: str) -> bool:
        return sms_segments(text) <= max_segments

    if note and templates:
        for template in templates:
            full = render(_fill(template, note, ellipsis))
            if fits(full):
                return full
        shortest = templates[-1]
        low, high, best = _MIN_NOTE, len(note) - 1, None
        while low <= high:  # the longest shortened note that still fits
            middle = (low + high) // 2
            candidate = render(_fill(shortest, _shorten(note, middle, ellipsis), ellipsis))
            if fits(candidate):
                best, low = candidate, middle + 1
            else:
                high = middle - 1
        if best is not None:
            return best
    return render(without_note)


@dataclass(frozen=True)
class EmailText:
    subject: str
    body: str


_HEADLINES = {
    NotificationKind.received: "đã được tiếp nhận",
    NotificationKind.supplement_requested: "cần bổ sung giấy tờ",
    NotificationKind.refused: "không được tiếp nhận",
    NotificationKind.stopped: "bị dừng xử lý",
    NotificationKind.result_ready: "đã có kết quả",
    NotificationKind.returned: "đã được trả kết quả",
}


def email_text(kind: NotificationKind, facts: NotificationFacts) -> EmailText:
    """Subject and plain-text body of the email for ``kind`` (Vietnamese, NFC)."""
    headline = _HEADLINES[kind]
    note = plain_reason(facts.note)
    point = " ".join(facts.point_name.split()) if facts.point_name else None
    where = point or "điểm tiếp nhận đã nộp hồ sơ"
    if point and facts.point_address:
        where = f"{point} ({' '.join(facts.point_address.split())})"

    greeting = f"Kính gửi ông/bà {' '.join(facts.citizen_name.split())}," if facts.citizen_name else "Kính gửi ông/bà,"
    lines = [
        greeting,
        "",
        f"Hồ sơ {facts.procedure_name} của ông/bà (mã tra cứu {facts.tracking_code}) {headline}.",
        "",
    ]
    if kind is NotificationKind.received:
        if facts.due_date:
            lines.append(f"Ngày hẹn trả kết quả: {_vn_date(facts.due_date)}.")
        lines.append("Ông/bà sẽ nhận được thông báo khi hồ sơ có thay đổi.")
    elif kind is NotificationKind.supplement_requested:
        lines.append("Cơ quan giải quyết đề nghị bổ sung:")
        lines.append(f"    {note}" if note else "    (xem chi tiết tại trang tra cứu)")
        lines.append("")
        lines.append(f"Vui lòng mang giấy tờ cần bổ sung đến {where}.")
        lines.append("Hồ sơ của ông/bà vẫn được giữ nguyên, không phải nộp lại từ đầu.")
    elif kind in (NotificationKind.refused, NotificationKind.stopped):
        lines.append(f"Lý do: {note}." if note else "Lý do: xem chi tiết tại trang tra cứu.")
        lines.append("")
        lines.append(f"Nếu cần hỗ trợ, ông/bà vui lòng liên hệ {where}.")
    elif kind is NotificationKind.result_ready:
        lines.append(f"Mời ông/bà đến {where} để nhận kết quả.")
        lines.append("Khi đến, vui lòng mang theo căn cước công dân và giấy biên nhận hồ sơ.")
    else:
        lines.append("Cảm ơn ông/bà đã sử dụng dịch vụ công trực tuyến qua điểm đại lý.")
        if facts.rating_link:
            lines.append(f"Mời ông/bà đánh giá chất lượng phục vụ: {facts.rating_link}")
    lines += [
        "",
        f"Tra cứu tình trạng hồ sơ: {facts.tracking_link}",
        "(nhập mã tra cứu và số điện thoại đã đăng ký khi nộp hồ sơ)",
        "",
        "--",
        "Đây là thư tự động, vui lòng không trả lời thư này.",
    ]
    subject = f"Hồ sơ {facts.tracking_code} {headline}"
    return EmailText(
        subject=unicodedata.normalize("NFC", subject), body=unicodedata.normalize("NFC", "\n".join(lines) + "\n")
    )
