"""Passwords and signing in with a local account.

Sign-in failures count towards a
lockout; every attempt, good or bad, is written to the audit log (a refusal
in its own transaction: the failed attempt itself changes nothing else).
"""

from __future__ import annotations

import contextlib
import math
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.partners.models import Partner, PartnerStatus
from agents.staff.actor import Actor, load_actor
from agents.staff.models import Account, AccountStatus, RoleAssignment
from portal.core import audit
from portal.core.db import utcnow
from portal.core.errors import AuthenticationFailed
from portal.core.i18n import Message, PluralMessage
from portal.core.settings import get_settings

_hasher = PasswordHasher()
# Verifying against this keeps the time of "unknown email" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def authenticate(session: Session, email: str, password: str) -> Actor:
    """Check a local password sign-in; the success and its audit entry are written in the caller's unit.

    A refusal rolls the caller's unit back and is recorded in a transaction of
    its own (`audit.record_refusal`), together with the failure count towards
    the lockout; it raises AuthenticationFailed with the message the person should see.
    """
    settings = get_settings()
    email = email.strip().lower()
    account = session.scalar(select(Account).where(Account.email == email))
    account_id = account.id if account else None
    now = utcnow()

    lockout_minutes = math.ceil(settings.sign_in.lockout_seconds / 60)
    locked_out = PluralMessage(
        "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau %(num)d phút",
        "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau %(num)d phút",
        lockout_minutes,
    )

    def refuse(reason: str, message: str, *, failure: str | None = None) -> AuthenticationFailed:
        def count_failure(work: Session) -> None:
            row = work.get(Account, account_id)
            if row is None:
                return
            if failure == "lock":
                row.locked_until = now + timedelta(seconds=settings.sign_in.lockout_seconds)
                row.failed_logins = 0
            else:
                row.failed_logins = Account.failed_logins + 1

        audit.record_refusal(
            session,
            "auth.sign_in_failed",
            "account",
            account_id,
            also=count_failure if failure else None,
            detail={"email": email, "reason": reason},
            actor_id=account_id,
            actor_label=email or "(blank)",
        )
        return AuthenticationFailed(message)

    if account is None or account.password_hash is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password or "-")
        raise refuse("unknown_account", "Email hoặc mật khẩu không đúng")
    if account.status is AccountStatus.deactivated:
        raise refuse(
            "deactivated",
            Message("Tài khoản đã bị khóa: %(reason)s", reason=account.status_reason or Message("không rõ lý do")),
        )
    if account.locked_until and account.locked_until > now:
        raise refuse("locked_out", locked_out)
    try:
        _hasher.verify(account.password_hash, password)
    except (VerificationError, InvalidHashError):
        if account.failed_logins + 1 >= settings.sign_in.max_failures:
            raise refuse("wrong_password_locked", locked_out, failure="lock") from None
        raise refuse("wrong_password", "Email hoặc mật khẩu không đúng", failure="count") from None
    actor = load_actor(session, account.id)
    if actor is None:
        suspended = session.scalars(
            select(Partner)
            .join(RoleAssignment, RoleAssignment.partner_id == Partner.id)
            .where(RoleAssignment.account_id == account.id, Partner.status == PartnerStatus.suspended)
        ).first()
        if suspended is not None:
            raise refuse(
                "partner_suspended",
                Message(
                    "Đối tác %(partner)s đang bị tạm dừng: %(reason)s",
                    partner=suspended.name,
                    reason=suspended.status_reason or Message("không rõ lý do"),
                ),
            )
        raise refuse("no_active_role", "Tài khoản chưa có vai trò nào đang hoạt động")
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    audit.record(session, "auth.sign_in", "account", account.id, actor_id=account.id, actor_label=actor.label)
    return actor
