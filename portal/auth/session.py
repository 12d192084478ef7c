"""Who is signed in: the session cookie names an account; roles are re-read every request.

Re-reading means a deactivated account or a suspended partner loses access on
its next request, not when its cookie expires.
"""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection

from agents import policy
from agents.policy import Permission
from agents.staff.actor import Actor, load_actor
from portal.core.db import read_only
from portal.core.errors import AuthenticationFailed, PermissionDenied
from portal.core.tenancy import Scope

ACCOUNT_KEY = "account_id"
PARTNER_KEY = "partner_id"


def client_ip(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    return request.client.host if request.client else ""


def current_actor(request: ASGIConnection[Any, Any, Any, Any]) -> Actor | None:
    if "actor" in request.state:
        return request.state["actor"]
    actor = None
    raw = request.session.get(ACCOUNT_KEY) if request.scope.get("session") is not None else None
    if raw:
        scope = Scope.network("load the signed-in person's roles", origin=client_ip(request))
        with read_only(scope) as session:
            actor = load_actor(session, uuid.UUID(raw))
        if actor is None:
            request.clear_session()
    request.state["actor"] = actor
    return actor


def require_actor(request: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    actor = current_actor(request)
    if actor is None:
        raise AuthenticationFailed("Vui lòng đăng nhập")
    return actor


def sign_in(request: Request[Any, Any, Any], actor: Actor) -> None:
    request.clear_session()
    request.set_session({ACCOUNT_KEY: str(actor.account_id)})
    if actor.partner_ids:
        request.session[PARTNER_KEY] = str(actor.partner_ids[0])
    request.state["actor"] = actor


def sign_out(request: Request[Any, Any, Any]) -> None:
    request.clear_session()


def active_partner_id(request: ASGIConnection[Any, Any, Any, Any], actor: Actor) -> uuid.UUID:
    """The partner the person is working for now (a person may hold roles at several)."""
    raw = request.session.get(PARTNER_KEY)
    if raw and uuid.UUID(raw) in actor.partner_ids:
        return uuid.UUID(raw)
    if not actor.partner_ids:
        raise PermissionDenied("Trang này dành cho nhân viên đối tác")
    return actor.partner_ids[0]


def partner_scope(request: Request[Any, Any, Any], actor: Actor) -> Scope:
    return actor.partner_scope(active_partner_id(request, actor), origin=client_ip(request))


def landing_for(actor: Actor) -> str:
    """Where a person lands after signing in: the first page their roles are for."""
    if policy.can(actor, Permission.file_dossiers):
        return "/dossiers"
    if policy.can(actor, Permission.see_partner_figures):
        return "/partner/dashboard"
    if policy.can(actor, Permission.manage_partners):
        return "/center/dashboard"
    return "/audit"


def safe_next(target: str) -> str:
    """A local path to return to after signing in, or "" (no other site, no scheme-relative tricks)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return ""
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target) or len(target) > 500:
        return ""
    return target
