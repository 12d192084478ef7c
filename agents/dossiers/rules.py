"""Pure rules about dossiers: citizen data checks, tracking codes, labels, the city's transitions. No database."""

from __future__ import annotations

import re
import secrets
from datetime import date

from agents.dossiers.models import CityStatus, DossierState
from portal.core.i18n import N_

CCCD_PATTERN = re.compile(r"^\d{12}$")
PHONE_PATTERN = re.compile(r"^(0|\+84)\d{9}$")
ISO_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # what JSON Schema's "date" means; no other ISO shapes
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U

CITY_STATUS_LABELS = {
    CityStatus.new: N_("Mới đăng ký"),
    CityStatus.received: N_("Được tiếp nhận"),
    CityStatus.refused: N_("Không được tiếp nhận"),
    CityStatus.processing: N_("Đang xử lý"),
    CityStatus.supplement_requested: N_("Yêu cầu bổ sung giấy tờ"),
    CityStatus.payment_requested: N_("Yêu cầu thực hiện nghĩa vụ tài chính"),
    CityStatus.withdrawn: N_("Công dân yêu cầu rút hồ sơ"),
    CityStatus.stopped: N_("Dừng xử lý"),
    CityStatus.processed: N_("Đã xử lý xong"),
    CityStatus.returned: N_("Đã trả kết quả"),
}

STATE_LABELS = {
    DossierState.queued: N_("Đang chờ gửi hệ thống một cửa"),
    DossierState.forwarded: N_("Đã gửi hệ thống một cửa"),
    DossierState.rejected: N_("Hệ thống một cửa từ chối nhận"),
    DossierState.forward_failed: N_("Chưa gửi được hệ thống một cửa: chờ Trung tâm gửi lại"),
}

# Which DVCQG status may follow which (docs/city-api.md; the simulator's flows in
# simulators/city/engine.py): 1→2→4→9→10, refused at intake 1→3, additional
# documents 4→5→4, a financial obligation after intake or during processing
# 2→6→4 / 4→6→4, withdrawn by the citizen from 1, 2, 4 or 5, stopped from
# 4, 5 or 6. 3, 7, 8 and 10 are final. None: the dossier has no status yet.
CITY_TRANSITIONS: dict[CityStatus | None, frozenset[CityStatus]] = {
    None: frozenset({CityStatus.new}),
    CityStatus.new: frozenset({CityStatus.received, CityStatus.refused, CityStatus.withdrawn}),
    CityStatus.received: frozenset({CityStatus.processing, CityStatus.payment_requested, CityStatus.withdrawn}),
    CityStatus.processing: frozenset(
        {
            CityStatus.supplement_requested,
            CityStatus.payment_requested,
            CityStatus.withdrawn,
            CityStatus.stopped,
            CityStatus.processed,
        }
    ),
    CityStatus.supplement_requested: frozenset({CityStatus.processing, CityStatus.withdrawn, CityStatus.stopped}),
    CityStatus.payment_requested: frozenset({CityStatus.processing, CityStatus.stopped}),
    CityStatus.processed: frozenset({CityStatus.returned}),
    CityStatus.refused: frozenset(),
    CityStatus.withdrawn: frozenset(),
    CityStatus.stopped: frozenset(),
    CityStatus.returned: frozenset(),
}


def _reachable(start: CityStatus | None) -> frozenset[CityStatus]:
    seen: set[CityStatus] = set()
    todo = list(CITY_TRANSITIONS[start])
    while todo:
        status = todo.pop()
        if status not in seen:
            seen.add(status)
            todo.extend(CITY_TRANSITIONS[status])
    return frozenset(seen)


CITY_REACHABLE = {start: _reachable(start) for start in CITY_TRANSITIONS}


def may_follow(current: CityStatus | None, current_seq: int, status: CityStatus, seq: int) -> bool:
    """May the city's report (`status`, sequence number `seq`) move a dossier on from `current`?

    Only for reports newer than the one we hold (`seq > current_seq`). The next
    report (`seq == current_seq + 1`) must be a direct step of the table; when
    reports in between have not arrived yet (delivered out of order), the
    status must at least be reachable from `current`.
    """
    if seq == current_seq + 1:
        return status in CITY_TRANSITIONS[current]
    return status in CITY_REACHABLE[current]


CITIZEN_FIELDS = ("owner_full_name", "owner_id_number", "owner_birth_date", "owner_phone", "owner_address")
PROXY_FIELDS = ("proxy_full_name", "proxy_id_number", "proxy_phone", "proxy_address", "proxy_authorisation")


def new_tracking_code() -> str:
    """A short code a citizen can read over the phone: HN-XXXX-XXXX (40 random bits)."""
    chars = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    return f"HN-{chars[:4]}-{chars[4:]}"


def normalise_phone(raw: str) -> str:
    return re.sub(r"[\s.\-()]", "", raw)


def check_citizen(fields: dict[str, str], today: date) -> tuple[dict[str, object], dict[str, str]]:
    """Check the owner's block and the optional proxy block.

    Returns cleaned values and field errors (Vietnamese messages, keyed by input name).
    """
    values = {k: (fields.get(k) or "").strip() for k in CITIZEN_FIELDS + PROXY_FIELDS}
    errors: dict[str, str] = {}
    clean: dict[str, object] = {}

    for name in CITIZEN_FIELDS:
        if not values[name]:
            errors[name] = N_("Bắt buộc nhập")
    for name in ("owner_full_name", "owner_address", "proxy_full_name", "proxy_address", "proxy_authorisation"):
        if len(values[name]) > 200:
            errors[name] = N_("Quá dài (tối đa 200 ký tự)")

    if values["owner_id_number"] and not CCCD_PATTERN.match(values["owner_id_number"]):
        errors["owner_id_number"] = N_("Số CCCD phải gồm đúng 12 chữ số")
    if values["owner_phone"]:
        phone = normalise_phone(values["owner_phone"])
        if not PHONE_PATTERN.match(phone):
            errors["owner_phone"] = N_("Số điện thoại không hợp lệ (10 chữ số, bắt đầu bằng 0)")
        values["owner_phone"] = phone
    if values["owner_birth_date"]:
        try:
            if not ISO_DATE_PATTERN.match(values["owner_birth_date"]):
                raise ValueError("not YYYY-MM-DD")
            born = date.fromisoformat(values["owner_birth_date"])
            if born > today or born.year < 1900:
                errors["owner_birth_date"] = N_("Ngày sinh không hợp lệ")
            clean["owner_birth_date"] = born
        except ValueError:
            errors["owner_birth_date"] = N_("Ngày sinh không đúng định dạng (năm-tháng-ngày)")

    has_proxy = any(values[name] for name in PROXY_FIELDS)
    if has_proxy:
        for name in ("proxy_full_name", "proxy_id_number", "proxy_phone", "proxy_authorisation"):
            if not values[name]:
                errors[name] = N_("Bắt buộc nhập khi nộp thay")
        if values["proxy_id_number"] and not CCCD_PATTERN.match(values["proxy_id_number"]):
            errors["proxy_id_number"] = N_("Số CCCD phải gồm đúng 12 chữ số")
        if values["proxy_phone"]:
            values["proxy_phone"] = normalise_phone(values["proxy_phone"])
            if not PHONE_PATTERN.match(values["proxy_phone"]):
                errors["proxy_phone"] = N_("Số điện thoại không hợp lệ (10 chữ số, bắt đầu bằng 0)")

    for name in CITIZEN_FIELDS:
        clean.setdefault(name, values[name])
    for name in PROXY_FIELDS:
        clean[name] = values[name] if has_proxy and values[name] else None
    return clean, errors


def mask_name(full_name: str) -> str:
    """'Nguyễn Văn An' -> 'N*** V*** An': enough for a citizen to recognise, not to identify."""
    parts = full_name.split()
    if len(parts) <= 1:
        return full_name[:1] + "***"
    return " ".join([p[0] + "***" for p in parts[:-1]] + [parts[-1]])
