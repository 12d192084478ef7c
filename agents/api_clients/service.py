"""API clients of a partner's own systems: registered, listed and revoked by the partner's manager.

A partner manager registers and revokes the API clients of their own partner
(a center admin may do it for any partner, in that partner's scope). The
secret is shown once and stored as an argon2 hash. A client acts as an
`Actor` that the services accept unchanged (role `agent_staff` at the
client's agent point), labelled with the client *and* the named person
accountable for it. Tokens: agents/api_clients/tokens.py.
"""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agents import policy
from agents.api_clients.models import API_SCOPES, ApiClient, ApiClientStatus, ApiToken
from agents.api_clients.rules import CLIENT_ID_PREFIX, POINT_SCOPES
from agents.points.models import AgentPoint
from agents.policy import Permission
from agents.staff.actor import Actor, Grant
from agents.staff.models import Account, AccountStatus, Role, RoleAssignment
from agents.staff.service import hash_password
from portal.core import audit
from portal.core.db import rows_changed, utcnow
from portal.core.errors import (
    Conflict,
    NotFound,
    TenancyError,
    ValidationFailed,
)
from portal.core.i18n import N_, Message, PluralMessage
from portal.core.tenancy import current_scope


def _partner_of_session(session: Session) -> uuid.UUID:
    scope = current_scope(session)
    if scope.partner_id is None:
        raise TenancyError("API clients are managed in the scope of one partner")
    return scope.partner_id


def client_label(client: ApiClient, owner: Account | None) -> str:
    who = owner.full_name if owner is not None else "(no owner)"
    return f"API client {client.name} ({client.client_id}) for {who}"


def actor_for_client(client: ApiClient, owner: Account) -> Actor:
    """The actor an API client acts as: staff at its agent point, accountable person named.

    `account_id` is the owner's, so rows that must name a person (a dossier's
    `staff_account_id`) name the accountable one; the label says it was the client.
    Its `label` reads "API client <name> (<client_id>) for <owner> <email>".
    """
    grants: tuple[Grant, ...] = ()
    if client.agent_point_id is not None:
        grants = (Grant(Role.agent_staff, client.partner_id, client.agent_point_id),)
    return Actor(
        account_id=owner.id,
        email=owner.email,
        full_name=client_label(client, owner),
        grants=grants,
    )


# -- managing clients (partner manager) ----------------------------------------------


def register_client(
    session: Session,
    actor: Actor,
    *,
    name: str,
    scopes: list[str] | tuple[str, ...] | set[str],
    agent_point_id: uuid.UUID | None,
    owner_account_id: uuid.UUID | None = None,
) -> tuple[ApiClient, str]:
    """Register a client of the session's partner. Returns it and its secret (shown once)."""
    partner_id = _partner_of_session(session)
    policy.require(actor, Permission.manage_api_clients, partner_id=partner_id)

    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = N_("Bắt buộc nhập")
    elif len(name) > 200:
        errors["name"] = N_("Quá dài")
    wanted = sorted(set(scopes or ()))
    unknown = [s for s in wanted if s not in API_SCOPES]
    if not wanted:
        errors["scopes"] = N_("Chọn ít nhất một quyền")
    elif unknown:
        errors["scopes"] = Message("Quyền không tồn tại: %(scopes)s", scopes=", ".join(unknown))
    point: AgentPoint | None = None
    if agent_point_id is not None:
        # Partner scope: another partner's point is simply not found.
        point = session.get(AgentPoint, agent_point_id)
        if point is None or point.partner_id != partner_id:
            errors["agent_point_id"] = N_("Chọn điểm đại lý của đối tác")
    needs_point = sorted(POINT_SCOPES.intersection(wanted))
    if needs_point and agent_point_id is None:
        errors["agent_point_id"] = PluralMessage(
            "Quyền %(scopes)s cần một điểm đại lý của đối tác",
            "Quyền %(scopes)s cần một điểm đại lý của đối tác",
            len(needs_point),
            scopes=", ".join(needs_point),
        )

    owner_id = owner_account_id or actor.account_id
    owner = session.get(Account, owner_id)
    if owner is None or owner.status is not AccountStatus.active:
        errors["owner_account_id"] = N_("Người chịu trách nhiệm phải là một tài khoản đang hoạt động")
    elif owner_account_id is not None and owner_account_id != actor.account_id:
        # Partner scope: only this partner's role rows are visible.
        has_role_here = session.scalar(
            select(RoleAssignment.id)
            .where(RoleAssignment.account_id == owner_id, RoleAssignment.partner_id == partner_id)
            .limit(1)
        )
        if has_role_here is None:
            errors["owner_account_id"] = N_("Người chịu trách nhiệm phải có vai trò tại đối tác")
    if errors:
        raise ValidationFailed("Thông tin ứng dụng chưa hợp lệ", field_errors=errors)

    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        partner_id=partner_id,
        client_id=CLIENT_ID_PREFIX + secrets.token_hex(12),
        secret_hash=hash_password(secret),
        name=name,
        scopes=wanted,
        agent_point_id=point.id if point is not None else None,
        owner_account_id=owner_id,
        status=ApiClientStatus.active,
    )
    session.add(client)
    session.flush()
    audit.record(
        session,
        "api_client.registered",
        "api_client",
        client.id,
        partner_id=partner_id,
        detail={
            "client_id": client.client_id,
            "name": name,
            "scopes": wanted,
            "agent_point_id": str(client.agent_point_id or ""),
            "owner_account_id": str(owner_id),
        },
    )
    return client, secret


def list_clients(session: Session, actor: Actor) -> list[ApiClient]:
    partner_id = _partner_of_session(session)
    policy.require(actor, Permission.manage_api_clients, partner_id=partner_id)
    return list(session.scalars(select(ApiClient).order_by(ApiClient.created_at.desc())))


def owners_of(session: Session, clients: list[ApiClient]) -> dict[uuid.UUID, Account | None]:
    """The accountable person of each client, by account id."""
    return {c.owner_account_id: session.get(Account, c.owner_account_id) for c in clients}


def revoke_client(session: Session, actor: Actor, client_id: str, reason: str) -> ApiClient:
    """Revoke a client of the session's partner: its tokens stop working at once."""
    partner_id = _partner_of_session(session)
    policy.require(actor, Permission.manage_api_clients, partner_id=partner_id)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("Vui lòng nêu lý do thu hồi", field_errors={"reason": N_("Bắt buộc nhập")})
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == (client_id or "").strip()))
    if client is None:
        raise NotFound("Không tìm thấy ứng dụng kết nối API")
    if client.status is ApiClientStatus.revoked:
        raise Conflict("Ứng dụng này đã bị thu hồi trước đó")
    now = utcnow()
    client.status = ApiClientStatus.revoked
    client.status_reason = reason[:1000]
    # The client's status is checked on every request, so its tokens are
    # already dead; expiring them too means they stay dead whatever happens
    # to the client row later.
    expired = rows_changed(
        session,
        update(ApiToken)
        .where(ApiToken.api_client_id == client.id, ApiToken.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False),
    )
    audit.record(
        session,
        "api_client.revoked",
        "api_client",
        client.id,
        partner_id=client.partner_id,
        detail={"client_id": client.client_id, "reason": reason, "tokens_expired": int(expired or 0)},
    )
    return client
