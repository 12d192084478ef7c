"""Signing in and out with a local account."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from agents import policy
from agents.policy import Permission
from agents.staff import service as staff
from agents.staff.actor import Actor
from portal.auth.session import client_ip, current_actor, safe_next, sign_in, sign_out
from portal.core.db import unit_of_work
from portal.core.errors import AuthenticationFailed
from portal.core.tenancy import Scope
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def landing_for(actor: Actor) -> str:
    if policy.can(actor, Permission.file_dossiers):
        return "/dossiers"
    if policy.can(actor, Permission.see_partner_figures):
        return "/partner/dashboard"
    if policy.can(actor, Permission.manage_partners):
        return "/center/dashboard"
    return "/audit"


def _sso_links(request: Request[Any, Any, Any]) -> list[Any]:
    from portal.controllers.sso import sso_links  # the SSO controller imports landing_for from here

    return sso_links(request)


class AuthController(Controller):
    path = "/"

    @get("/login", sync_to_thread=True)
    def login_form(self, request: Request[Any, Any, Any], next: FromQuery[str] = "") -> Template | Redirect:  # noqa: A002
        actor = current_actor(request)
        if actor is not None:
            return Redirect(safe_next(next) or landing_for(actor))
        return page("auth/login.html", error=None, email="", next=next, actor=None, sso_partners=_sso_links(request))

    @post("/login", sync_to_thread=True)
    def login(self, request: Request[Any, Any, Any], data: Form) -> Template | Redirect:
        email, password, target = data.get("email", ""), data.get("password", ""), data.get("next", "")
        scope = Scope.network("sign-in looks up the account", actor_label=email, origin=client_ip(request))
        with unit_of_work(scope) as session:
            try:
                actor = staff.authenticate(session, email, password)
            except AuthenticationFailed as exc:
                return page(
                    "auth/login.html",
                    status_code=401,
                    error=exc.message,
                    email=email,
                    next=target,
                    actor=None,
                    sso_partners=_sso_links(request),
                )
        sign_in(request, actor)
        return Redirect(safe_next(target) or landing_for(actor))

    @post("/logout", sync_to_thread=False)
    def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        sign_out(request)
        return Redirect("/")
