"""Form fields as people type and read them: dates are dd/mm/yyyy on every page.

Date inputs are plain text fields (a browser's own date picker shows the format of
the browser's locale, mm/dd/yyyy for an English browser); the pages convert what
was typed to ISO 8601 before the domain sees it, and the JSON API keeps ISO 8601.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from portal.core.i18n import N_

DATE_PLACEHOLDER = "dd/mm/yyyy"
DATE_HINT = N_("Ngày không hợp lệ; nhập theo dạng ngày/tháng/năm, ví dụ 31/12/1990")
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_date(text: str) -> date | None:
    """A date typed as dd/mm/yyyy (also d/m/yyyy, with . or -), or pasted as ISO yyyy-mm-dd."""
    text = text.strip()
    try:
        if found := _DAY_MONTH_YEAR.fullmatch(text):
            day, month, year = (int(part) for part in found.groups())
            return date(year, month, day)
        if _ISO.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        return None
    return None


def show_date(value: Any) -> str:
    """dd/mm/yyyy for a date or an ISO date string; anything else as it is."""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str) and _ISO.fullmatch(value):
        try:
            return date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return "" if value is None else str(value)


def date_fields(form_schema: dict[str, Any], prefix: str = "") -> list[str]:
    """The names of a procedure form's date fields (JSON Schema `format: date`)."""
    return [prefix + name for name, spec in form_schema.get("properties", {}).items() if spec.get("format") == "date"]


def dates_to_iso(values: dict[str, str], names: Iterable[str]) -> tuple[dict[str, str], set[str]]:
    """`values` with the named dates in ISO 8601, and the names whose text is not a date."""
    converted, not_dates = dict(values), set()
    for name in names:
        text = (values.get(name) or "").strip()
        if not text:
            continue
        parsed = parse_date(text)
        if parsed is None:
            not_dates.add(name)
        else:
            converted[name] = parsed.isoformat()
    return converted, not_dates
