"""Sign-in sessions kept on the server, so that signing out (or being shut out) really ends them.

The browser holds only a random token; the database holds its SHA-256, who
it belongs to and how long it may live. A session is live while it is not
revoked, has been used within its idle timeout and is younger than its
absolute lifetime (both copied from settings when it opens, so changing the
settings does not stretch sessions already open). Every way a person loses
access revokes their sessions with a reason: sign-out, "sign out everywhere",
deactivation, their partner's suspension, a password change.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agents.staff.models import RoleAssignment, SignInSession
from portal.core.db import rows_changed, utcnow
from portal.core.settings import get_settings

# last_seen_at is written at most this often (the idle timeout is counted with this granularity).
TOUCH_INTERVAL = timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session: Session,
    account_id: uuid.UUID,
    *,
    active_partner_id: uuid.UUID | None,
    user_agent: str = "",
    origin: str = "",
) -> tuple[SignInSession, str]:
    """Start a session for a person who has just proven who they are; the token goes into their cookie."""
    settings = get_settings().session
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = SignInSession(
        token_hash=token_hash(token),
        account_id=account_id,
        active_partner_id=active_partner_id,
        created_at=now,
        last_seen_at=now,
        idle_timeout_seconds=settings.idle_timeout_seconds,
        absolute_lifetime_seconds=settings.absolute_lifetime_seconds,
        user_agent=user_agent_summary(user_agent),
        origin=origin[:100],
    )
    session.add(row)
    session.flush()
    return row, token


def user_agent_summary(user_agent: str) -> str:
    """Enough to recognise a device in a list ("Chrome on Windows"), not a fingerprint."""
    ua = user_agent or ""
    browser = next(
        (
            name
            for key, name in (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
            if key in ua
        ),
        "",
    )
    system = next(
        (
            name
            for key, name in (
                ("Android", "Android"),
                ("iPhone", "iOS"),
                ("Windows", "Windows"),
                ("Mac OS", "macOS"),
                ("Linux", "Linux"),
            )
            if key in ua
        ),
        "",
    )
    summary = " / ".join(part for part in (browser, system) if part)
    return (summary or ua[:60])[:120]


def expiry_reason(row: SignInSession, now: datetime) -> str | None:
    """Why this session is no longer live, or None while it is."""
    if row.revoked_at is not None:
        return row.revoked_reason or "revoked"
    if now - row.last_seen_at >= timedelta(seconds=row.idle_timeout_seconds):
        return "idle"
    if now - row.created_at >= timedelta(seconds=row.absolute_lifetime_seconds):
        return "expired"
    return None


def find(session: Session, token: str) -> SignInSession | None:
    """The session this token opens (live or not), or None for a token nobody was given."""
    return session.scalar(select(SignInSession).where(SignInSession.token_hash == token_hash(token)))


def needs_touch(row: SignInSession, now: datetime) -> bool:
    return now - row.last_seen_at >= TOUCH_INTERVAL


def touch(session: Session, session_id: uuid.UUID, now: datetime) -> None:
    """Record a use of a live session (compare-and-set: a revoked one stays revoked)."""
    rows_changed(
        session,
        update(SignInSession)
        .where(SignInSession.id == session_id, SignInSession.revoked_at.is_(None))
        .values(last_seen_at=now),
    )


def revoke(session: Session, session_id: uuid.UUID, reason: str) -> bool:
    """End one session; whether it was live until now."""
    return bool(
        rows_changed(
            session,
            update(SignInSession)
            .where(SignInSession.id == session_id, SignInSession.revoked_at.is_(None))
            .values(revoked_at=utcnow(), revoked_reason=reason[:40]),
        )
    )


def revoke_all(session: Session, account_id: uuid.UUID, reason: str, *, keep: uuid.UUID | None = None) -> int:
    """End every open session of one person (but `keep`, the one asking); how many ended."""
    statement = update(SignInSession).where(SignInSession.account_id == account_id, SignInSession.revoked_at.is_(None))
    if keep is not None:
        statement = statement.where(SignInSession.id != keep)
    return rows_changed(session, statement.values(revoked_at=utcnow(), revoked_reason=reason[:40]))


def revoke_for_partner(session: Session, partner_id: uuid.UUID, reason: str) -> int:
    """End the sessions of everyone holding a role at this partner (it was suspended)."""
    people = select(RoleAssignment.account_id).where(RoleAssignment.partner_id == partner_id)
    return rows_changed(
        session,
        update(SignInSession)
        .where(SignInSession.account_id.in_(people), SignInSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason[:40]),
    )


def open_sessions(session: Session, account_id: uuid.UUID) -> list[SignInSession]:
    """A person's live sessions, newest first (their own page lists them)."""
    now = utcnow()
    rows = session.scalars(
        select(SignInSession)
        .where(SignInSession.account_id == account_id, SignInSession.revoked_at.is_(None))
        .order_by(SignInSession.created_at.desc())
    ).all()
    return [row for row in rows if expiry_reason(row, now) is None]
