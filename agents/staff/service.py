"""Passwords and signing in with a local account.

Sign-in failures count towards a
lockout; every attempt, good or bad, is written to the audit log (a refusal
in its own transaction: the failed attempt itself changes nothing else).
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.partners.models import Partner, PartnerStatus
from agents.staff import sessions
from agents.staff.actor import Actor, load_actor
from agents.staff.models import Account, AccountStatus, RoleAssignment
from portal.core import audit, throttle
from portal.core.db import utcnow
from portal.core.errors import AuthenticationFailed, ValidationFailed
from portal.core.i18n import N_, Message, PluralMessage
from portal.core.settings import get_settings

_hasher = PasswordHasher()
# Verifying against this keeps the time of "unknown email" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")


MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "Mật khẩu quá ngắn",
            field_errors={
                "password": PluralMessage("Tối thiểu %(num)d ký tự", "Tối thiểu %(num)d ký tự", MIN_PASSWORD_LENGTH)
            },
        )


def has_password(session: Session, actor: Actor) -> bool:
    account = session.get(Account, actor.account_id)
    return account is not None and account.password_hash is not None


def change_password(
    session: Session, actor: Actor, current: str, new: str, *, keep_session: uuid.UUID | None = None
) -> int:
    """Set a new password (the current one proves it is the person); every other session ends. How many ended."""
    account = session.get(Account, actor.account_id)
    if account is None or account.password_hash is None:
        raise ValidationFailed("Tài khoản này đăng nhập qua SSO, không có mật khẩu trên cổng")
    try:
        _hasher.verify(account.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise ValidationFailed(
            "Mật khẩu hiện tại không đúng", field_errors={"current_password": N_("Không đúng")}
        ) from None
    check_new_password(new)
    account.password_hash = _hasher.hash(new)
    ended = sessions.revoke_all(session, account.id, "password_changed", keep=keep_session)
    audit.record(session, "account.password_changed", "account", account.id, detail={"sessions_ended": ended})
    return ended


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password or "-")
    except (VerificationError, InvalidHashError):
        return False


def failures_key(email: str) -> str:
    """The counter of failed sign-ins for one email, whether or not an account has it."""
    return throttle.counter_key("sign-in failures", "email", email.strip().lower())


def _source_key(origin: str) -> str:
    return throttle.counter_key("sign-in failures", "source", origin)


def locked_until(session: Session, email: str) -> datetime | None:
    """When the email's failure budget is spent, the end of its lock; None while it is not."""
    settings = get_settings().sign_in
    count = throttle.current(session, failures_key(email), settings.lockout_seconds)
    return count.window_ends_at if count.hits >= settings.max_failures else None


def authenticate(
    session: Session, email: str, password: str, *, origin: str = "", trusted_device: uuid.UUID | None = None
) -> Actor:
    """Check a local password sign-in; the success and its audit entry are written in the caller's unit.

    Every attempt does the same work, one argon2 verification (against a dummy
    hash for an unknown email or an account without a password), and every
    failure gets one of the same two answers, whether the email has an account
    or not: "wrong email or password", or "too many failures, retry in N
    minutes". Failures are counted per email (existing or not) and per source
    address in the database (portal/core/throttle.py); either budget spent
    locks further attempts, except a correct password from the person's
    trusted device (`trusted_device`: the account the browser's signed device
    cookie names). A deactivated account's reason, and a suspended partner's,
    are shown only after the correct password. A refusal rolls the caller's
    unit back and is recorded in a transaction of its own; the same refusal
    repeated is tallied, not written again. Design: docs/security.md.
    """
    settings = get_settings().sign_in
    email = email.strip().lower()
    account = session.scalar(select(Account).where(Account.email == email))
    account_id = account.id if account else None
    window = settings.lockout_seconds
    email_key, source_key = failures_key(email), _source_key(origin)
    email_failures = throttle.current(session, email_key, window)
    source_failures = throttle.current(session, source_key, window)

    stored_hash = account.password_hash if account is not None else None
    has_password = stored_hash is not None
    password_ok = _password_matches(stored_hash or _DUMMY_HASH, password) and has_password
    trusted = password_ok and trusted_device is not None and trusted_device == account_id
    spent = email_failures.hits >= settings.max_failures or source_failures.hits >= settings.max_failures_per_source

    def locked_out(minutes_from: int) -> PluralMessage:
        minutes = max(1, math.ceil(minutes_from / 60))
        return PluralMessage(
            "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau %(num)d phút",
            "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau %(num)d phút",
            minutes,
        )

    def refuse(reason: str, message: str | Message, *, count: bool) -> AuthenticationFailed:
        def count_failure(work: Session) -> None:
            throttle.hit(work, email_key, window)
            throttle.hit(work, source_key, window)

        audit.record_refusal(
            session,
            "auth.sign_in_failed",
            "account",
            account_id,
            also=count_failure if count else None,
            detail={"email": email, "reason": reason},
            actor_id=account_id,
            actor_label=email or "(blank)",
            repeat_key=f"{email}|{reason}|{origin}",
        )
        return AuthenticationFailed(message)

    wrong = "Email hoặc mật khẩu không đúng"
    if spent and not trusted:
        retry = max(
            email_failures.retry_after() if email_failures.hits >= settings.max_failures else 0,
            source_failures.retry_after() if source_failures.hits >= settings.max_failures_per_source else 0,
        )
        raise refuse("locked_out", locked_out(retry), count=not password_ok)
    if not password_ok:
        if email_failures.hits + 1 >= settings.max_failures:
            raise refuse("failed_now_locked", locked_out(window), count=True)
        raise refuse("unknown_account" if account is None else "wrong_password", wrong, count=True)
    assert account is not None and account.password_hash is not None
    if account.status is AccountStatus.deactivated:
        raise refuse(
            "deactivated",
            Message("Tài khoản đã bị khóa: %(reason)s", reason=account.status_reason or Message("không rõ lý do")),
            count=False,
        )
    actor = load_actor(session, account.id)
    if actor is None:
        suspended = session.scalars(
            select(Partner)
            .join(RoleAssignment, RoleAssignment.partner_id == Partner.id)
            .where(
                RoleAssignment.account_id == account.id,
                Partner.status.in_((PartnerStatus.suspended, PartnerStatus.ended)),
            )
        ).first()
        if suspended is not None and suspended.status is PartnerStatus.ended:
            raise refuse(
                "partner_ended",
                Message(
                    "Đối tác %(partner)s đã chấm dứt hợp tác: %(reason)s",
                    partner=suspended.name,
                    reason=suspended.status_reason or Message("không rõ lý do"),
                ),
                count=False,
            )
        if suspended is not None:
            raise refuse(
                "partner_suspended",
                Message(
                    "Đối tác %(partner)s đang bị tạm dừng: %(reason)s",
                    partner=suspended.name,
                    reason=suspended.status_reason or Message("không rõ lý do"),
                ),
                count=False,
            )
        raise refuse("no_active_role", "Tài khoản chưa có vai trò nào đang hoạt động", count=False)
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    if not spent:
        throttle.reset(session, email_key)  # a lock outlives a sign-in from the trusted device
    account.last_login_at = utcnow()
    audit.record(
        session,
        "auth.sign_in",
        "account",
        account.id,
        actor_id=account.id,
        actor_label=actor.label,
        detail={"trusted_device_passed_lock": True} if spent else None,
    )
    return actor
