"""Accounts, roles and sign-in.

`Actor` is the signed-in person with all their role assignments; pages and
services decide what they may do from it. Sign-in failures count towards a
lockout; every attempt, good or bad, is written to the audit log.
"""

from __future__ import annotations

import contextlib
import math
import uuid
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.partners.models import Partner, PartnerStatus
from agents.staff.models import Account, AccountStatus, Role, RoleAssignment
from portal.core import audit
from portal.core.db import utcnow
from portal.core.errors import AuthenticationFailed, PermissionDenied
from portal.core.i18n import Message, PluralMessage
from portal.core.settings import get_settings
from portal.core.tenancy import Scope

_hasher = PasswordHasher()
# Verifying against this keeps the time of "unknown email" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@dataclass(frozen=True)
class Grant:
    role: Role
    partner_id: uuid.UUID | None
    agent_point_id: uuid.UUID | None


@dataclass(frozen=True)
class Actor:
    """A signed-in person and every role they hold, each with its scope."""

    account_id: uuid.UUID
    email: str
    full_name: str
    grants: tuple[Grant, ...]

    def has(self, *roles: Role) -> bool:
        return any(g.role in roles for g in self.grants)

    @property
    def is_center(self) -> bool:
        return any(g.role.is_center for g in self.grants)

    @property
    def partner_ids(self) -> list[uuid.UUID]:
        seen: list[uuid.UUID] = []
        for g in self.grants:
            if g.partner_id and g.partner_id not in seen:
                seen.append(g.partner_id)
        return seen

    def point_ids(self, partner_id: uuid.UUID, *roles: Role) -> set[uuid.UUID]:
        wanted = roles or (Role.agent_staff, Role.point_lead)
        return {
            g.agent_point_id
            for g in self.grants
            if g.partner_id == partner_id and g.role in wanted and g.agent_point_id
        }

    def roles_in(self, partner_id: uuid.UUID) -> set[Role]:
        return {g.role for g in self.grants if g.partner_id == partner_id}

    def partner_scope(self, partner_id: uuid.UUID, origin: str = "") -> Scope:
        if partner_id not in self.partner_ids:
            raise PermissionDenied("Bạn không có vai trò tại đối tác này")
        return Scope.partner(partner_id, actor_id=self.account_id, actor_label=self.label, origin=origin)

    def network_scope(self, reason: str, origin: str = "") -> Scope:
        if not self.is_center:
            raise PermissionDenied("Chỉ cán bộ Trung tâm được xem toàn mạng lưới")
        return Scope.network(reason, actor_id=self.account_id, actor_label=self.label, origin=origin)

    @property
    def label(self) -> str:
        return f"{self.full_name} <{self.email}>"


def load_actor(session: Session, account_id: uuid.UUID) -> Actor | None:
    """The actor for a live session, or None when the account is gone or disabled.

    Needs a network scope: one person's roles may span several partners.
    """
    account = session.get(Account, account_id)
    if account is None or account.status is not AccountStatus.active:
        return None
    rows = session.scalars(select(RoleAssignment).where(RoleAssignment.account_id == account_id))
    grants: list[Grant] = []
    for row in rows:
        if row.partner_id is not None:
            partner = session.get(Partner, row.partner_id)
            if partner is None or partner.status is not PartnerStatus.active:
                continue  # a suspended partner's roles lapse
        grants.append(Grant(row.role, row.partner_id, row.agent_point_id))
    if not grants:
        return None
    return Actor(account.id, account.email, account.full_name, tuple(grants))


def authenticate(session: Session, email: str, password: str) -> Actor:
    """Check a local password sign-in; commits the outcome and its audit entry.

    Raises AuthenticationFailed with the message the person should see.
    """
    settings = get_settings()
    email = email.strip().lower()
    account = session.scalar(select(Account).where(Account.email == email))
    now = utcnow()

    lockout_minutes = math.ceil(settings.login_lockout_seconds / 60)
    locked_out = PluralMessage(
        "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau %(num)d phút",
        "Đăng nhập sai quá nhiều lần; vui lòng thử lại sau %(num)d phút",
        lockout_minutes,
    )

    def refuse(reason: str, message: str) -> AuthenticationFailed:
        audit.record(
            session,
            "auth.sign_in_failed",
            "account",
            account.id if account else None,
            detail={"email": email, "reason": reason},
            actor_id=account.id if account else None,
            actor_label=email or "(blank)",
        )
        session.commit()
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
        account.failed_logins += 1
        if account.failed_logins >= settings.login_max_failures:
            account.locked_until = now + timedelta(seconds=settings.login_lockout_seconds)
            account.failed_logins = 0
            raise refuse("wrong_password_locked", locked_out) from None
        raise refuse("wrong_password", "Email hoặc mật khẩu không đúng") from None
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
    session.commit()
    return actor
