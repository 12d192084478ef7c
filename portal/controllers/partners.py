"""The network: the center onboards partners and approves points; a manager registers points."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from agents.locations import service as locations
from agents.locations.models import AgentPointStatus
from agents.partners import service as partners
from agents.partners.models import PartnerKind, PartnerStatus
from agents.policy import Permission
from portal.auth.guards import requires
from portal.core.db import discard
from portal.core.errors import DomainError
from portal.core.i18n import N_
from portal.deps import Actor, Session, network_work, partner_work
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _center_page(
    session: Session,
    actor: Actor,
    *,
    status_code: int = 200,
    message: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    invite_link: str | None = None,
) -> Template:
    all_partners = partners.list_partners(session)
    return page(
        "center/network.html",
        status_code=status_code,
        actor=actor,
        partners=all_partners,
        points=locations.list_points(session),
        partner_names={p.id: p.name for p in all_partners},
        kinds=list(PartnerKind),
        message=message,
        errors=errors or {},
        values=values or {},
        invite_link=invite_link,
    )


def _center_action(session: Session, actor: Actor, action: Callable[[], object]) -> Template:
    try:
        action()
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise
        discard(session)
        return _center_page(session, actor, status_code=exc.status_code, message=exc.message)
    return _center_page(session, actor)


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
        points=locations.list_points(session),
        message=message,
        errors=errors or {},
        values=values or {},
    )


MANAGERS_ONLY = "Trang này dành cho quản lý đối tác"


class NetworkController(Controller):
    path = "/"

    # -- center -----------------------------------------------------------------
    @get(
        "/center/network",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center manages the network"),
    )
    def network(self, actor: Actor, session: Session) -> Template:
        return _center_page(session, actor)

    @post(
        "/center/partners",
        sync_to_thread=True,
        guards=[requires(Permission.manage_partners)],
        opt=network_work("center onboards a partner"),
    )
    def onboard(self, request: Request[Any, Any, Any], actor: Actor, session: Session, data: Form) -> Template:
        try:
            _, _, token = partners.onboard(
                session,
                actor,
                code=data.get("code", ""),
                name=data.get("name", ""),
                kind=data.get("kind", ""),
                manager_email=data.get("manager_email", ""),
                manager_name=data.get("manager_name", ""),
            )
        except DomainError as exc:
            discard(session)  # the partner row may be written already: it goes with the refusal
            return _center_page(
                session, actor, status_code=exc.status_code, message=exc.message, errors=exc.field_errors, values=data
            )
        link = f"{str(request.base_url).rstrip('/')}/invitations/{token}"
        return _center_page(session, actor, status_code=201, invite_link=link)

    @post(
        "/center/partners/{partner_id:uuid}/status",
        sync_to_thread=True,
        guards=[requires(Permission.manage_partners)],
        opt=network_work("center changes a partner's status"),
    )
    def partner_status(self, actor: Actor, session: Session, partner_id: FromPath[uuid.UUID], data: Form) -> Template:
        try:
            status = PartnerStatus(data.get("status", ""))
        except ValueError:
            return _center_page(session, actor, status_code=422, message=N_("Giá trị không hợp lệ"))
        return _center_action(
            session, actor, lambda: partners.set_status(session, actor, partner_id, status, data.get("reason", ""))
        )

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
            return _center_page(session, actor, status_code=422, message=N_("Giá trị không hợp lệ"))
        return _center_action(
            session, actor, lambda: locations.set_status(session, actor, point_id, status, data.get("reason", ""))
        )

    # -- partner manager -------------------------------------------------------------
    @get(
        "/partner/points",
        sync_to_thread=True,
        guards=[requires(Permission.register_points, message=MANAGERS_ONLY)],
        opt=partner_work(),
    )
    def points(self, actor: Actor, session: Session) -> Template:
        return _points_page(session, actor)

    @post(
        "/partner/points",
        sync_to_thread=True,
        guards=[requires(Permission.register_points)],
        opt=partner_work(),
    )
    def register_point(self, actor: Actor, session: Session, data: Form) -> Template:
        try:
            locations.register_point(session, actor, data)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            discard(session)
            return _points_page(
                session, actor, status_code=exc.status_code, message=exc.message, errors=exc.field_errors, values=data
            )
        return _points_page(session, actor, status_code=201)
