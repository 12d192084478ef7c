"""Vietnam time (Asia/Ho_Chi_Minh, always +07:00, no DST)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "ICT")


def now_vn() -> datetime:
    return datetime.now(VN_TZ)


def iso(moment: datetime) -> str:
    """ISO 8601 with seconds and the offset, e.g. ``2026-12-02T09:15:02+07:00``."""
    return moment.astimezone(VN_TZ).isoformat(timespec="seconds")
