"""People who sign in, and the roles they hold where.

An `Account` is one named person (never shared, never deleted). A person may
hold several `RoleAssignment`s, each naming its scope: a partner (and for
point roles, an agent point), or none for the center's own roles.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.core.db import Base, IdMixin, TimestampMixin
from portal.core.tenancy import TenantScoped


class Role(str, enum.Enum):
    agent_staff = "agent_staff"
    point_lead = "point_lead"
    partner_manager = "partner_manager"
    center_admin = "center_admin"
    auditor = "auditor"

    @property
    def is_center(self) -> bool:
        return self in (Role.center_admin, Role.auditor)

    @property
    def is_point(self) -> bool:
        return self in (Role.agent_staff, Role.point_lead)


class AccountStatus(str, enum.Enum):
    invited = "invited"
    active = "active"
    deactivated = "deactivated"


class Account(IdMixin, TimestampMixin, Base):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("sso_issuer", "sso_subject"),)

    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[AccountStatus] = mapped_column(
        Enum(AccountStatus, native_enum=False, length=16), default=AccountStatus.active
    )
    status_reason: Mapped[str | None] = mapped_column(Text)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Set on the first single sign-on through a partner's identity provider.
    sso_issuer: Mapped[str | None] = mapped_column(String(300))
    sso_subject: Mapped[str | None] = mapped_column(String(200))


class RoleAssignment(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "role_assignments"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=24))
    # Null for the center's roles; such rows are visible only to network scopes.
    partner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("partners.id"), index=True)  # type: ignore[assignment]
    agent_point_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent_points.id"))


class Invitation(IdMixin, TimestampMixin, TenantScoped, Base):
    """A partner manager (or the center) invites one named email to one role.

    The invitee activates it with the link's token (local password), or simply
    signs in through the partner's SSO with that email. Single use; expires.
    """

    __tablename__ = "invitations"

    email: Mapped[str] = mapped_column(String(254), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=24))
    agent_point_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agent_points.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("accounts.id"))


class SignInSession(IdMixin, Base):
    """One signed-in browser. The cookie holds a random token; only its SHA-256 is stored.

    A session ends when it is revoked (sign-out, "sign out everywhere",
    deactivation, the partner's suspension, a password change), after
    `idle_timeout_seconds` without a request, or `absolute_lifetime_seconds`
    after sign-in, whichever comes first (agents/staff/sessions.py).
    """

    __tablename__ = "sign_in_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"), index=True)
    # The partner the person works for in this session (a person may hold roles at several).
    active_partner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("partners.id"))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    idle_timeout_seconds: Mapped[int] = mapped_column(Integer)
    absolute_lifetime_seconds: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
    user_agent: Mapped[str] = mapped_column(String(120), default="")
    origin: Mapped[str] = mapped_column(String(100), default="")
