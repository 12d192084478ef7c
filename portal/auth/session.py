"""Who is signed in: the session cookie names a server-side session; roles are re-read every request.

The cookie (`portal_session`) holds a random token and a MAC over it; the
database holds the token's hash (agents/staff/sessions.py). Signing out,
"sign out everywhere", deactivation, a partner's suspension and a password
change revoke the session there, so a copy of the cookie opens nothing
afterwards. A cookie whose MAC does not hold (tampered, forged) signs nobody
in, is cleared, and is put on the record once per source and cookie.
Re-reading the roles means a deactivated account or a suspended partner
loses access on its next request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.types import Message
from litestar.types import Scope as AsgiScope
from sqlalchemy.orm import Session

from agents import policy
from agents.policy import Permission
from agents.staff import sessions
from agents.staff.actor import Actor, load_actor
from portal.auth.security_events import record_security_event
from portal.core import audit
from portal.core.db import read_only, unit_of_work, utcnow
from portal.core.errors import AuthenticationFailed, PermissionDenied
from portal.core.settings import get_settings
from portal.core.tenancy import Scope

SESSION_COOKIE = "portal_session"
_COOKIE_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{32}")
_STATE_SIGN_IN = "sign_in"
_STATE_COOKIE = "session_cookie"  # what the answer must do with the cookie: a new value, or "" to clear it
# The browser a person signed in on lately: a correct password from it passes a sign-in lock (docs/security.md).
DEVICE_COOKIE = "portal_device"
_DEVICE_SHAPE = re.compile(r"([0-9a-f]{32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{32})")
_STATE_DEVICE = "device_cookie"


@dataclass(frozen=True)
class SignedIn:
    """The live session of this request."""

    session_id: uuid.UUID
    account_id: uuid.UUID
    active_partner_id: uuid.UUID | None


def client_ip(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    return request.client.host if request.client else ""


def _mac(token: str, purpose: str = "session-cookie") -> str:
    key = hashlib.sha256((purpose + ":" + get_settings().keys.secret_key).encode()).digest()
    digest = hmac.new(key, token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:32]


def cookie_value(token: str) -> str:
    return f"{token}.{_mac(token)}"


def token_of(raw: str) -> str | None:
    """The session token a cookie carries, or None when the cookie is not one we issued intact."""
    if not _COOKIE_SHAPE.fullmatch(raw):
        return None
    token, mac = raw.split(".")
    return token if hmac.compare_digest(mac.encode(), _mac(token).encode()) else None


def trusted_device(request: ASGIConnection[Any, Any, Any, Any]) -> uuid.UUID | None:
    """The account whose recent sign-in this browser's device cookie proves, if it is intact and recent."""
    days = get_settings().sign_in.trusted_device_days
    match = _DEVICE_SHAPE.fullmatch(request.cookies.get(DEVICE_COOKIE) or "")
    if match is None or days == 0:
        return None
    account, issued, mac = match.groups()
    if not hmac.compare_digest(mac.encode(), _mac(f"{account}.{issued}", "device-cookie").encode()):
        return None
    if not 0 <= utcnow().timestamp() - int(issued) <= days * 86400:
        return None
    return uuid.UUID(hex=account)


def remember_device(request: Request[Any, Any, Any], account_id: uuid.UUID) -> None:
    """Mark this browser as the person's recent device (after a correct password)."""
    if get_settings().sign_in.trusted_device_days == 0:
        return
    body = f"{account_id.hex}.{int(utcnow().timestamp())}"
    request.state[_STATE_DEVICE] = f"{body}.{_mac(body, 'device-cookie')}"


def _refusal(request: ASGIConnection[Any, Any, Any, Any], action: str, repeat_key: str, detail: dict[str, Any]) -> None:
    """On the record once per source and cookie; the same cookie again is only counted."""
    record_security_event(action, client_ip(request), {"path": request.url.path, **detail}, repeat_key)


def _load_sign_in(request: ASGIConnection[Any, Any, Any, Any]) -> tuple[SignedIn, Actor] | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    token = token_of(raw)
    if token is None:
        request.state[_STATE_COOKIE] = ""
        _refusal(
            request,
            "security.session_cookie_rejected",
            hashlib.sha256(raw.encode(errors="replace")).hexdigest(),
            {"error": "bad_signature"},
        )
        return None
    now = utcnow()
    origin = client_ip(request)
    with read_only(Scope.network("load the signed-in person's session and roles", origin=origin)) as session:
        row = sessions.find(session, token)
        ended = "unknown" if row is None else sessions.expiry_reason(row, now)
        actor = load_actor(session, row.account_id) if row is not None and ended is None else None
    if row is None or ended is not None or actor is None:
        request.state[_STATE_COOKIE] = ""
        if row is None or row.revoked_at is not None:
            # A cookie kept after its session was revoked (a copy taken before sign-out, say).
            _refusal(
                request,
                "security.session_cookie_rejected",
                str(row.id) if row else token,
                {"error": "revoked" if row else "unknown", "reason": ended},
            )
        return None
    if sessions.needs_touch(row, now):
        with unit_of_work(Scope.network("record the use of a sign-in session", origin=origin)) as session:
            sessions.touch(session, row.id, now)
    return SignedIn(row.id, row.account_id, row.active_partner_id), actor


def current_sign_in(request: ASGIConnection[Any, Any, Any, Any]) -> SignedIn | None:
    current_actor(request)
    return request.state.get(_STATE_SIGN_IN)


def current_actor(request: ASGIConnection[Any, Any, Any, Any]) -> Actor | None:
    if "actor" in request.state:
        return request.state["actor"]
    loaded = _load_sign_in(request)
    request.state[_STATE_SIGN_IN] = loaded[0] if loaded else None
    request.state["actor"] = loaded[1] if loaded else None
    return request.state["actor"]


def require_actor(request: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    actor = current_actor(request)
    if actor is None:
        raise AuthenticationFailed("Vui lòng đăng nhập")
    return actor


def sign_in(
    request: Request[Any, Any, Any], session: Session, actor: Actor, *, partner_id: uuid.UUID | None = None
) -> None:
    """Open a new server-side session in the request's unit of work (a fresh token; any old one ends)."""
    previous = current_sign_in(request) if request.cookies.get(SESSION_COOKIE) else None
    active = partner_id if partner_id in actor.partner_ids else (actor.partner_ids[0] if actor.partner_ids else None)
    if previous is not None:
        sessions.revoke(session, previous.session_id, "signed_in_again")
    row, token = sessions.open_session(
        session,
        actor.account_id,
        active_partner_id=active,
        user_agent=request.headers.get("user-agent", ""),
        origin=client_ip(request),
    )
    request.state[_STATE_COOKIE] = cookie_value(token)
    request.state[_STATE_SIGN_IN] = SignedIn(row.id, actor.account_id, active)
    request.state["actor"] = actor


def sign_out(request: Request[Any, Any, Any], session: Session, *, everywhere: bool = False) -> int:
    """End this session (or every session of the person) in the request's unit of work; how many ended."""
    signed_in = current_sign_in(request)
    request.state[_STATE_COOKIE] = ""
    request.state[_STATE_SIGN_IN] = None
    request.state["actor"] = None
    if signed_in is None:
        return 0
    if everywhere:
        ended = sessions.revoke_all(session, signed_in.account_id, "signed_out_everywhere")
        audit.record(
            session,
            "auth.signed_out_everywhere",
            "account",
            signed_in.account_id,
            actor_id=signed_in.account_id,
            detail={"sessions": ended},
        )
        return ended
    return int(sessions.revoke(session, signed_in.session_id, "signed_out"))


def session_cookie_writer(*, production: bool) -> Any:
    """The `before_send` hook that sets or clears the cookies the request decided on (session, device)."""
    settings = get_settings()
    lifetimes = {
        _STATE_COOKIE: (SESSION_COOKIE, settings.session.absolute_lifetime_seconds),
        _STATE_DEVICE: (DEVICE_COOKIE, settings.sign_in.trusted_device_days * 86400),
    }

    async def write_session_cookie(message: Message, scope: AsgiScope) -> None:
        if message["type"] != "http.response.start":
            return
        state = scope.get("state", {})
        headers = MutableScopeHeaders.from_message(message)
        for state_key, (name, lifetime) in lifetimes.items():
            value = state.get(state_key)
            if value is None:
                continue
            cookie = Cookie(
                key=name,
                value=value or "",
                max_age=lifetime if value else 0,
                path="/",
                httponly=True,
                secure=production,
                samesite="lax",
            )
            headers.add("set-cookie", cookie.to_header(header=""))

    return write_session_cookie


def active_partner_id(request: ASGIConnection[Any, Any, Any, Any], actor: Actor) -> uuid.UUID:
    """The partner the person is working for now (a person may hold roles at several)."""
    signed_in = current_sign_in(request)
    chosen = signed_in.active_partner_id if signed_in else None
    if chosen is not None and chosen in actor.partner_ids:
        return chosen
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
