"""The append-only, tamper-evident audit log.

Each entry stores the hash of the one before it (`prev_hash`) and its own
hash over its content and that link, so changing, removing or inserting an
entry breaks the chain from that point on; `verify_chain` finds where. An
entry made in a cross-partner scope carries that scope's stated reason
(`scope_reason`), inside the hash too: nobody can read across partners
without saying why, on the record.
Entries are written in the same transaction as the change they describe, so
a change and its record commit or roll back together. The database refuses
UPDATE and DELETE on the table (triggers, migration 0001).

A refusal (a wrong password, a forged token, a tampered cookie, a request
without its CSRF token) is the exception: the attempt changes nothing, yet
its record must stay. `record_refusal` is the one way to write it: it rolls
back the caller's unit of work and writes the entry in a short transaction
of its own, which commits whatever the request does afterwards. The same refusal
repeated (one tampered cookie on every page, one script guessing) is written
once per window and counted in between (`repeat_key`, portal/core/throttle.py):
the next entry for it says how many repeats were counted (`repeats_counted`).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Integer, String, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from portal.core import throttle
from portal.core.db import Base, unit_of_work, utcnow
from portal.core.settings import get_settings
from portal.core.tenancy import Scope, current_scope

GENESIS = "0" * 64
_LOCK_KEY = 727_001  # pg_advisory_xact_lock key serialising appends


class AuditEvent(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None]
    actor_label: Mapped[str] = mapped_column(String(200))
    origin: Mapped[str] = mapped_column(String(100), default="")
    # Why a cross-partner (network) scope was opened; None for a partner's own scope.
    scope_reason: Mapped[str | None] = mapped_column(String(200))
    partner_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


def _canonical(event: AuditEvent) -> bytes:
    body = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "actor_label": event.actor_label,
        "origin": event.origin,
        "partner_id": str(event.partner_id) if event.partner_id else None,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "detail": event.detail,
        "prev_hash": event.prev_hash,
    }
    if event.scope_reason is not None:
        # Only when there is one: entries written before the field existed keep their hash.
        body["scope_reason"] = event.scope_reason
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def record(
    session: Session,
    action: str,
    object_type: str,
    object_id: object = None,
    *,
    partner_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
    actor_id: uuid.UUID | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one entry in the session's transaction (the caller commits)."""
    scope = current_scope(session)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.entry_hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    event = AuditEvent(
        seq=(last.seq + 1) if last else 1,
        occurred_at=utcnow(),
        actor_id=actor_id if actor_id is not None else scope.actor_id,
        actor_label=actor_label if actor_label is not None else (scope.actor_label or "anonymous"),
        origin=scope.origin,
        scope_reason=scope.reason[:200] if scope.all_partners else None,
        partner_id=partner_id if partner_id is not None else scope.partner_id,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=detail or {},
        prev_hash=last.entry_hash if last else GENESIS,
    )
    event.entry_hash = compute_hash(event)
    session.add(event)
    session.flush()
    return event


def record_refusal(
    caller: Session | None,
    action: str,
    object_type: str,
    object_id: object = None,
    *,
    scope: Scope | None = None,
    also: Callable[[Session], None] | None = None,
    partner_id: uuid.UUID | None = None,
    detail: dict[str, Any] | None = None,
    actor_id: uuid.UUID | None = None,
    actor_label: str | None = None,
    repeat_key: str | None = None,
) -> None:
    """Record a refused attempt in its own short transaction; the caller's unit of work is rolled back.

    `caller` is the session of the refused request, if it has one: whatever it
    wrote is undone first (and it releases its locks, so the refusal's own
    transaction never waits on it). `scope` defaults to the caller's. `also`
    may change rows in the refusal's transaction (a failed sign-in counts
    towards the account's lockout). The entry commits even though the request
    fails. With `repeat_key` (what makes two refusals "the same", e.g. the
    source and the cookie), a repeat within the tally window is only counted.
    """
    if caller is not None:
        caller.rollback()
        scope = scope or current_scope(caller)
    if scope is None:
        raise ValueError("record_refusal needs the caller's session or a scope")
    with unit_of_work(scope) as session:
        if also is not None:
            also(session)
        if repeat_key is not None:
            tally = throttle.hit(
                session,
                throttle.counter_key("refusal", action, repeat_key),
                get_settings().rate_limits.refusal_tally_seconds,
            )
            if tally.hits > 1:
                return
            if tally.previous_hits > 1:
                detail = {**(detail or {}), "repeats_counted": tally.previous_hits - 1}
        record(
            session,
            action,
            object_type,
            object_id,
            partner_id=partner_id,
            detail=detail,
            actor_id=actor_id,
            actor_label=actor_label,
        )


def latest_entries(session: Session, limit: int = 200) -> list[AuditEvent]:
    """The newest entries first."""
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)))


@dataclass(frozen=True)
class EntryFilter:
    """What an auditor looks for; every part is optional. `before` pages back past the newest entries."""

    person: str = ""  # part of the actor's label (name or e-mail)
    partner_id: uuid.UUID | None = None
    action: str = ""  # an action or its prefix ("rating." for every rating action)
    object_id: str = ""
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None  # only entries older than this sequence number


def search_entries(session: Session, wanted: EntryFilter, limit: int = 200) -> list[AuditEvent]:
    """Matching entries, newest first, at most `limit` (keyset paging by sequence number)."""
    query = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(limit)
    if wanted.person:
        query = query.where(func.lower(AuditEvent.actor_label).contains(wanted.person.lower(), autoescape=True))
    if wanted.partner_id is not None:
        query = query.where(AuditEvent.partner_id == wanted.partner_id)
    if wanted.action:
        query = query.where(AuditEvent.action.startswith(wanted.action, autoescape=True))
    if wanted.object_id:
        query = query.where(AuditEvent.object_id == wanted.object_id)
    if wanted.since is not None:
        query = query.where(AuditEvent.occurred_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(AuditEvent.occurred_at < wanted.until)
    if wanted.before is not None:
        query = query.where(AuditEvent.seq < wanted.before)
    return list(session.scalars(query))


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None
    problem: str = ""


def verify_chain(session: Session, first: int | None = None, last: int | None = None) -> ChainReport:
    """Walk the log (or entries `first`..`last`) in order; report the first entry that does not hold.

    A range starts from the stored hash of the entry before it, so any stretch can be checked
    alone; the whole chain is the range from 1.
    """
    expected_seq = max(first or 1, 1)
    expected_prev = GENESIS
    if expected_seq > 1:
        before = session.scalar(select(AuditEvent.entry_hash).where(AuditEvent.seq == expected_seq - 1))
        if before is None:
            return ChainReport(False, 0, expected_seq - 1, f"entry {expected_seq - 1} is missing")
        expected_prev = before
    checked = 0
    query = select(AuditEvent).where(AuditEvent.seq >= expected_seq).order_by(AuditEvent.seq)
    if last is not None:
        query = query.where(AuditEvent.seq <= last)
    for event in session.scalars(query.execution_options(yield_per=500)):
        if event.seq != expected_seq:
            return ChainReport(False, checked, event.seq, f"entry {expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(False, checked, event.seq, "link to the previous entry does not match")
        if compute_hash(event) != event.entry_hash:
            return ChainReport(False, checked, event.seq, "content does not match its hash (entry altered)")
        expected_prev = event.entry_hash
        expected_seq += 1
        checked += 1
    return ChainReport(True, checked)
