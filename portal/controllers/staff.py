"""People: a partner manager invites, re-roles, deactivates and reactivates; invitees activate."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from agents.locations import service as locations
from agents.locations.models import AgentPointStatus
from agents.staff import lifecycle
from agents.staff.models import Role
from portal.auth.session import active_partner_id, client_ip, current_actor, partner_scope, require_actor
from portal.core.db import open_session
from portal.core.errors import DomainError, ValidationFailed
from portal.core.i18n import N_
from portal.core.tenancy import Scope
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
PARTNER_ROLES = [Role.agent_staff, Role.point_lead, Role.partner_manager]


def _lifecycle_scope(request: Request[Any, Any, Any], actor: Any) -> Scope:
    # Deciding whether a manager may act on a person needs every role that person
    # holds, at any partner: an explicit cross-partner read, for this check only.
    return Scope.network(
        "account lifecycle: check every role the person holds",
        actor_id=actor.account_id,
        actor_label=actor.label,
        origin=client_ip(request),
    )


class StaffController(Controller):
    path = "/"

    def _staff_page(
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
        partner_id = active_partner_id(request, actor)
        with open_session(partner_scope(request, actor)) as session:
            people = lifecycle.people_of_partner(session, actor, partner_id)
            points = locations.list_points(session, AgentPointStatus.approved)
        return page(
            "partner/staff.html",
            status_code=status_code,
            actor=actor,
            people=people,
            points=points,
            roles=PARTNER_ROLES,
            message=message,
            errors=errors or {},
            values=values or {},
            invite_link=invite_link,
        )

    @get("/partner/staff", sync_to_thread=True)
    def staff(self, request: Request[Any, Any, Any]) -> Template:
        return self._staff_page(request)

    @post("/partner/staff/invite", sync_to_thread=True)
    def invite(self, request: Request[Any, Any, Any], data: Form) -> Template:
        actor = require_actor(request)
        try:
            role = Role(data.get("role", ""))
            point = uuid.UUID(data["agent_point_id"]) if data.get("agent_point_id") else None
        except (ValueError, KeyError):
            return self._staff_page(
                request,
                status_code=422,
                message=N_("Lời mời chưa hợp lệ"),
                errors={"role": N_("Giá trị không hợp lệ")},
                values=data,
            )
        with open_session(partner_scope(request, actor)) as session:
            try:
                _, token = lifecycle.invite(
                    session,
                    actor,
                    email=data.get("email", ""),
                    full_name=data.get("full_name", ""),
                    role=role,
                    partner_id=active_partner_id(request, actor),
                    agent_point_id=point,
                )
            except DomainError as exc:
                session.rollback()  # end the transaction before rendering opens another
                return self._staff_page(
                    request, status_code=exc.status_code, message=exc.message, errors=exc.field_errors, values=data
                )
        link = f"{str(request.base_url).rstrip('/')}/invitations/{token}"
        return self._staff_page(request, status_code=201, invite_link=link)

    @post("/partner/staff/{account_id:uuid}/deactivate", sync_to_thread=True)
    def deactivate(self, request: Request[Any, Any, Any], account_id: FromPath[uuid.UUID], data: Form) -> Template:
        actor = require_actor(request)
        with open_session(_lifecycle_scope(request, actor)) as session:
            try:
                lifecycle.deactivate(session, actor, account_id, data.get("reason", ""))
            except ValidationFailed as exc:
                session.rollback()  # end the transaction before rendering opens another
                return self._staff_page(request, status_code=422, message=exc.message)
        return self._staff_page(request)

    @post("/partner/staff/{account_id:uuid}/reactivate", sync_to_thread=True)
    def reactivate(self, request: Request[Any, Any, Any], account_id: FromPath[uuid.UUID]) -> Template:
        actor = require_actor(request)
        with open_session(_lifecycle_scope(request, actor)) as session:
            lifecycle.reactivate(session, actor, account_id)
        return self._staff_page(request)

    @post("/partner/roles/{assignment_id:uuid}", sync_to_thread=True)
    def change_role(self, request: Request[Any, Any, Any], assignment_id: FromPath[uuid.UUID], data: Form) -> Template:
        actor = require_actor(request)
        try:
            role = Role(data.get("role", ""))
            point = uuid.UUID(data["agent_point_id"]) if data.get("agent_point_id") else None
        except (ValueError, KeyError):
            return self._staff_page(request, status_code=422, message=N_("Giá trị không hợp lệ"))
        with open_session(partner_scope(request, actor)) as session:
            try:
                lifecycle.change_role(session, actor, assignment_id, role, point)
            except ValidationFailed as exc:
                session.rollback()  # end the transaction before rendering opens another
                return self._staff_page(request, status_code=422, message=exc.message)
        return self._staff_page(request)

    @get("/invitations/{token:str}", sync_to_thread=True)
    def invitation(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Template:
        with open_session(
            Scope.network("invitee opens the invitation link", actor_label="invitee", origin=client_ip(request))
        ) as session:
            invitation = lifecycle.invitation_by_token(session, token)
            existing = lifecycle.account_exists(session, invitation.email)
        return page(
            "auth/activate.html",
            invitation=invitation,
            token=token,
            errors={},
            actor=current_actor(request),
            existing=existing,
            message=None,
        )

    @post("/invitations/{token:str}", sync_to_thread=True)
    def activate(self, request: Request[Any, Any, Any], token: FromPath[str], data: Form) -> Template | Redirect:
        actor = current_actor(request)  # before the session below: SQLite allows one writer
        with open_session(
            Scope.network("invitee activates the account", actor_label="invitee", origin=client_ip(request))
        ) as session:
            invitation = lifecycle.invitation_by_token(session, token)
            existing = lifecycle.account_exists(session, invitation.email)
            errors: dict[str, str] = {}
            message = None
            status = 422
            if not existing and data.get("password", "") != data.get("password_again", ""):
                errors["password_again"] = N_("Hai mật khẩu không khớp")
            if not errors:
                try:
                    lifecycle.accept_invitation(
                        session,
                        invitation,
                        password=None if existing else data.get("password", ""),
                        as_account_id=actor.account_id if actor else None,
                    )
                except DomainError as exc:
                    errors, message, status = exc.field_errors, exc.message, exc.status_code
            if errors or message:
                return page(
                    "auth/activate.html",
                    status_code=status,
                    invitation=invitation,
                    token=token,
                    errors=errors,
                    actor=actor,
                    existing=existing,
                    message=message,
                )
        if existing:
            request.state.pop("actor", None)  # roles changed: reload them on the next request
            return Redirect("/", status_code=303)
        return Redirect("/login?activated=1", status_code=303)
