"""Signing in and out with a local account; the login page (shared with single sign-on)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from agents.partners import sso
from agents.staff import service as staff
from portal.auth.session import landing_for, safe_next, sign_in, sign_out
from portal.core.errors import AuthenticationFailed
from portal.deps import Session, Viewer, public_work
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
        try:
            actor = staff.authenticate(session, email, password)
        except AuthenticationFailed as exc:
            # The refusal is on the record already (its own transaction); this unit wrote nothing.
            return login_page(session, status_code=401, error=exc.message, email=email, next_path=target)
        sign_in(request, actor)
        return Redirect(safe_next(target) or landing_for(actor))

    @post("/logout", sync_to_thread=False)
    def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        sign_out(request)
        return Redirect("/")
