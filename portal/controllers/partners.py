"""Partners: the center's network page, onboarding a partner, suspending and reinstating one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from agents.partners import service as partners
from agents.partners.models import PartnerKind, PartnerStatus
from agents.points import service as points
from agents.policy import Permission
from portal.auth.guards import requires
from portal.core.db import attempt
from portal.core.errors import DomainError
from portal.core.i18n import N_
from portal.deps import Actor, Session, network_work
from portal.security.hosts import public_link
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def network_page(
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
        points=points.list_points(session),
        partner_names={p.id: p.name for p in all_partners},
        kinds=list(PartnerKind),
        message=message,
        errors=errors or {},
        values=values or {},
        invite_link=invite_link,
    )


def center_action(session: Session, actor: Actor, action: Callable[[], object]) -> Template:
    try:
        with attempt(session):
            action()
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise
        return network_page(session, actor, status_code=exc.status_code, message=exc.message)
    return network_page(session, actor)


class PartnerController(Controller):
    path = "/"

    @get(
        "/center/network",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center manages the network"),
    )
    def network(self, actor: Actor, session: Session) -> Template:
        return network_page(session, actor)

    @post(
        "/center/partners",
        sync_to_thread=True,
        guards=[requires(Permission.manage_partners)],
        opt=network_work("center onboards a partner"),
    )
    def onboard(self, request: Request[Any, Any, Any], actor: Actor, session: Session, data: Form) -> Template:
        try:
            with attempt(session):
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
            return network_page(
                session, actor, status_code=exc.status_code, message=exc.message, errors=exc.field_errors, values=data
            )
        link = public_link(f"/invitations/{token}")
        return network_page(session, actor, status_code=201, invite_link=link)

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
            return network_page(session, actor, status_code=422, message=N_("Giá trị không hợp lệ"))
        return center_action(
            session, actor, lambda: partners.set_status(session, actor, partner_id, status, data.get("reason", ""))
        )
