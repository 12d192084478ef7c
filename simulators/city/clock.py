"""Vietnam time helpers (Asia/Ho_Chi_Minh, always +07:00, no DST)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    VN_TZ: timezone | ZoneInfo = ZoneInfo("Asia/Ho_Chi_Minh")
except ZoneInfoNotFoundError:  # no tz database on the host; Vietnam has no DST
    VN_TZ = timezone(timedelta(hours=7), "ICT")


def now_vn() -> datetime:
    return datetime.now(VN_TZ)


def iso(moment: datetime) -> str:
    """ISO 8601 with seconds and the +07:00 offset, e.g. ``2025-11-23T09:15:02+07:00``."""
    return moment.astimezone(VN_TZ).isoformat(timespec="seconds")


def add_working_days(start: datetime, days: int) -> datetime:
    """``start`` moved forward by ``days`` working days (Saturday and Sunday skipped).

    The time of day is kept.  A start on a weekend counts from the next Monday:
    Saturday + 1 working day is Monday.  Public holidays are not modelled.
    """
    moment = start
    remaining = days
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment


def parse_iso_date(value: str) -> date | None:
    """``YYYY-MM-DD`` to a date, or ``None`` when malformed."""
    if len(value) != 10 or value[4] != "-" or value[7] != "-":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
