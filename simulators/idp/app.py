"""Litestar app of the OpenID Connect identity-provider simulator.

One process hosts several issuers, one per tenant, each under its own path
prefix: the issuer of tenant ``vnpost`` is ``{IDP_PUBLIC_URL}/vnpost`` and its
discovery document is at ``/vnpost/.well-known/openid-configuration``.

Run it with ``python -m simulators.idp`` or ``uvicorn simulators.idp.app:app``.
See ``docs/idp-simulator.md``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from litestar import Litestar, Request, Response, get, post, put
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.params import FromPath

from .config import ConfigError, IdpConfig, TenantConfig, parse_user
from .core import (
    AUTHORIZE_PARAMS,
    AuthorizationRequest,
    AuthorizeFatalError,
    AuthorizeRedirectError,
    ControlError,
    OAuthError,
    Simulator,
    add_query,
)
from .pages import error_page, login_page, signed_out_page

logger = logging.getLogger("simulators.idp")

_JSON = "application/json"
_HTML = "text/html; charset=utf-8"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_HTML_HEADERS = {**_NO_STORE, "Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}


class UnknownTenant(Exception):
    def __init__(self, tenant: str) -> None:
        super().__init__(tenant)
        self.tenant = tenant


# --------------------------------------------------------------------------- helpers


def _sim(request: Request) -> Simulator:
    return request.app.state.idp


async def _enter_tenant(request: Request, tenant: str, *, may_fail: bool = False) -> TenantConfig:
    """Common prologue of every per-tenant endpoint: resolve the tenant, then
    apply the ``latency_ms`` knob and (for back-channel endpoints) ``error_rate``."""
    sim = _sim(request)
    tenant_cfg = sim.tenant(tenant)
    if tenant_cfg is None:
        raise UnknownTenant(tenant)
    if sim.knobs.latency_ms:
        await asyncio.sleep(sim.knobs.latency_ms / 1000)
    if may_fail and sim.should_fail():
        raise OAuthError("temporarily_unavailable", "injected failure (error_rate knob)", 503)
    return tenant_cfg


def _json(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(content=body, status_code=status_code, media_type=_JSON, headers=headers)


def _html(body: str, status_code: int = 200) -> Response[str]:
    return Response(content=body, status_code=status_code, media_type=_HTML, headers=_HTML_HEADERS)


def _found(location: str) -> Response[str]:
    # Built by hand so the (already encoded) URI is sent exactly as composed.
    return Response(content="", status_code=302, media_type="text/plain", headers={"Location": location, **_NO_STORE})


def _single_values(items: Iterable[tuple[str, Any]]) -> tuple[dict[str, str], frozenset[str]]:
    """Collapse a multi-dict into single values, reporting repeated OAuth parameters."""
    values: dict[str, str] = {}
    repeated: set[str] = set()
    for key, value in items:
        if not isinstance(value, str):
            continue  # uploaded files have no business here
        if key in values:
            repeated.add(key)
        else:
            values[key] = value
    return values, frozenset(repeated & set(AUTHORIZE_PARAMS))


def _oauth_error_response(exc: OAuthError, extra_headers: dict[str, str] | None = None) -> Response[Any]:
    headers = dict(_NO_STORE)
    if exc.status_code == 503:
        headers["Retry-After"] = "1"
    headers.update(extra_headers or {})
    return _json(exc.body(), exc.status_code, headers)


# --------------------------------------------------------------------------- per-tenant endpoints


@get("/{tenant:str}/.well-known/openid-configuration")
async def discovery(request: Request, tenant: FromPath[str]) -> Response[Any]:
    try:
        await _enter_tenant(request, tenant, may_fail=True)
    except OAuthError as exc:
        return _oauth_error_response(exc)
    return _json(_sim(request).discovery(tenant))


@get("/{tenant:str}/jwks")
async def jwks(request: Request, tenant: FromPath[str]) -> Response[Any]:
    try:
        await _enter_tenant(request, tenant, may_fail=True)
    except OAuthError as exc:
        return _oauth_error_response(exc)
    return _json(_sim(request).keys.jwks(tenant))


@get("/{tenant:str}/authorize")
async def authorize_form(request: Request, tenant: FromPath[str]) -> Response[Any]:
    tenant_cfg = await _enter_tenant(request, tenant)
    sim = _sim(request)
    params, repeated = _single_values(request.query_params.multi_items())
    try:
        auth_request, _client = sim.validate_authorization_request(tenant, params, repeated)
    except AuthorizeFatalError as exc:
        return _html(error_page(tenant_title=tenant_cfg.title, message=exc.description), 400)
    except AuthorizeRedirectError as exc:
        return _found(sim.error_redirect(tenant, exc))
    return _html(
        login_page(
            tenant_title=tenant_cfg.title,
            client_id=auth_request.client_id,
            packed_request=auth_request.encode(),
            email=auth_request.login_hint or "",
        )
    )


@post("/{tenant:str}/authorize", status_code=200)
async def authorize_submit(request: Request, tenant: FromPath[str]) -> Response[Any]:
    tenant_cfg = await _enter_tenant(request, tenant)
    sim = _sim(request)
    form, _ = _single_values((await request.form()).multi_items())
    try:
        params = AuthorizationRequest.decode(form.get("request", ""))
        # The form carries the original request; validate it again from scratch.
        auth_request, _client = sim.validate_authorization_request(tenant, params)
    except AuthorizeFatalError as exc:
        return _html(error_page(tenant_title=tenant_cfg.title, message=exc.description), 400)
    except AuthorizeRedirectError as exc:
        return _found(sim.error_redirect(tenant, exc))
    email = form.get("email", "")
    user = sim.authenticate(tenant, email, form.get("password", ""))
    if user is None:
        return _html(
            login_page(
                tenant_title=tenant_cfg.title,
                client_id=auth_request.client_id,
                packed_request=auth_request.encode(),
                email=email,
                error="Invalid email or password",
            )
        )
    code = sim.issue_code(tenant, auth_request, user)
    logger.info("tenant %s: %s signed in for client %s", tenant, user.email, auth_request.client_id)
    return _found(sim.success_redirect(tenant, auth_request, code))


@post("/{tenant:str}/token", status_code=200)
async def token(request: Request, tenant: FromPath[str]) -> Response[Any]:
    sim = _sim(request)
    try:
        await _enter_tenant(request, tenant, may_fail=True)
        content_type, _ = request.content_type
        if content_type != "application/x-www-form-urlencoded":
            raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
        form, repeated = _single_values((await request.form()).multi_items())
        if repeated:
            raise OAuthError("invalid_request", f"parameter(s) repeated: {', '.join(sorted(repeated))}")
        body = sim.exchange_code(tenant, form, request.headers.get("authorization"))
    except OAuthError as exc:
        extra = {}
        if exc.error == "invalid_client":
            extra["WWW-Authenticate"] = f'Basic realm="{sim.issuer(tenant)}"'
        return _oauth_error_response(exc, extra)
    return _json(body, 200, dict(_NO_STORE))


async def _userinfo(request: Request, tenant: str) -> Response[Any]:
    sim = _sim(request)
    authorization = request.headers.get("authorization")
    try:
        await _enter_tenant(request, tenant, may_fail=True)
        claims = sim.userinfo(tenant, authorization)
    except OAuthError as exc:
        extra = {}
        if exc.status_code == 401:
            # RFC 6750 §3: no error details when no credentials were sent at all.
            challenge = f'Bearer realm="{sim.issuer(tenant)}"'
            if authorization:
                challenge += f', error="{exc.error}", error_description="{exc.description}"'
            extra["WWW-Authenticate"] = challenge
        return _oauth_error_response(exc, extra)
    return _json(claims, 200, dict(_NO_STORE))


@get("/{tenant:str}/userinfo")
async def userinfo_get(request: Request, tenant: FromPath[str]) -> Response[Any]:
    return await _userinfo(request, tenant)


@post("/{tenant:str}/userinfo", status_code=200)
async def userinfo_post(request: Request, tenant: FromPath[str]) -> Response[Any]:
    return await _userinfo(request, tenant)


@get("/{tenant:str}/logout")
async def end_session(request: Request, tenant: FromPath[str]) -> Response[Any]:
    """RP-initiated logout. The simulator keeps no browser session, so this only
    validates ``post_logout_redirect_uri`` and redirects (with ``state``)."""
    tenant_cfg = await _enter_tenant(request, tenant)
    params, _ = _single_values(request.query_params.multi_items())
    target = params.get("post_logout_redirect_uri")
    if not target:
        return _html(signed_out_page(tenant_title=tenant_cfg.title))
    client_id = params.get("client_id")
    clients = [c for c in tenant_cfg.clients if client_id in (None, c.client_id)]
    if not any(target in c.post_logout_redirect_uris for c in clients):
        return _html(
            error_page(
                tenant_title=tenant_cfg.title,
                message="post_logout_redirect_uri is not registered for this client.",
            ),
            400,
        )
    state = params.get("state")
    location = add_query(target, {"state": state})
    return _found(location)


# --------------------------------------------------------------------------- test control


@get("/_idp/config")
async def get_config(request: Request) -> Response[Any]:
    return _json(_control_view(_sim(request)))


@put("/_idp/config", status_code=200)
async def put_config(request: Request) -> Response[Any]:
    sim = _sim(request)
    try:
        changes = await _json_body(request)
        sim.knobs.update(changes)
    except ControlError as exc:
        return _json({"error": str(exc)}, exc.status_code)
    logger.info("knobs changed: %s", changes)
    return _json(_control_view(sim))


@post("/_idp/{tenant:str}/users", status_code=201)
async def add_user(request: Request, tenant: FromPath[str]) -> Response[Any]:
    sim = _sim(request)
    if sim.tenant(tenant) is None:
        raise UnknownTenant(tenant)
    try:
        user = parse_user(await _json_body(request), "user")
        sim.add_user(tenant, user)
    except ConfigError as exc:
        return _json({"error": str(exc)}, 400)
    except ControlError as exc:
        return _json({"error": str(exc)}, exc.status_code)
    return _json(user.public_view(), 201)


@post("/_idp/reset", status_code=200)
async def reset(request: Request) -> Response[Any]:
    sim = _sim(request)
    sim.reset()
    return _json(_control_view(sim))


@get("/healthz")
async def healthz(request: Request) -> Response[Any]:
    return _json({"status": "ok", "tenants": sorted(_sim(request).config.tenants)})


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except Exception as exc:
        raise ControlError(f"the body must be a JSON object: {exc}") from exc
    if not isinstance(body, dict):
        raise ControlError("the body must be a JSON object")
    return body


def _control_view(sim: Simulator) -> dict[str, Any]:
    return {
        **sim.knobs.as_dict(),
        "tenants": {
            name: {
                "issuer": sim.issuer(name),
                "clients": [c.client_id for c in cfg.clients],
                "users": [u.public_view() for u in sim.users(name)],
            }
            for name, cfg in sim.config.tenants.items()
        },
    }


# --------------------------------------------------------------------------- exception handlers


def _unknown_tenant_handler(request: Request, exc: UnknownTenant) -> Response[Any]:
    return _json(
        {"error": "unknown_tenant", "error_description": f"no identity provider named {exc.tenant!r}"},
        404,
    )


def _http_exception_handler(request: Request, exc: HTTPException) -> Response[Any]:
    return _json({"error": "http_error", "error_description": exc.detail}, exc.status_code, exc.headers)


# --------------------------------------------------------------------------- factory


def create_app(config: IdpConfig | None = None) -> Litestar:
    """Build a simulator app. Without ``config``, read it from the environment."""
    config = config if config is not None else IdpConfig.from_env()
    simulator = Simulator(config)
    return Litestar(
        route_handlers=[
            discovery,
            jwks,
            authorize_form,
            authorize_submit,
            token,
            userinfo_get,
            userinfo_post,
            end_session,
            get_config,
            put_config,
            add_user,
            reset,
            healthz,
        ],
        state=State({"idp": simulator}),
        exception_handlers={
            UnknownTenant: _unknown_tenant_handler,
            HTTPException: _http_exception_handler,
        },
        openapi_config=None,
        debug=False,
    )


app = create_app()
