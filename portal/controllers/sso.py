"""Signing in through a partner's own identity provider (OpenID Connect, code flow + PKCE).

GET /auth/sso                         the login page with one link per partner offering SSO
GET /auth/sso/{partner}               start: keep state/nonce/verifier in a short-lived encrypted cookie (portal_sso), go to the IdP
GET /auth/sso/{partner}/callback      finish: check state, redeem the code, validate the ID token, sign in

Refusals are shown on the login page with their reason (never a redirect loop
through the generic "please sign in" handler) and written to the audit log.
"""

from __future__ import annotations

import hmac
import time
import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from agents.partners import sso
from portal.auth.oidc import OidcClient, SsoFailed
from portal.auth.session import client_ip, landing_for, safe_next, sign_in
from portal.controllers.auth import login_page
from portal.core.db import read_only, unit_of_work
from portal.core.errors import DomainError, NotFound
from portal.core.i18n import N_
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from portal.deps import Session, public_work

FLOW_KEY = "sso_flow"
FLOW_LIFETIME_SECONDS = 600
MSG_UNKNOWN_PARTNER = N_("Không tìm thấy đối tác")
MSG_BAD_STATE = N_("Yêu cầu đăng nhập SSO không hợp lệ hoặc đã hết hạn; vui lòng thử lại")
MSG_IDP_DENIED = N_("Hệ thống đăng nhập của đối tác đã từ chối yêu cầu đăng nhập")


def _scope(request: Request[Any, Any, Any], reason: str) -> Scope:
    return Scope.network(reason, actor_label="SSO sign-in", origin=client_ip(request))


def redirect_uri(code: str) -> str:
    """Our callback for one partner, as registered at its identity provider."""
    return f"{get_settings().web.public_url.rstrip('/')}/auth/sso/{code}/callback"


def _refused(request: Request[Any, Any, Any], exc: DomainError) -> Template:
    with read_only(_scope(request, "login page lists the partners offering single sign-on")) as session:
        return login_page(session, error=exc.message, status_code=exc.status_code)


def _audit_failure(
    request: Request[Any, Any, Any], partner_id: uuid.UUID | None, reason: str, detail: dict[str, Any] | None = None
) -> None:
    with read_only(_scope(request, "single sign-on records a refused attempt")) as session:
        sso.record_sso_failure(session, sso.partner_by_id(session, partner_id), reason, detail=detail)


def _take_flow(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
    """The pending sign-in kept in the SSO flow cookie, removed so it serves once."""
    current = request.scope.get("session")
    if not isinstance(current, dict) or FLOW_KEY not in current:
        return None
    data = dict(current)
    flow = data.pop(FLOW_KEY)
    request.set_session(data)
    return flow if isinstance(flow, dict) else None


def _keep_flow(request: Request[Any, Any, Any], flow: dict[str, Any]) -> None:
    current = request.scope.get("session")
    data = dict(current) if isinstance(current, dict) else {}
    data[FLOW_KEY] = flow
    request.set_session(data)


class SsoController(Controller):
    path = "/auth/sso"

    @get("/", sync_to_thread=True, opt=public_work("login page lists the partners offering single sign-on"))
    def choose(self, session: Session, next: FromQuery[str] = "") -> Template:  # noqa: A002
        return login_page(session, next_path=safe_next(next))

    @get("/{partner_code:str}", sync_to_thread=True)
    def start(
        self,
        request: Request[Any, Any, Any],
        partner_code: FromPath[str],
        next: FromQuery[str] = "",  # noqa: A002
    ) -> Template | Redirect:
        # No unit of work is held open while talking to the identity provider.
        with read_only(_scope(request, "single sign-on looks up the partner's identity provider")) as session:
            partner = sso.partner_by_url_code(session, partner_code)
            if partner is None:
                refusal: DomainError | None = NotFound(MSG_UNKNOWN_PARTNER)
            else:
                try:
                    settings, refusal = sso.require_sso(session, partner), None
                except DomainError as exc:
                    refusal = exc
                code = sso.url_code(partner)
        if refusal is not None:
            return _refused(request, refusal)
        client = OidcClient(
            issuer=settings.issuer,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            redirect_uri=redirect_uri(code),
        )
        try:
            started = client.authorization_request()
        except SsoFailed as exc:
            _audit_failure(request, settings.partner_id, exc.reason, exc.detail)
            return _refused(request, exc)
        _keep_flow(
            request,
            {
                "partner": code,
                "state": started.state,
                "nonce": started.nonce,
                "code_verifier": started.code_verifier,
                "started_at": int(time.time()),
                "next": safe_next(next),
            },
        )
        return Redirect(started.url)

    @get("/{partner_code:str}/callback", sync_to_thread=True)
    def callback(
        self,
        request: Request[Any, Any, Any],
        partner_code: FromPath[str],
        returned_state: Annotated[str, QueryParameter(name="state")] = "",
        code: FromQuery[str] = "",
        error: FromQuery[str] = "",
        error_description: FromQuery[str] = "",
        iss: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        flow = _take_flow(request)
        refusal: DomainError | None = None
        with read_only(_scope(request, "single sign-on looks up the partner's identity provider")) as session:
            partner = sso.partner_by_url_code(session, partner_code)
            if partner is None:
                refusal = NotFound(MSG_UNKNOWN_PARTNER)
            else:
                partner_id, url_code = partner.id, sso.url_code(partner)
                fresh = flow is not None and time.time() - float(flow.get("started_at", 0)) < FLOW_LIFETIME_SECONDS
                if (
                    flow is None
                    or not fresh
                    or flow.get("partner") != url_code
                    or not hmac.compare_digest(
                        str(flow.get("state", "")).encode(), returned_state.encode("utf-8", "replace")
                    )
                ):
                    problem = "missing" if flow is None else ("stale" if not fresh else "mismatch")
                    sso.record_sso_failure(session, partner, "state_mismatch", detail={"flow": problem})
                    refusal = SsoFailed("state_mismatch", MSG_BAD_STATE, status_code=400)
                elif error:
                    sso.record_sso_failure(
                        session,
                        partner,
                        "idp_error",
                        detail={"error": error[:100], "description": error_description[:200]},
                    )
                    refusal = SsoFailed("idp_error", MSG_IDP_DENIED)
                else:
                    try:
                        settings = sso.require_sso(session, partner)  # it may have been suspended meanwhile
                    except DomainError as exc:
                        refusal = exc
        if refusal is not None:
            return _refused(request, refusal)
        assert flow is not None

        # No database transaction is held while talking to the identity provider.
        client = OidcClient(
            issuer=settings.issuer,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            redirect_uri=redirect_uri(url_code),
        )
        try:
            identity = client.complete(
                code=code, code_verifier=str(flow["code_verifier"]), nonce=str(flow["nonce"]), returned_issuer=iss
            )
        except SsoFailed as exc:
            _audit_failure(request, partner_id, exc.reason, exc.detail)
            return _refused(request, exc)

        with unit_of_work(_scope(request, "single sign-on matches the identity to an account")) as session:
            try:
                actor = sso.sign_in_with_sso(
                    session,
                    partner_id,
                    issuer=identity.issuer,
                    subject=identity.subject,
                    email=identity.email,
                    email_verified=identity.email_verified,
                )
            except DomainError as exc:
                refusal = exc
            else:
                # Work for the partner whose SSO was used.
                sign_in(request, session, actor, partner_id=partner_id)
        if refusal is not None:
            return _refused(request, refusal)
        return Redirect(safe_next(str(flow.get("next") or "")) or landing_for(actor))
