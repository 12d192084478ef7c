"""A procedure version's fee rules, as data, and what a dossier costs under them. Pure, no database.

The rules are one small JSON object, published with the version (`ProcedureVersion.fee_rules`):

    {"kind": "none"}                                     no fee (lệ phí: không)
    {"kind": "fixed", "amount_vnd": 20000}               one amount per dossier
    {"kind": "per_page", "amount_vnd": 2000, "page_field": "pages"}
        `amount_vnd` per page, the number of pages read from the form's `page_field`
        optional "later_page_vnd": 1000 with "first_pages": 2 (from the third page on, 1,000 a page)
        optional "copies_field": "copies" (the whole is multiplied by the number of copies)
    any kind may add:
        "online_amount_vnd": 10000      the price (per dossier, or per page) when filed online; agent points
                                        file online on the citizen's behalf, so their dossiers pay this one
        "delivery_vnd": 15000           charged when the result is delivered by post
        "exempt": {"field": "child_birth_date", "within_days": 60, "note": "..."}
                  {"field": "category", "equals": "Hộ nghèo", "note": "..."}
                                        no fee when the condition holds on the form (`note` says why)

`problems()` says what is wrong with a rules object (each problem names its key); `quote()` prices
one dossier. Amounts are whole đồng, never negative.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from portal.core.i18n import N_, Message

KINDS = ("none", "fixed", "per_page")
CHANNELS = ("direct", "online")
MAX_AMOUNT_VND = 100_000_000
_AMOUNTS = ("amount_vnd", "online_amount_vnd", "later_page_vnd", "delivery_vnd")
_KEYS = {
    "none": {"kind", "exempt", "delivery_vnd"},
    "fixed": {"kind", "amount_vnd", "online_amount_vnd", "delivery_vnd", "exempt"},
    "per_page": {
        "kind",
        "amount_vnd",
        "online_amount_vnd",
        "page_field",
        "first_pages",
        "later_page_vnd",
        "copies_field",
        "delivery_vnd",
        "exempt",
    },
}

FEE = N_("Lệ phí")
LATER_PAGES = N_("Lệ phí từ trang tiếp theo")
DELIVERY = N_("Phí chuyển phát kết quả")
EXEMPT = N_("Miễn lệ phí")


@dataclass(frozen=True)
class FeeLine:
    label: str  # a Vietnamese msgid
    amount_vnd: int


@dataclass(frozen=True)
class FeeQuote:
    """What a dossier costs. `total_vnd` 0: no payment step at all."""

    total_vnd: int
    lines: tuple[FeeLine, ...] = field(default_factory=tuple)
    note: str = ""
    exempt: bool = False

    @property
    def is_free(self) -> bool:
        return self.total_vnd <= 0


def problems(rules: Any, form_fields: Mapping[str, Any] | None = None) -> dict[str, str]:
    """What is wrong with a fee rules object, by key ("fee_rules.amount_vnd": why). Empty when it can price.

    `form_fields` (the form's JSON Schema properties) lets the fields the rules read be checked too.
    """
    if not isinstance(rules, Mapping):
        return {"fee_rules": N_("Phải là một đối tượng JSON")}
    kind = rules.get("kind")
    if kind not in KINDS:
        return {"fee_rules.kind": Message("Phải là một trong: %(choices)s", choices=", ".join(KINDS))}
    found: dict[str, str] = {}
    for key in sorted(set(rules) - _KEYS[kind]):
        found[f"fee_rules.{key}"] = Message("Khóa không dùng được cho loại phí %(kind)s", kind=kind)
    for key in _AMOUNTS:
        if key in rules and key in _KEYS[kind]:
            value = rules[key]
            if not isinstance(value, int) or isinstance(value, bool):
                found[f"fee_rules.{key}"] = N_("Phải là số tiền nguyên (đồng)")
            elif value < 0:
                found[f"fee_rules.{key}"] = N_("Số tiền không được âm")
            elif value > MAX_AMOUNT_VND:
                found[f"fee_rules.{key}"] = Message("Số tiền không được vượt quá %(max)s đồng", max=MAX_AMOUNT_VND)
    if kind in ("fixed", "per_page") and "amount_vnd" not in rules:
        found["fee_rules.amount_vnd"] = N_("Bắt buộc nhập")
    if kind == "per_page":
        _field(rules, "page_field", form_fields, found, required=True, kind="integer")
        _field(rules, "copies_field", form_fields, found, required=False, kind="integer")
        if ("first_pages" in rules) != ("later_page_vnd" in rules):
            found["fee_rules.first_pages"] = N_("Cần khai cả số trang đầu và giá từ trang tiếp theo")
        elif "first_pages" in rules and (not isinstance(rules["first_pages"], int) or rules["first_pages"] < 1):
            found["fee_rules.first_pages"] = N_("Phải là số nguyên từ 1 trở lên")
    if "exempt" in rules:
        found.update(_exempt_problems(rules["exempt"], form_fields))
    return found


def _field(
    rules: Mapping[str, Any],
    key: str,
    form_fields: Mapping[str, Any] | None,
    found: dict[str, str],
    *,
    required: bool,
    kind: str,
) -> None:
    if key not in rules:
        if required:
            found[f"fee_rules.{key}"] = N_("Bắt buộc nhập")
        return
    name = rules[key]
    if not isinstance(name, str) or not name:
        found[f"fee_rules.{key}"] = N_("Phải là tên một trường của biểu mẫu")
    elif form_fields is not None and name not in form_fields:
        found[f"fee_rules.{key}"] = Message("Biểu mẫu không có trường %(name)s", name=name)
    elif form_fields is not None and form_fields[name].get("type") != kind:
        found[f"fee_rules.{key}"] = Message("Trường %(name)s không phải số nguyên", name=name)


def _exempt_problems(exempt: Any, form_fields: Mapping[str, Any] | None) -> dict[str, str]:
    where = "fee_rules.exempt"
    if not isinstance(exempt, Mapping):
        return {where: N_("Phải là một đối tượng JSON")}
    found: dict[str, str] = {}
    unknown = set(exempt) - {"field", "within_days", "equals", "note"}
    if unknown:
        found[where] = Message("Khóa không hợp lệ: %(key)s", key=sorted(unknown)[0])
    name = exempt.get("field")
    if not isinstance(name, str) or not name:
        found[f"{where}.field"] = N_("Phải là tên một trường của biểu mẫu")
    elif form_fields is not None and name not in form_fields:
        found[f"{where}.field"] = Message("Biểu mẫu không có trường %(name)s", name=name)
    if ("within_days" in exempt) == ("equals" in exempt):
        found[f"{where}.condition"] = N_("Khai đúng một điều kiện miễn: within_days hoặc equals")
    elif "within_days" in exempt:
        days = exempt["within_days"]
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            found[f"{where}.within_days"] = N_("Phải là số ngày nguyên, không âm")
        elif form_fields is not None and isinstance(name, str) and form_fields.get(name, {}).get("format") != "date":
            found[f"{where}.field"] = Message("Trường %(name)s không phải ngày", name=name)
    if not isinstance(exempt.get("note"), str) or not exempt["note"].strip():
        found[f"{where}.note"] = N_("Điều kiện miễn cần ghi chú cho người dân")
    return found


def exempt_applies(exempt: Mapping[str, Any] | None, form: Mapping[str, Any], on: date) -> bool:
    if not exempt:
        return False
    value = form.get(exempt["field"])
    if "equals" in exempt:
        return value is not None and str(value) == str(exempt["equals"])
    try:
        day = date.fromisoformat(str(value))
    except ValueError:
        return False
    return 0 <= (on - day).days <= int(exempt["within_days"])


def _count(form: Mapping[str, Any], name: str | None, default: int) -> int:
    if not name:
        return default
    try:
        return max(int(form.get(name, default)), 0)
    except (TypeError, ValueError):
        return default


def quote(
    rules: Mapping[str, Any],
    *,
    form: Mapping[str, Any] | None = None,
    channel: str = "online",
    delivery: bool = False,
    on: date,
    note: str = "",
) -> FeeQuote:
    """What one dossier costs under `rules`: its form (pages, copies, the exemption's field), channel and day."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    form = form or {}
    kind = rules.get("kind", "none")
    lines: list[FeeLine] = []
    if exempt_applies(rules.get("exempt"), form, on):
        exempt = rules["exempt"]
        lines.append(FeeLine(EXEMPT, 0))
        delivery_vnd = int(rules.get("delivery_vnd", 0)) if delivery else 0
        if delivery_vnd:
            lines.append(FeeLine(DELIVERY, delivery_vnd))
        return FeeQuote(delivery_vnd, tuple(lines), exempt.get("note") or note, exempt=True)
    price = int(rules.get("amount_vnd", 0))
    if channel == "online" and "online_amount_vnd" in rules:
        price = int(rules["online_amount_vnd"])
    if kind == "fixed" and price:
        lines.append(FeeLine(FEE, price))
    elif kind == "per_page":
        pages = _count(form, rules.get("page_field"), 1)
        copies = _count(form, rules.get("copies_field"), 1)
        first = int(rules.get("first_pages", pages))
        at_full, later = min(pages, first), max(pages - first, 0)
        if at_full * price * copies:
            lines.append(FeeLine(FEE, at_full * price * copies))
        if later and rules.get("later_page_vnd"):
            lines.append(FeeLine(LATER_PAGES, later * int(rules["later_page_vnd"]) * copies))
    if delivery and rules.get("delivery_vnd"):
        lines.append(FeeLine(DELIVERY, int(rules["delivery_vnd"])))
    return FeeQuote(sum(line.amount_vnd for line in lines), tuple(lines), note)
