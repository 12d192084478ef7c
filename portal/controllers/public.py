"""Citizens (no account): home with agent points, dossier tracking, rating."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template

from agents.dossiers import queries, rules, supplements
from agents.dossiers.models import Dossier
from agents.notifications.rules import plain_reason
from agents.points import service as points
from agents.ratings import service as ratings
from agents.ratings.links import rating_token
from agents.ratings.rules import RatingKind, Sipas, Timeliness
from payments import queries as payment_queries
from portal.auth.session import client_ip
from portal.core.db import attempt
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.deps import Session, Viewer, public_work
from portal.i18n import LANGUAGES
from portal.security import rate_limits
from portal.security.redirects import same_origin_return_path
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _tracked_context(session: Session, dossier: Dossier) -> dict[str, Any]:
    view = queries.view_of(session, dossier)
    return {
        "dossier": dossier,
        "procedure": view.procedure,
        "point": view.point,
        "owner_masked": rules.mask_name(dossier.owner_full_name),
        "rating": ratings.existing_rating(session, dossier),
        "can_rate": ratings.can_rate(session, dossier),
        "rating_token": rating_token(dossier.tracking_code, dossier.submitted_at),
        "panel": payment_queries.panel_for(session, dossier),
        "pay_token": payment_queries.pay_token(dossier.tracking_code),
        "pay_action": f"/track/{dossier.tracking_code}/pay",
        "city_reason": plain_reason(queries.city_reason(dossier)),
        # The city asked for more documents: what to bring, in its words made plain.
        "to_bring": plain_reason(supplements.city_note(session, dossier))
        if supplements.waiting_round(session, dossier)
        else None,
    }


RATING_DEVICE_COOKIE = "rating_device"  # a random id per browser: bursts from one device are flagged


def _rating_page(
    request: Request[Any, Any, Any],
    session: Session,
    dossier: Dossier,
    token: str,
    *,
    status: int = 200,
    errors: dict[str, Any] | None = None,
    done: str | None = None,
    message: str | None = None,
    kind: str = "",
) -> Template:
    given = ratings.ratings_of(session, dossier)
    response = page(
        "public/rate.html",
        status_code=status,
        token=token,
        errors=errors or {},
        done=done,
        message=message,
        failed_kind=kind,
        given=given,
        open_kinds=[k.value for k in RatingKind if ratings.is_open(dossier, k) and k not in given],
        result_waiting=ratings.done_at(dossier) is None,
        sipas_levels=[s.value for s in Sipas],
        timeliness_choices=[t.value for t in Timeliness],
        **_tracked_context(session, dossier),
    )
    if not request.cookies.get(RATING_DEVICE_COOKIE):
        response.set_cookie(
            RATING_DEVICE_COOKIE, secrets.token_urlsafe(16), max_age=365 * 24 * 3600, httponly=True, samesite="lax"
        )
    return response


class PublicController(Controller):
    path = "/"

    @get("/", sync_to_thread=True, opt=public_work("public list of approved agent points"))
    def home(self, viewer: Viewer, session: Session) -> Template:
        return page("public/home.html", points=points.public_points(session), actor=viewer)

    @get("/lang/{code:str}", sync_to_thread=False)
    def switch_language(self, request: Request[Any, Any, Any], code: FromPath[str]) -> Redirect:
        response = Redirect(same_origin_return_path(request.headers.get("referer"), request.url.netloc))
        if code in LANGUAGES:
            response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
        return response

    @get("/track", sync_to_thread=True)
    def track_form(self, viewer: Viewer, code: FromQuery[str] = "") -> Template:
        return page("public/track.html", code=code, phone="", error=None, dossier=None, actor=viewer)

    @post("/track", sync_to_thread=True, opt=public_work("public dossier tracking by code and phone", writes=False))
    def track(self, request: Request[Any, Any, Any], viewer: Viewer, session: Session, data: Form) -> Template:
        code, phone = data.get("code", ""), data.get("phone", "")
        rate_limits.check(request, "track", code.strip().upper())
        try:
            dossier = queries.track(session, code, phone)
        except NotFound as exc:
            return page(
                "public/track.html",
                status_code=404,
                code=code,
                phone=phone,
                error=exc.message,
                dossier=None,
                actor=viewer,
            )
        return page(
            "public/track.html", code=code, phone="", error=None, actor=viewer, **_tracked_context(session, dossier)
        )

    @get("/rate/{code:str}", sync_to_thread=True, opt=public_work("citizen opens the rating link"))
    def rating_form(
        self, request: Request[Any, Any, Any], session: Session, code: FromPath[str], token: FromQuery[str] = ""
    ) -> Template:
        dossier = ratings.dossier_for_rating(session, code, token)
        return _rating_page(request, session, dossier, token)

    @post("/rate/{code:str}", sync_to_thread=True, opt=public_work("citizen rates the service"))
    def submit_rating(
        self, request: Request[Any, Any, Any], session: Session, code: FromPath[str], data: Form
    ) -> Template:
        token = data.get("token", "")
        kind_text = data.get("kind", "")
        origin = ratings.Origin(ip=client_ip(request), device=request.cookies.get(RATING_DEVICE_COOKIE, ""))
        done: str | None = None
        try:
            with attempt(session):
                kind = ratings.parse_kind(kind_text)
                ratings.rate(session, code, token, kind, data, origin)
                done, errors, status, message = kind.value, {}, 201, None
        except ValidationFailed as exc:
            errors, status, message = exc.field_errors, 422, exc.message
        except Conflict as exc:
            errors, status, message = {}, 409, exc.message
        dossier = ratings.dossier_for_rating(session, code, token)
        return _rating_page(
            request, session, dossier, token, status=status, errors=errors, done=done, message=message, kind=kind_text
        )
