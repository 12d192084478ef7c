"""Agent points: a partner manager registers them; the center approves or closes them."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from agents.points import service as points
from agents.points.models import AgentPointStatus
from agents.policy import Permission
from portal.auth.guards import requires
from portal.controllers.partners import center_action, network_page
from portal.core.db import attempt
from portal.core.errors import DomainError
from portal.core.i18n import N_
from portal.deps import Actor, Session, network_work, partner_work
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _points_page(
    session: Session,
    actor: Actor,
    *,
    status_code: int = 200,
    message: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Template:
    return page(
        "partner/points.html",
        status_code=status_code,
        actor=actor,
        points=points.list_points(session),
        message=message,
        errors=errors or {},
        values=values or {},
    )


MANAGERS_ONLY = N_("Trang này dành cho quản lý đối tác")


class PointController(Controller):
    path = "/"

    @get(
        "/partner/points",
        sync_to_thread=True,
        guards=[requires(Permission.register_points, message=MANAGERS_ONLY)],
        opt=partner_work(),
    )
    def list_points(self, actor: Actor, session: Session) -> Template:
        return _points_page(session, actor)

    @post(
        "/partner/points",
        sync_to_thread=True,
        guards=[requires(Permission.register_points)],
        opt=partner_work(),
    )
    def register_point(self, actor: Actor, session: Session, data: Form) -> Template:
        try:
            with attempt(session):
                points.register_point(session, actor, data)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            return _points_page(
                session, actor, status_code=exc.status_code, message=exc.message, errors=exc.field_errors, values=data
            )
        return _points_page(session, actor, status_code=201)

    @post(
        "/center/points/{point_id:uuid}/status",
        sync_to_thread=True,
        guards=[requires(Permission.approve_points)],
        opt=network_work("center approves or closes a point"),
    )
    def point_status(self, actor: Actor, session: Session, point_id: FromPath[uuid.UUID], data: Form) -> Template:
        try:
            status = AgentPointStatus(data.get("status", ""))
        except ValueError:
            return network_page(session, actor, status_code=422, message=N_("Giá trị không hợp lệ"))
        return center_action(
            session, actor, lambda: points.set_status(session, actor, point_id, status, data.get("reason", ""))
        )
