"""Account lifecycle: invite, activate, change role, deactivate with a reason, reactivate, lift a sign-in lock.

Accounts are never deleted. Who may do what:
- a partner manager runs their own partner's people (staff, point leads, managers);
- a center admin may do the same for any partner, and manages the center's roles.
Every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import policy
from agents.points.models import AgentPoint
from agents.policy import Permission
from agents.staff import sessions
from agents.staff.actor import Actor, Grant
from agents.staff.models import Account, AccountStatus, Invitation, Role, RoleAssignment
from agents.staff.service import check_new_password, failures_key, hash_password, locked_until
from portal.core import audit, throttle
from portal.core.db import utcnow
from portal.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from portal.core.i18n import N_

INVITATION_LIFETIME = timedelta(days=7)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def may_manage(actor: Actor, partner_id: uuid.UUID | None) -> bool:
    """A partner's people (partner_id) or the center's own people (None)."""
    if partner_id is None:
        return policy.can(actor, Permission.manage_center_roles)
    return policy.can(actor, Permission.manage_staff, partner_id=partner_id)


def _require_manager(actor: Actor, partner_id: uuid.UUID | None) -> None:
    if not may_manage(actor, partner_id):
        raise PermissionDenied(policy.MESSAGES[Permission.manage_staff])


def _check_role_scope(
    session: Session, role: Role, partner_id: uuid.UUID | None, agent_point_id: uuid.UUID | None
) -> None:
    if role.is_center:
        if partner_id is not None or agent_point_id is not None:
            raise ValidationFailed("Vai trò Trung tâm không gắn với đối tác", field_errors={"role": N_("Không hợp lệ")})
        return
    if partner_id is None:
        raise ValidationFailed("Vai trò này phải gắn với một đối tác", field_errors={"role": N_("Không hợp lệ")})
    if role.is_point:
        point = session.get(AgentPoint, agent_point_id) if agent_point_id else None
        if point is None or point.partner_id != partner_id:
            raise ValidationFailed("Chọn điểm đại lý của đối tác", field_errors={"agent_point_id": N_("Bắt buộc nhập")})
    elif agent_point_id is not None:
        raise ValidationFailed(
            "Quản lý đối tác không gắn với một điểm", field_errors={"agent_point_id": N_("Không hợp lệ")}
        )


def invite(
    session: Session,
    actor: Actor,
    *,
    email: str,
    full_name: str,
    role: Role,
    partner_id: uuid.UUID | None,
    agent_point_id: uuid.UUID | None = None,
) -> tuple[Invitation, str]:
    """Invite one email to one role. Returns the invitation and its secret token (shown once)."""
    _require_manager(actor, partner_id)
    if role.is_center:
        policy.require(actor, Permission.manage_center_roles, message="Chỉ Trung tâm được mời vai trò Trung tâm")
    email = email.strip().lower()
    errors = {}
    if "@" not in email or len(email) > 254:
        errors["email"] = N_("Email không hợp lệ")
    if not full_name.strip():
        errors["full_name"] = N_("Bắt buộc nhập")
    if errors:
        raise ValidationFailed("Lời mời chưa hợp lệ", field_errors=errors)
    _check_role_scope(session, role, partner_id, agent_point_id)
    open_invite = session.scalar(
        select(Invitation).where(
            Invitation.email == email,
            Invitation.partner_id == partner_id,
            Invitation.accepted_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    )
    if open_invite is not None:
        raise Conflict("Email này đã có lời mời đang chờ kích hoạt")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        partner_id=partner_id,
        email=email,
        full_name=full_name.strip(),
        role=role,
        agent_point_id=agent_point_id,
        token_hash=_token_hash(token),
        invited_by=actor.account_id,
        expires_at=utcnow() + INVITATION_LIFETIME,
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        "account.invited",
        "invitation",
        invitation.id,
        partner_id=partner_id,
        detail={"email": email, "role": role.value, "agent_point_id": str(agent_point_id or "")},
    )
    return invitation, token


def invitation_by_token(session: Session, token: str) -> Invitation:
    """An open invitation for this link (needs a network scope: the invitee has none yet)."""
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == _token_hash(token or "")))
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= utcnow():
        raise NotFound("Lời mời không tồn tại, đã dùng hoặc đã hết hạn")
    return invitation


def open_invitation_for(session: Session, email: str, partner_id: uuid.UUID) -> Invitation | None:
    """The open invitation of this email at this partner, if any (single sign-on uses it)."""
    return session.scalar(
        select(Invitation).where(
            Invitation.email == email.strip().lower(),
            Invitation.partner_id == partner_id,
            Invitation.accepted_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
    )


def pending_invitations(session: Session, actor: Actor, partner_id: uuid.UUID) -> list[Invitation]:
    """The partner's invitations not yet accepted and not expired, newest first (its manager sees them)."""
    _require_manager(actor, partner_id)
    return list(
        session.scalars(
            select(Invitation)
            .where(
                Invitation.partner_id == partner_id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.expires_at.desc())
        )
    )


def accept_invitation(
    session: Session,
    invitation: Invitation,
    *,
    password: str | None = None,
    sso_issuer: str | None = None,
    sso_subject: str | None = None,
    as_account_id: uuid.UUID | None = None,
) -> Account | None:
    """Activate: create the account, or add the role to the person's existing one.

    An invitation never sets the credentials of an account that already exists
    (whoever holds the link would take it over): an existing account accepts only
    while signed in as itself (`as_account_id`), and keeps its password and SSO link.
    Anyone else activating for an email that has an account gets the answer a new
    account gets, and nothing changes (None): whoever invites must not learn
    which emails have accounts.
    """
    account = session.scalar(select(Account).where(Account.email == invitation.email))
    if account is not None and as_account_id != account.id:
        # Answered exactly like a new activation (the link's holder must not learn that the
        # email has an account anywhere); nothing changes, the attempt is on the record.
        if password is not None:
            check_new_password(password)
        audit.record_refusal(
            session,
            "account.activation_refused",
            "invitation",
            invitation.id,
            partner_id=invitation.partner_id,
            detail={"reason": "email_has_account_sign_in_first"},
            actor_label=invitation.email,
        )
        return None
    if account is not None:
        if account.status is AccountStatus.deactivated:
            raise PermissionDenied("Tài khoản đã bị khóa: %(reason)s", params={"reason": account.status_reason or ""})
    else:
        if password is not None:
            check_new_password(password)
        if password is None and not (sso_issuer and sso_subject):
            raise ValidationFailed("Cần đặt mật khẩu", field_errors={"password": N_("Bắt buộc nhập")})
        account = Account(
            email=invitation.email,
            full_name=invitation.full_name,
            status=AccountStatus.active,
            password_hash=hash_password(password) if password is not None else None,
            sso_issuer=sso_issuer if sso_subject else None,
            sso_subject=sso_subject,
        )
        session.add(account)
    session.flush()
    session.add(
        RoleAssignment(
            account_id=account.id,
            role=invitation.role,
            partner_id=invitation.partner_id,
            agent_point_id=invitation.agent_point_id,
        )
    )
    invitation.accepted_at = utcnow()
    invitation.accepted_account_id = account.id
    audit.record(
        session,
        "account.activated",
        "account",
        account.id,
        partner_id=invitation.partner_id,
        actor_id=account.id,
        actor_label=f"{account.full_name} <{account.email}>",
        detail={
            "invitation": str(invitation.id),
            "role": invitation.role.value,
            "via": "sso" if sso_subject else ("signed_in" if as_account_id else "password"),
        },
    )
    return account


def account_exists(session: Session, email: str) -> bool:
    return session.scalar(select(Account.id).where(Account.email == email.strip().lower())) is not None


def _account_in_reach(session: Session, actor: Actor, account_id: uuid.UUID) -> Account:
    """The account, if every role it holds is one the actor manages; otherwise it does not exist for them."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound("Không tìm thấy tài khoản")
    roles = session.scalars(select(RoleAssignment).where(RoleAssignment.account_id == account_id)).all()
    if not roles and not policy.can(actor, Permission.manage_center_roles):
        raise NotFound("Không tìm thấy tài khoản")
    if not all(may_manage(actor, r.partner_id) for r in roles):
        if not any(may_manage(actor, r.partner_id) for r in roles):
            raise NotFound("Không tìm thấy tài khoản")
        raise PermissionDenied("Người này còn vai trò ở đối tác khác; liên hệ Trung tâm")
    return account


def deactivate(session: Session, actor: Actor, account_id: uuid.UUID, reason: str) -> Account:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Cần ghi lý do khóa tài khoản", field_errors={"reason": N_("Bắt buộc nhập")})
    if account_id == actor.account_id:
        raise Conflict("Không thể tự khóa tài khoản của mình")
    account = _account_in_reach(session, actor, account_id)
    account.status = AccountStatus.deactivated
    account.status_reason = reason[:500]
    ended = sessions.revoke_all(session, account.id, "deactivated")
    audit.record(
        session,
        "account.deactivated",
        "account",
        account.id,
        detail={"reason": account.status_reason, "sessions_ended": ended},
    )
    return account


def reactivate(session: Session, actor: Actor, account_id: uuid.UUID) -> Account:
    account = _account_in_reach(session, actor, account_id)
    if account.status is not AccountStatus.deactivated:
        raise Conflict("Tài khoản đang hoạt động")
    account.status = AccountStatus.active
    account.failed_logins = 0
    account.locked_until = None
    audit.record(
        session, "account.reactivated", "account", account.id, detail={"previous_reason": account.status_reason}
    )
    account.status_reason = None
    return account


def change_role(
    session: Session, actor: Actor, assignment_id: uuid.UUID, role: Role, agent_point_id: uuid.UUID | None
) -> RoleAssignment:
    assignment = session.get(RoleAssignment, assignment_id)
    if assignment is None or not may_manage(actor, assignment.partner_id):
        raise NotFound("Không tìm thấy vai trò")
    if role.is_center:
        raise PermissionDenied("Không thể đổi sang vai trò Trung tâm")
    _check_role_scope(session, role, assignment.partner_id, agent_point_id)
    before = {"role": assignment.role.value, "agent_point_id": str(assignment.agent_point_id or "")}
    assignment.role = role
    assignment.agent_point_id = agent_point_id
    audit.record(
        session,
        "account.role_changed",
        "account",
        assignment.account_id,
        partner_id=assignment.partner_id,
        detail={"before": before, "after": {"role": role.value, "agent_point_id": str(agent_point_id or "")}},
    )
    return assignment


def people_of_partner(session: Session, actor: Actor, partner_id: uuid.UUID) -> list[tuple[Account, RoleAssignment]]:
    """Everyone holding a role at this partner (needs the partner's scope)."""
    _require_manager(actor, partner_id)
    rows = session.execute(
        select(Account, RoleAssignment)
        .join(RoleAssignment, RoleAssignment.account_id == Account.id)
        .where(RoleAssignment.partner_id == partner_id)
        .order_by(Account.full_name)
    ).all()
    return [(row[0], row[1]) for row in rows]


def unlock_sign_in(session: Session, actor: Actor, account_id: uuid.UUID) -> bool:
    """Lift the person's sign-in lock (their failure count starts again); whether they were locked.

    A partner manager for their partner's people, a point lead for their point's
    staff (`policy.may_unlock_sign_in`); anyone else is answered as if the
    account did not exist. Audited whether or not a lock was in force.
    """
    account = session.get(Account, account_id)
    roles = session.scalars(select(RoleAssignment).where(RoleAssignment.account_id == account_id)).all()
    grants = [Grant(r.role, r.partner_id, r.agent_point_id) for r in roles]
    if account is None or account_id == actor.account_id or not policy.may_unlock_sign_in(actor, grants):
        raise NotFound("Không tìm thấy tài khoản")
    was_locked = locked_until(session, account.email) is not None
    throttle.reset(session, failures_key(account.email))
    audit.record(session, "account.sign_in_unlocked", "account", account.id, detail={"was_locked": was_locked})
    return was_locked


def sign_in_locks(session: Session, actor: Actor, partner_id: uuid.UUID) -> list[tuple[Account, datetime | None]]:
    """The partner's people whose sign-in lock the actor may lift, each with the end of their lock (or None)."""
    rows = session.execute(
        select(Account, RoleAssignment)
        .join(RoleAssignment, RoleAssignment.account_id == Account.id)
        .where(RoleAssignment.partner_id == partner_id)
        .order_by(Account.full_name)
    ).all()
    seen: dict[uuid.UUID, tuple[Account, datetime | None]] = {}
    for account, assignment in rows:
        grant = Grant(assignment.role, assignment.partner_id, assignment.agent_point_id)
        if account.id in seen or account.id == actor.account_id or not policy.may_unlock_sign_in(actor, [grant]):
            continue
        seen[account.id] = (account, locked_until(session, account.email))
    return list(seen.values())
