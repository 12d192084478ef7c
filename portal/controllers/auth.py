"""Signing in and out with a local account; the login page (shared with single sign-on); the person's own sessions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from agents.partners import sso
from agents.staff import service as staff
from agents.staff import sessions
from portal.auth.session import (
    client_ip,
    current_sign_in,
    landing_for,
    remember_device,
    safe_next,
    sign_in,
    sign_out,
    trusted_device,
)
from portal.core.db import attempt
from portal.core.errors import AuthenticationFailed, DomainError
from portal.core.i18n import N_
from portal.deps import Actor, Session, Viewer, check_work, public_work
from portal.security import rate_limits
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


@dataclass(frozen=True)
class SsoLink:
    code: str  # as in the URL: /auth/sso/{code}
    name: str


def sso_links(session: Session) -> list[SsoLink]:
    """One link per active partner offering single sign-on (the login page shows them)."""
    return [SsoLink(sso.url_code(p), p.name) for p in sso.partners_with_sso(session)]


def login_page(
    session: Session,
    *,
    error: str | None = None,
    status_code: int = 200,
    email: str = "",
    next_path: str = "",
) -> Template:
    return page(
        "auth/login.html",
        status_code=status_code,
        error=error,
        email=email,
        next=next_path,
        actor=None,
        sso_partners=sso_links(session),
    )


def account_page(
    request: Request[Any, Any, Any],
    session: Session,
    actor: Actor,
    *,
    status_code: int = 200,
    message: str | None = None,
    errors: dict[str, str] | None = None,
) -> Template:
    signed_in = current_sign_in(request)
    return page(
        "auth/account.html",
        status_code=status_code,
        actor=actor,
        open_sessions=sessions.open_sessions(session, actor.account_id),
        current_session_id=signed_in.session_id if signed_in else None,
        has_password=staff.has_password(session, actor),
        message=message,
        errors=errors or {},
        failed=status_code >= 400,
    )


class AuthController(Controller):
    path = "/"

    @get("/login", sync_to_thread=True, opt=public_work("login page lists the partners offering single sign-on"))
    def login_form(
        self,
        viewer: Viewer,
        session: Session,
        next: FromQuery[str] = "",  # noqa: A002
    ) -> Template | Redirect:
        if viewer is not None:
            return Redirect(safe_next(next) or landing_for(viewer))
        return login_page(session, next_path=next)

    @post("/login", sync_to_thread=True, opt=public_work("sign-in looks up the account", "sign-in"))
    def login(self, request: Request[Any, Any, Any], session: Session, data: Form) -> Template | Redirect:
        email, password, target = data.get("email", ""), data.get("password", ""), data.get("next", "")
        rate_limits.check(request, "login", email.strip().lower())
        try:
            actor = staff.authenticate(
                session, email, password, origin=client_ip(request), trusted_device=trusted_device(request)
            )
        except AuthenticationFailed as exc:
            # The refusal is on the record already (its own transaction); this unit wrote nothing.
            return login_page(session, status_code=401, error=exc.message, email=email, next_path=target)
        sign_in(request, session, actor)
        remember_device(request, actor.account_id)
        return Redirect(safe_next(target) or landing_for(actor))

    @post("/logout", sync_to_thread=True, opt=public_work("sign-out ends the session", "sign-out"))
    def logout(self, request: Request[Any, Any, Any], session: Session) -> Redirect:
        sign_out(request, session)
        return Redirect("/")

    @get("/account", sync_to_thread=True, opt=check_work("a person looks at their own sign-in sessions"))
    def account(self, request: Request[Any, Any, Any], actor: Actor, session: Session) -> Template:
        return account_page(request, session, actor)

    @post("/account/password", sync_to_thread=True, opt=check_work("a person changes their own password"))
    def change_password(self, request: Request[Any, Any, Any], actor: Actor, session: Session, data: Form) -> Template:
        signed_in = current_sign_in(request)
        try:
            with attempt(session):
                staff.change_password(
                    session,
                    actor,
                    data.get("current_password", ""),
                    data.get("password", ""),
                    keep_session=signed_in.session_id if signed_in else None,
                )
        except DomainError as exc:
            return account_page(
                request, session, actor, status_code=exc.status_code, message=exc.message, errors=exc.field_errors
            )
        return account_page(
            request, session, actor, message=N_("Đã đổi mật khẩu; các phiên đăng nhập khác đã kết thúc")
        )

    @post("/logout/everywhere", sync_to_thread=True, opt=public_work("sign-out ends every session", "sign-out"))
    def logout_everywhere(self, request: Request[Any, Any, Any], session: Session) -> Redirect:
        """Sign out on every device (a cookie left on a shared counter PC, a lost phone)."""
        sign_out(request, session, everywhere=True)
        return Redirect("/")
