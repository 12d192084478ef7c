"""Who is calling the JSON API: a signed-in person (cookie) or a partner system (bearer token).

- `POST /api/oauth/token` (RFC 6749 §4.4, client credentials): `token_response`
  parses the request, calls `agents.api_clients.tokens` and answers
  in the RFC's shape (`error` / `error_description`, `Cache-Control: no-store`).
- API routes that accept both kinds of caller use `api_caller(request, scope)`.
  With an `Authorization: Bearer` header the token is the *only* credential
  considered (a cookie sent along is ignored, so a bad token is never rescued
  by an ambient session); without it, the signed-in session is used as before.

CSRF: cross-site request forgery works because browsers attach cookies to
requests on their own. A bearer token is never attached by the browser (a page
on another site cannot set an Authorization header without a CORS grant, which
this app does not give), so a bearer request needs no CSRF token; a cookie
request still does. Litestar's exemption (`exclude_from_csrf`) is per route,
not per request, so the routes that accept bearer tokens are exempted from the
app-wide check and wear `BearerOrCSRFMiddleware` instead, which runs Litestar's
own CSRF check (same configuration, same cookie, same header) for every request
that does not carry a bearer token. Nothing about the CSRF check is reimplemented.
"""

from __future__ import annotations

import base64
import dataclasses
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from litestar import MediaType, Request, Response
from litestar.datastructures import Headers
from litestar.middleware.csrf import CSRFMiddleware

from agents.api_clients import tokens
from agents.api_clients.models import ApiClient
from agents.api_clients.rules import parse_scopes
from agents.staff.actor import Actor
from portal.auth.session import client_ip, partner_scope, require_actor
from portal.core.db import read_only, unit_of_work
from portal.core.tenancy import Scope
from portal.i18n import request_language, translate
from portal.security import rate_limits

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Receive, Send
    from litestar.types import Scope as ASGIScope

# RFC 6749 §5.1: token responses (and their errors) must not be cached.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_NEVER_EXCLUDED = "__bearer_or_csrf_never_excluded__"


def bearer_token(headers: Headers | Any) -> str | None:
    """The token of an `Authorization: Bearer <token>` header ("" if blank), else None."""
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


class BearerOrCSRFMiddleware:
    """Route middleware: CSRF check unless the request authenticates with a bearer token.

    Put it on a handler together with `exclude_from_csrf=True` (which switches
    off the app-wide check for that route only), and have the handler resolve
    its caller with `api_caller`, which never falls back to the cookie when a
    bearer header is present.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._csrf: CSRFMiddleware | None = None

    async def __call__(self, scope: ASGIScope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or bearer_token(Headers.from_scope(scope)) is not None:
            await self.app(scope, receive, send)
            return
        if self._csrf is None:
            config = scope["litestar_app"].csrf_config
            if config is None:  # CSRF switched off for the whole app
                await self.app(scope, receive, send)
                return
            # The app's own configuration, except that this route's opt-out does not apply here.
            self._csrf = CSRFMiddleware(self.app, dataclasses.replace(config, exclude_from_csrf_key=_NEVER_EXCLUDED))
        await self._csrf(scope, receive, send)


@dataclasses.dataclass(frozen=True)
class Caller:
    """An API caller resolved for one request, with the scope to open its session in."""

    actor: Actor
    scope: Scope
    client: ApiClient | None = None  # None for a signed-in person
    token_scopes: frozenset[str] | None = None  # None: a person is limited by their roles only

    @property
    def via_token(self) -> bool:
        return self.client is not None


def api_caller(request: Request[Any, Any, Any], needed_scope: str) -> Caller:
    """The caller of an API route that accepts a session or a bearer token with `needed_scope`.

    Bearer: the token is looked up in an explicit network scope (its partner is
    not known before), then the work continues in the client's partner scope.
    Unknown, forged, expired or revoked tokens raise AuthenticationFailed (401,
    audited); a token without `needed_scope` raises PermissionDenied (403).
    """
    token = bearer_token(request.headers)
    if token is None:
        actor = require_actor(request)
        return Caller(actor, partner_scope(request, actor))
    origin = client_ip(request)
    lookup = Scope.network(
        "API bearer token: identify the calling partner system", actor_label="API bearer", origin=origin
    )
    with read_only(lookup) as session:
        found = tokens.actor_for_token(session, token)
    tokens.require_scope(found.scopes, needed_scope)
    scope = Scope.partner(
        found.client.partner_id, actor_id=found.actor.account_id, actor_label=found.actor.label, origin=origin
    )
    return Caller(found.actor, scope, found.client, found.scopes)


# -- POST /api/oauth/token ------------------------------------------------------------


def _oauth_error(error: tokens.OAuthError, *, used_basic: bool, language: str) -> Response[Any]:
    headers = dict(NO_STORE)
    if error.status_code == 401 and used_basic:
        # RFC 6749 §5.2: a client that authenticated with the Authorization header gets a challenge back.
        headers["WWW-Authenticate"] = 'Basic realm="portal-api", charset="UTF-8"'
    return Response(
        {"error": error.code, "error_description": translate(error.message, language)},
        status_code=error.status_code,
        headers=headers,
        media_type=MediaType.JSON,
    )


def _basic_credentials(request: Request[Any, Any, Any]) -> tuple[str, str] | None:
    """client_secret_basic (RFC 6749 §2.3.1): id and secret are form-encoded, then base64'd."""
    value = request.headers.get("authorization")
    if not value:
        return None
    scheme, _, encoded = value.strip().partition(" ")
    if scheme.lower() != "basic":
        raise tokens.InvalidRequest("Chỉ hỗ trợ xác thực ứng dụng kiểu Basic hoặc client_secret trong biểu mẫu")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except ValueError as exc:  # binascii.Error, UnicodeDecodeError, and non-ASCII text (UnicodeEncodeError)
        raise tokens.InvalidRequest("Tiêu đề Authorization không đúng định dạng Basic") from exc
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise tokens.InvalidRequest("Tiêu đề Authorization không đúng định dạng Basic")
    return unquote_plus(client_id), unquote_plus(secret)


def token_response(request: Request[Any, Any, Any], form: dict[str, Any]) -> Response[Any]:
    """Answer a client credentials token request (form fields already parsed)."""
    used_basic = False
    try:
        basic = _basic_credentials(request)
        used_basic = basic is not None
        if request.content_type[0] != "application/x-www-form-urlencoded":
            raise tokens.InvalidRequest("Yêu cầu phải gửi dạng application/x-www-form-urlencoded")
        grant_type = str(form.get("grant_type") or "")
        if not grant_type:
            raise tokens.InvalidRequest("Thiếu tham số grant_type")
        if grant_type != "client_credentials":
            raise tokens.UnsupportedGrantType("Chỉ hỗ trợ grant_type=client_credentials")
        if basic is not None and ("client_id" in form or "client_secret" in form):
            raise tokens.InvalidRequest("Chỉ dùng một cách xác thực ứng dụng (Basic hoặc biểu mẫu), không dùng cả hai")
        client_id, client_secret = basic or (str(form.get("client_id") or ""), str(form.get("client_secret") or ""))
        requested = parse_scopes(str(form.get("scope") or ""))
        rate_limits.check(request, "token", client_id)
        lookup = Scope.network(
            "OAuth2 token request: identify the partner system",
            actor_label="API token request",
            origin=client_ip(request),
        )
        # Two units of work: the look-up in a network scope (the partner is not
        # known yet), then the token written in the client's partner scope.
        with read_only(lookup) as session:
            grant = tokens.authenticate_client(session, client_id, client_secret, requested)
        with unit_of_work(grant.scope) as session:
            issued = tokens.issue_token(session, grant)
    except tokens.OAuthError as exc:
        return _oauth_error(exc, used_basic=used_basic, language=request_language(request))
    return Response(
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": " ".join(issued.scopes),
        },
        status_code=200,
        headers=dict(NO_STORE),
        media_type=MediaType.JSON,
    )
