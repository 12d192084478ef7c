"""Counters in fixed time windows, kept in the database so every web process sees the same count.

One row per key (a hash: the keys name emails and addresses). `hit` adds one
and says how many hits the key has in its current window; a window that has
run out starts again at one, and the count it ended with is kept as
`previous_hits` (the audit log's tally of repeated refusals reads it).
The update is a single INSERT … ON CONFLICT statement on SQLite and
PostgreSQL alike, so two processes hitting one key at once both count.

Rate limits (portal/security/rate_limits.py), sign-in failure budgets
(agents/staff/service.py) and the audit log's refusal tally use it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Integer, String, Table, case, delete, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.core.db import Base, UTCDateTime, utcnow


class ThrottleCounter(Base):
    __tablename__ = "throttle_counters"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_started_at: Mapped[datetime]
    hits: Mapped[int] = mapped_column(Integer)
    previous_hits: Mapped[int] = mapped_column(Integer, default=0)


def counter_key(*parts: str) -> str:
    """The stored key for a counter named by its parts (hashed: it may name an email or an address)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Count:
    hits: int  # in the current window, this hit included
    window_ends_at: datetime
    previous_hits: int  # how many hits the window before this one ended with (0 within a window)

    def retry_after(self, now: datetime | None = None) -> int:
        """Whole seconds until the window ends (at least 1)."""
        return max(1, int((self.window_ends_at - (now or utcnow())).total_seconds() + 0.999))


def hit(session: Session, key: str, window_seconds: int, *, now: datetime | None = None) -> Count:
    """Count one hit on `key` in the caller's unit of work (a writing one)."""
    now = now or utcnow()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = cast("Table", ThrottleCounter.__table__)
    values = insert(table).values(key=key, window_started_at=now, hits=1, previous_hits=0)
    expired = table.c.window_started_at <= literal(now - timedelta(seconds=window_seconds), UTCDateTime())
    stmt = values.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={
            "hits": case((expired, 1), else_=table.c.hits + 1),
            "previous_hits": case((expired, table.c.hits), else_=literal(0)),
            "window_started_at": case((expired, literal(now, UTCDateTime())), else_=table.c.window_started_at),
        },
    ).returning(table.c.hits, table.c.window_started_at, table.c.previous_hits)
    row = session.execute(stmt).one()
    return Count(int(row.hits), row.window_started_at + timedelta(seconds=window_seconds), int(row.previous_hits))


def current(session: Session, key: str, window_seconds: int, *, now: datetime | None = None) -> Count:
    """The key's count in its current window, without adding a hit (0 when none or run out)."""
    now = now or utcnow()
    row = session.get(ThrottleCounter, key)
    if row is None or row.window_started_at <= now - timedelta(seconds=window_seconds):
        return Count(0, now, 0)
    return Count(row.hits, row.window_started_at + timedelta(seconds=window_seconds), 0)


def reset(session: Session, key: str) -> bool:
    """Forget the key's count (an unlock); whether there was one."""
    return bool(session.execute(delete(ThrottleCounter).where(ThrottleCounter.key == key)).rowcount)  # type: ignore[attr-defined]
