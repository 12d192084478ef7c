"""Citizens (no account): home with agent points, dossier tracking, rating."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select

from agents.dossiers import rules
from agents.dossiers import service as dossiers
from agents.locations.models import AgentPoint, AgentPointStatus
from agents.partners.models import Partner, PartnerStatus
from agents.procedures.models import Procedure
from agents.ratings import service as ratings
from portal.auth.session import client_ip, current_actor
from portal.core.db import open_session
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.tenancy import Scope
from portal.i18n import LANGUAGES
from portal.security.redirects import same_origin_return_path
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _public_scope(request: Request[Any, Any, Any], reason: str) -> Scope:
    return Scope.network(reason, actor_label="citizen (public page)", origin=client_ip(request))


def _tracked_context(session: Any, dossier: Any) -> dict[str, Any]:
    procedure = session.get(Procedure, dossier.procedure_id)
    point = session.get(AgentPoint, dossier.agent_point_id)
    return {
        "dossier": dossier,
        "procedure": procedure,
        "point": point,
        "owner_masked": rules.mask_name(dossier.owner_full_name),
        "rating": ratings.existing_rating(session, dossier),
        "can_rate": ratings.can_rate(dossier),
        "rating_token": dossiers.rating_token(dossier.tracking_code),
    }


class PublicController(Controller):
    path = "/"

    @get("/", sync_to_thread=True)
    def home(self, request: Request[Any, Any, Any]) -> Template:
        with open_session(_public_scope(request, "public list of approved agent points")) as session:
            rows = session.execute(
                select(AgentPoint, Partner.name)
                .join(Partner, Partner.id == AgentPoint.partner_id)
                .where(AgentPoint.status == AgentPointStatus.approved, Partner.status == PartnerStatus.active)
                .order_by(AgentPoint.ward, AgentPoint.name)
            ).all()
        return page("public/home.html", points=rows, actor=current_actor(request))

    @get("/lang/{code:str}", sync_to_thread=False)
    def switch_language(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Redirect:
        response = Redirect(same_origin_return_path(request.headers.get("referer"), request.url.netloc))
        if code in LANGUAGES:
            response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
        return response

    @get("/track", sync_to_thread=True)
    def track_form(self, request: Request[Any, Any, Any], code: FromQuery[str] = "") -> Template:
        return page("public/track.html", code=code, phone="", error=None, dossier=None, actor=current_actor(request))

    @post("/track", sync_to_thread=True)
    def track(self, request: Request[Any, Any, Any], data: Form) -> Template:
        code, phone = data.get("code", ""), data.get("phone", "")
        actor = current_actor(request)  # before the session below: SQLite allows one writer
        with open_session(_public_scope(request, "public dossier tracking by code and phone")) as session:
            try:
                dossier = dossiers.track(session, code, phone)
            except NotFound as exc:
                return page(
                    "public/track.html",
                    status_code=404,
                    code=code,
                    phone=phone,
                    error=exc.message,
                    dossier=None,
                    actor=actor,
                )
            return page(
                "public/track.html", code=code, phone="", error=None, actor=actor, **_tracked_context(session, dossier)
            )

    @get("/rate/{code:str}", sync_to_thread=True)
    def rating_form(self, request: Request[Any, Any, Any], code: FromPath[str], token: FromQuery[str] = "") -> Template:
        with open_session(_public_scope(request, "citizen opens the rating link")) as session:
            dossier = ratings.dossier_for_rating(session, code, token)
            context = _tracked_context(session, dossier)
        return page("public/rate.html", token=token, errors={}, done=False, **context)

    @post("/rate/{code:str}", sync_to_thread=True)
    def submit_rating(self, request: Request[Any, Any, Any], code: FromPath[str], data: Form) -> Template:
        token = data.get("token", "")
        with open_session(_public_scope(request, "citizen rates the service")) as session:
            try:
                ratings.rate(session, code, token, data.get("stars", ""), data.get("comment", ""))
                done, errors, status, message = True, {}, 201, None
            except ValidationFailed as exc:
                done, errors, status, message = False, exc.field_errors, 422, exc.message
            except Conflict as exc:
                done, errors, status, message = False, {}, 409, exc.message
            dossier = ratings.dossier_for_rating(session, code, token)
            context = _tracked_context(session, dossier)
        return page(
            "public/rate.html", status_code=status, token=token, errors=errors, done=done, message=message, **context
        )
