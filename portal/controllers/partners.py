"""The network: the center onboards partners and approves points; a manager registers points."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template
from sqlalchemy.orm import Session

from agents.locations import service as locations
from agents.locations.models import AgentPointStatus
from agents.partners import service as partners
from agents.partners.models import PartnerKind, PartnerStatus
from agents.staff.models import Role
from agents.staff.service import Actor
from portal.auth.session import network_scope, partner_scope, require_actor
from portal.core.db import open_session
from portal.core.errors import DomainError, PermissionDenied
from portal.core.i18n import N_
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


class NetworkController(Controller):
    path = "/"

    # -- center -----------------------------------------------------------------
    def _center_page(
        self,
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        message: str | None = None,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
        invite_link: str | None = None,
    ) -> Template:
        actor = require_actor(request)
        if not actor.has(Role.center_admin, Role.auditor):
            raise PermissionDenied("Trang này dành cho Trung tâm")
        with open_session(network_scope(request, actor, "center manages the network")) as session:
            all_partners = partners.list_partners(session)
            points = locations.list_points(session)
        names = {p.id: p.name for p in all_partners}
        return page(
            "center/network.html",
            status_code=status_code,
            actor=actor,
            partners=all_partners,
            points=points,
            partner_names=names,
            kinds=list(PartnerKind),
            message=message,
            errors=errors or {},
            values=values or {},
            invite_link=invite_link,
        )

    @get("/center/network", sync_to_thread=True)
    def network(self, request: Request[Any, Any, Any]) -> Template:
        return self._center_page(request)

    @post("/center/partners", sync_to_thread=True)
    def onboard(self, request: Request[Any, Any, Any], data: Form) -> Template:
        actor = require_actor(request)
        with open_session(network_scope(request, actor, "center onboards a partner")) as session:
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
                session.rollback()
                return self._center_page(
                    request, status_code=exc.status_code, message=exc.message, errors=exc.field_errors, values=data
                )
        link = f"{str(request.base_url).rstrip('/')}/invitations/{token}"
        return self._center_page(request, status_code=201, invite_link=link)

    def _center_action(
        self, request: Request[Any, Any, Any], reason: str, action: Callable[[Session, Actor], object]
    ) -> Template:
        actor = require_actor(request)
        with open_session(network_scope(request, actor, reason)) as session:
            try:
                action(session, actor)
            except DomainError as exc:
                session.rollback()  # end the transaction before rendering opens another
                if exc.status_code in (403, 404):
                    raise
                return self._center_page(request, status_code=exc.status_code, message=exc.message)
        return self._center_page(request)

    @post("/center/partners/{partner_id:uuid}/status", sync_to_thread=True)
    def partner_status(self, request: Request[Any, Any, Any], partner_id: FromPath[uuid.UUID], data: Form) -> Template:
        try:
            status = PartnerStatus(data.get("status", ""))
        except ValueError:
            return self._center_page(request, status_code=422, message=N_("Giá trị không hợp lệ"))
        return self._center_action(
            request,
            "center changes a partner's status",
            lambda session, actor: partners.set_status(session, actor, partner_id, status, data.get("reason", "")),
        )

    @post("/center/points/{point_id:uuid}/status", sync_to_thread=True)
    def point_status(self, request: Request[Any, Any, Any], point_id: FromPath[uuid.UUID], data: Form) -> Template:
        try:
            status = AgentPointStatus(data.get("status", ""))
        except ValueError:
            return self._center_page(request, status_code=422, message=N_("Giá trị không hợp lệ"))
        return self._center_action(
            request,
            "center approves or closes a point",
            lambda session, actor: locations.set_status(session, actor, point_id, status, data.get("reason", "")),
        )

    # -- partner manager -------------------------------------------------------------
    def _points_page(
        self,
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        message: str | None = None,
        errors: dict[str, str] | None = None,
        values: dict[str, str] | None = None,
    ) -> Template:
        actor = require_actor(request)
        scope = partner_scope(request, actor)
        if Role.partner_manager not in actor.roles_in(scope.partner_id):  # type: ignore[arg-type]
            raise PermissionDenied("Trang này dành cho quản lý đối tác")
        with open_session(scope) as session:
            points = locations.list_points(session)
        return page(
            "partner/points.html",
            status_code=status_code,
            actor=actor,
            points=points,
            message=message,
            errors=errors or {},
            values=values or {},
        )

    @get("/partner/points", sync_to_thread=True)
    def points(self, request: Request[Any, Any, Any]) -> Template:
        return self._points_page(request)

    @post("/partner/points", sync_to_thread=True)
    def register_point(self, request: Request[Any, Any, Any], data: Form) -> Template:
        actor = require_actor(request)
        with open_session(partner_scope(request, actor)) as session:
            try:
                locations.register_point(session, actor, data)
            except DomainError as exc:
                session.rollback()  # end the transaction before rendering opens another
                if exc.status_code in (403, 404):
                    raise
                return self._points_page(
                    request, status_code=exc.status_code, message=exc.message, errors=exc.field_errors, values=data
                )
        return self._points_page(request, status_code=201)
