"""VNPay's clock: Vietnam time (+07:00, no daylight saving), written yyyyMMddHHmmss."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

VIETNAM = timezone(timedelta(hours=7), "ICT")
STAMP = "%Y%m%d%H%M%S"


def now_vn() -> datetime:
    return datetime.now(VIETNAM)


def stamp(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).strftime(STAMP)


def read_stamp(text: str) -> datetime | None:
    """A yyyyMMddHHmmss value as an aware datetime, or None when it is not one."""
    if len(text) != 14 or not text.isascii() or not text.isdigit():
        return None
    try:
        return datetime.strptime(text, STAMP).replace(tzinfo=VIETNAM)
    except ValueError:
        return None


def iso_ms(moment: datetime) -> str:
    return moment.astimezone(VIETNAM).isoformat(timespec="milliseconds")
