"""Access tokens for partner systems (OAuth2 client credentials, RFC 6749 §4.4).

A client exchanges its id and secret for a short-lived bearer token limited to
the scopes it was granted; a bearer request is then resolved to the actor the
client stands for. Tokens are stored as SHA-256 hashes (long random strings,
so a fast hash is enough and lets us look them up). Every refusal is written
to the audit log in its own transaction (`audit.record_refusal`), so it stays
although the request fails.

Tenancy: a token request or a bearer request does not know its partner until
the client or token has been found, so those look-ups run in an explicit
network scope (the caller's unit of work); everything written for an
identified client happens in a unit scoped to that client's partner.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.api_clients.models import API_SCOPES, ApiClient, ApiClientStatus, ApiToken
from agents.api_clients.service import actor_for_client, client_label
from agents.partners.models import Partner, PartnerStatus
from agents.staff.actor import Actor
from agents.staff.models import Account, AccountStatus
from agents.staff.service import hash_password
from portal.core import audit
from portal.core.db import utcnow
from portal.core.errors import (
    AuthenticationFailed,
    DomainError,
    PermissionDenied,
    TenancyError,
)
from portal.core.i18n import N_, Message
from portal.core.settings import get_settings
from portal.core.tenancy import Scope, current_scope

_verifier = PasswordHasher()
# Checking a secret against this keeps "unknown client" as slow as "wrong secret".
_DUMMY_HASH = hash_password("not-a-real-client-secret")


# -- errors (RFC 6749 §5.2: `code` is the RFC's error code) ----------------------


class OAuthError(DomainError):
    """A token request refused; `code` is the `error` value of RFC 6749 §5.2."""

    code = "invalid_request"


class InvalidRequest(OAuthError):
    status_code = 400
    code = "invalid_request"


class InvalidClient(OAuthError):
    """Unknown client, wrong secret, or a revoked client (401)."""

    status_code = 401
    code = "invalid_client"


class InvalidScope(OAuthError):
    status_code = 400
    code = "invalid_scope"


class UnsupportedGrantType(OAuthError):
    status_code = 400
    code = "unsupported_grant_type"


# -- results -------------------------------------------------------------------------


class IssuedToken(NamedTuple):
    access_token: str
    expires_in: int  # seconds
    scopes: tuple[str, ...]


class ApiCaller(NamedTuple):
    """Who is behind a bearer token: the actor the services see, the client, the token's scopes."""

    actor: Actor
    client: ApiClient
    scopes: frozenset[str]


def require_scope(scopes: frozenset[str] | set[str] | tuple[str, ...] | list[str], needed: str) -> None:
    """Per-action check for bearer callers: the token must carry `needed`."""
    if needed not in scopes:
        raise PermissionDenied(
            "Mã truy cập không có quyền “%(scope)s” (%(label)s)",
            params={"scope": needed, "label": Message(API_SCOPES.get(needed, needed))},
        )


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# -- tokens ---------------------------------------------------------------------------


def _require_lookup_scope(session: Session) -> Scope:
    scope = current_scope(session)
    if not scope.all_partners:
        raise TenancyError("client and token look-ups need an explicit network scope (the partner is not known yet)")
    return scope


def _refusal_reason(client: ApiClient, session: Session) -> tuple[str, str] | None:
    """Why an identified client may not act now (reason code, message), or None."""
    if client.status is not ApiClientStatus.active:
        return "client_revoked", N_("Ứng dụng đã bị thu hồi quyền truy cập API; liên hệ quản lý đối tác")
    partner = session.get(Partner, client.partner_id)
    if partner is None or partner.status is not PartnerStatus.active:
        return "partner_suspended", N_("Đối tác đang bị tạm dừng; ứng dụng không được truy cập API")
    owner = session.get(Account, client.owner_account_id)
    if owner is None or owner.status is not AccountStatus.active:
        return "owner_inactive", N_("Người chịu trách nhiệm của ứng dụng không còn hoạt động; liên hệ quản lý đối tác")
    return None


class ClientGrant(NamedTuple):
    """A client that proved who it is, and the scopes its token will carry."""

    client_id: uuid.UUID  # the row's id
    partner_id: uuid.UUID
    scopes: tuple[str, ...]
    scope: Scope  # the partner scope the token is written in


def authenticate_client(
    session: Session,
    client_id: str,
    client_secret: str,
    requested_scopes: list[str] | tuple[str, ...] | None,
) -> ClientGrant:
    """Client credentials grant, first half: check the client and the scopes it asks for.

    `session` is a network-scoped unit used to find the client (its partner is
    not known before). Refusals are audited in their own transaction and raise
    InvalidClient / InvalidScope. The token is then written by `issue_token` in
    a unit scoped to the client's partner (`grant.scope`).
    """
    lookup_scope = _require_lookup_scope(session)
    client_id = (client_id or "").strip()
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id)) if client_id else None

    def refuse(reason: str, error: OAuthError) -> OAuthError:
        audit.record_refusal(
            session,
            "api_client.token_refused",
            "api_client",
            client.id if client else None,
            partner_id=client.partner_id if client else None,
            actor_label=f"API client {client_id[:64] or '(blank)'}",
            detail={
                "client_id": client_id[:64],
                "reason": reason,
                "requested_scopes": [str(s)[:64] for s in (requested_scopes or [])][:10],
            },
        )
        return error

    try:
        _verifier.verify(client.secret_hash if client else _DUMMY_HASH, client_secret or "-")
        secret_ok = client is not None
    except (VerificationError, InvalidHashError):
        secret_ok = False
    if not secret_ok:
        raise refuse(
            "unknown_client" if client is None else "wrong_secret",
            InvalidClient("Mã ứng dụng hoặc khóa bí mật không đúng"),
        )
    assert client is not None
    refusal = _refusal_reason(client, session)
    if refusal is not None:
        raise refuse(refusal[0], InvalidClient(refusal[1]))

    granted = list(client.scopes or [])
    wanted = list(requested_scopes or []) or granted
    not_granted = [s for s in wanted if s not in granted]
    if not_granted:
        raise refuse(
            "scope_not_granted",
            InvalidScope("Ứng dụng không được cấp quyền: %(scopes)s", params={"scopes": ", ".join(not_granted)}),
        )
    token_scopes = tuple(s for s in granted if s in wanted)  # the client's order, no repeats
    scope = Scope.partner(
        client.partner_id,
        actor_id=client.owner_account_id,
        actor_label=f"API client {client.name} ({client.client_id})",
        origin=lookup_scope.origin,
    )
    return ClientGrant(client.id, client.partner_id, token_scopes, scope)


def issue_token(session: Session, grant: ClientGrant) -> IssuedToken:
    """Client credentials grant, second half: write the token, in the client's partner scope."""
    ttl = get_settings().api_clients.token_ttl_seconds
    token = secrets.token_urlsafe(32)
    live = session.get(ApiClient, grant.client_id)
    if live is None or live.status is not ApiClientStatus.active:  # revoked in between
        raise InvalidClient("Ứng dụng đã bị thu hồi quyền truy cập API; liên hệ quản lý đối tác")
    owner = session.get(Account, live.owner_account_id)
    owner_label = client_label(live, owner)
    expires_at = utcnow() + timedelta(seconds=ttl)
    row = ApiToken(
        partner_id=live.partner_id,
        api_client_id=live.id,
        token_hash=_sha256(token),
        scopes=list(grant.scopes),
        expires_at=expires_at,
    )
    session.add(row)
    live.last_used_at = utcnow()
    session.flush()
    audit.record(
        session,
        "api_client.token_issued",
        "api_client",
        live.id,
        partner_id=live.partner_id,
        actor_label=owner_label,
        detail={
            "client_id": live.client_id,
            "token_id": str(row.id),
            "scopes": list(grant.scopes),
            "expires_at": expires_at.isoformat(),
        },
    )
    return IssuedToken(token, ttl, grant.scopes)


def actor_for_token(session: Session, bearer: str) -> ApiCaller:
    """Who a bearer token stands for, or AuthenticationFailed (audited in its own transaction).

    `session` is a network-scoped session (the token names its partner only
    once found); the caller continues in `Scope.partner(caller.client.partner_id, ...)`.
    """
    _require_lookup_scope(session)
    bearer = (bearer or "").strip()
    row: ApiToken | None = None
    client: ApiClient | None = None
    if bearer:
        # One round trip for everything the checks below read: the token, its client, the client's
        # partner and owner land in the session's identity map, where `session.get` finds them.
        found = session.execute(
            select(ApiToken, ApiClient, Partner, Account)
            .join(ApiClient, ApiClient.id == ApiToken.api_client_id)
            .outerjoin(Partner, Partner.id == ApiClient.partner_id)
            .outerjoin(Account, Account.id == ApiClient.owner_account_id)
            .where(ApiToken.token_hash == _sha256(bearer))
        ).first()
        if found is not None:
            row, client = found[0], found[1]

    def reject(reason: str, message: str) -> AuthenticationFailed:
        audit.record_refusal(
            session,
            "api_client.token_rejected",
            "api_client",
            client.id if client else None,
            partner_id=client.partner_id if client else None,
            actor_label=f"API client {client.client_id}" if client else "API bearer (unknown token)",
            detail={
                "reason": reason,
                **({"client_id": client.client_id, "token_id": str(row.id)} if client and row else {}),
            },
        )
        return AuthenticationFailed(message)

    if row is None or client is None:
        raise reject("unknown_token" if bearer else "blank_token", "Mã truy cập không hợp lệ")
    if row.expires_at <= utcnow():
        # A revoked client's tokens are expired at revocation: say which it was.
        if client.status is not ApiClientStatus.active:
            raise reject("client_revoked", "Ứng dụng đã bị thu hồi quyền truy cập API; liên hệ quản lý đối tác")
        raise reject("expired", "Mã truy cập đã hết hạn; vui lòng lấy mã mới")
    refusal = _refusal_reason(client, session)
    if refusal is not None:
        raise reject(*refusal)
    owner = session.get(Account, client.owner_account_id)
    assert owner is not None
    return ApiCaller(actor_for_client(client, owner), client, frozenset(row.scopes or []))
