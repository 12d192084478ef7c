"""People: a partner manager invites, re-roles, deactivates and reactivates; invitees activate; sign-in locks are lifted."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Template

from agents import policy
from agents.points import service as points
from agents.points.models import AgentPointStatus
from agents.policy import Permission
from agents.staff import lifecycle
from agents.staff.models import Role
from portal.auth.guards import requires, signed_in
from portal.auth.session import client_ip
from portal.core.db import attempt, unit_of_work
from portal.core.errors import DomainError, ValidationFailed
from portal.core.i18n import N_
from portal.core.tenancy import Scope
from portal.deps import ActivePartner, Actor, Session, Viewer, partner_work, public_work
from portal.security.hosts import public_link
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
PARTNER_ROLES = [Role.agent_staff, Role.point_lead, Role.partner_manager]


def _lifecycle_scope(request: Request[Any, Any, Any], actor: Actor) -> Scope:
    # Deciding whether a manager may act on a person needs every role that person
    # holds, at any partner: an explicit cross-partner read, for this check only.
    return Scope.network(
        "account lifecycle: check every role the person holds",
        actor_id=actor.account_id,
        actor_label=actor.label,
        origin=client_ip(request),
    )


def _staff_page(
    session: Session,
    actor: Actor,
    partner_id: uuid.UUID,
    *,
    status_code: int = 200,
    message: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    invite_link: str | None = None,
) -> Template:
    return page(
        "partner/staff.html",
        status_code=status_code,
        actor=actor,
        people=lifecycle.people_of_partner(session, actor, partner_id),
        points=points.list_points(session, AgentPointStatus.approved),
        roles=PARTNER_ROLES,
        message=message,
        errors=errors or {},
        values=values or {},
        invite_link=invite_link,
        locks={account.id: until for account, until in lifecycle.sign_in_locks(session, actor, partner_id)},
        pending=lifecycle.pending_invitations(session, actor, partner_id),
    )


def _locks_page(session: Session, actor: Actor, partner_id: uuid.UUID, *, message: str | None = None) -> Template:
    return page(
        "partner/sign_in_locks.html",
        actor=actor,
        people=lifecycle.sign_in_locks(session, actor, partner_id),
        message=message,
    )


class StaffController(Controller):
    path = "/"

    @get("/partner/staff", sync_to_thread=True, guards=[requires(Permission.manage_staff)], opt=partner_work())
    def staff(self, actor: Actor, active_partner_id: ActivePartner, session: Session) -> Template:
        return _staff_page(session, actor, active_partner_id)

    @post("/partner/staff/invite", sync_to_thread=True, guards=[requires(Permission.manage_staff)], opt=partner_work())
    def invite(
        self,
        request: Request[Any, Any, Any],
        actor: Actor,
        active_partner_id: ActivePartner,
        session: Session,
        data: Form,
    ) -> Template:
        try:
            role = Role(data.get("role", ""))
            point = uuid.UUID(data["agent_point_id"]) if data.get("agent_point_id") else None
        except (ValueError, KeyError):
            return _staff_page(
                session,
                actor,
                active_partner_id,
                status_code=422,
                message=N_("Lời mời chưa hợp lệ"),
                errors={"role": N_("Giá trị không hợp lệ")},
                values=data,
            )
        try:
            with attempt(session):
                _, token = lifecycle.invite(
                    session,
                    actor,
                    email=data.get("email", ""),
                    full_name=data.get("full_name", ""),
                    role=role,
                    partner_id=active_partner_id,
                    agent_point_id=point,
                )
        except DomainError as exc:
            return _staff_page(
                session,
                actor,
                active_partner_id,
                status_code=exc.status_code,
                message=exc.message,
                errors=exc.field_errors,
                values=data,
            )
        link = public_link(f"/invitations/{token}")
        return _staff_page(session, actor, active_partner_id, status_code=201, invite_link=link)

    # Acting on a person is checked across partners (their roles elsewhere) in a unit of its own,
    # committed before the page is read in the partner's scope. Signed in is enough to reach
    # these: the service answers a person out of reach like a missing one (404).
    @post(
        "/partner/staff/{account_id:uuid}/deactivate",
        sync_to_thread=True,
        guards=[signed_in],
        opt=partner_work(writes=False),
    )
    def deactivate(
        self,
        request: Request[Any, Any, Any],
        actor: Actor,
        active_partner_id: ActivePartner,
        session: Session,
        account_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Template:
        try:
            with unit_of_work(_lifecycle_scope(request, actor)) as work:
                lifecycle.deactivate(work, actor, account_id, data.get("reason", ""))
        except ValidationFailed as exc:
            return _staff_page(session, actor, active_partner_id, status_code=422, message=exc.message)
        return _staff_page(session, actor, active_partner_id)

    @post(
        "/partner/staff/{account_id:uuid}/reactivate",
        sync_to_thread=True,
        guards=[signed_in],
        opt=partner_work(writes=False),
    )
    def reactivate(
        self,
        request: Request[Any, Any, Any],
        actor: Actor,
        active_partner_id: ActivePartner,
        session: Session,
        account_id: FromPath[uuid.UUID],
    ) -> Template:
        with unit_of_work(_lifecycle_scope(request, actor)) as work:
            lifecycle.reactivate(work, actor, account_id)
        return _staff_page(session, actor, active_partner_id)

    @get(
        "/partner/sign-in-locks",
        sync_to_thread=True,
        guards=[requires(Permission.unlock_sign_in)],
        opt=partner_work(),
    )
    def sign_in_locks(self, actor: Actor, active_partner_id: ActivePartner, session: Session) -> Template:
        return _locks_page(session, actor, active_partner_id)

    @post(
        "/partner/staff/{account_id:uuid}/unlock",
        sync_to_thread=True,
        guards=[signed_in],
        opt=partner_work(writes=False),
    )
    def unlock(
        self,
        request: Request[Any, Any, Any],
        actor: Actor,
        active_partner_id: ActivePartner,
        session: Session,
        account_id: FromPath[uuid.UUID],
    ) -> Template:
        """Lift a sign-in lock (a manager for the partner's people, a point lead for their point's staff)."""
        with unit_of_work(_lifecycle_scope(request, actor)) as work:
            lifecycle.unlock_sign_in(work, actor, account_id)
        if policy.can(actor, Permission.manage_staff, partner_id=active_partner_id):
            return _staff_page(session, actor, active_partner_id)
        return _locks_page(session, actor, active_partner_id, message=N_("Đã mở khóa đăng nhập"))

    @post("/partner/roles/{assignment_id:uuid}", sync_to_thread=True, guards=[signed_in], opt=partner_work())
    def change_role(
        self,
        actor: Actor,
        active_partner_id: ActivePartner,
        session: Session,
        assignment_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Template:
        try:
            role = Role(data.get("role", ""))
            point = uuid.UUID(data["agent_point_id"]) if data.get("agent_point_id") else None
        except (ValueError, KeyError):
            return _staff_page(session, actor, active_partner_id, status_code=422, message=N_("Giá trị không hợp lệ"))
        try:
            with attempt(session):
                lifecycle.change_role(session, actor, assignment_id, role, point)
        except ValidationFailed as exc:
            return _staff_page(session, actor, active_partner_id, status_code=422, message=exc.message)
        return _staff_page(session, actor, active_partner_id)

    @get(
        "/invitations/{token:str}", sync_to_thread=True, opt=public_work("invitee opens the invitation link", "invitee")
    )
    def invitation(self, viewer: Viewer, session: Session, token: FromPath[str]) -> Template:
        invitation = lifecycle.invitation_by_token(session, token)
        # The page is the same whether or not the email has an account, unless the invitee is signed in.
        return page(
            "auth/activate.html",
            invitation=invitation,
            token=token,
            errors={},
            actor=viewer,
            is_invitee=viewer is not None and viewer.email == invitation.email,
            message=None,
        )

    @post("/invitations/{token:str}", sync_to_thread=True, opt=public_work("invitee activates the account", "invitee"))
    def activate(
        self, request: Request[Any, Any, Any], viewer: Viewer, session: Session, token: FromPath[str], data: Form
    ) -> Template | Redirect:
        invitation = lifecycle.invitation_by_token(session, token)
        is_invitee = viewer is not None and viewer.email == invitation.email
        errors: dict[str, str] = {}
        message = None
        status = 422
        if not is_invitee and data.get("password", "") != data.get("password_again", ""):
            errors["password_again"] = N_("Hai mật khẩu không khớp")
        account = None
        if not errors:
            try:
                with attempt(session):
                    account = lifecycle.accept_invitation(
                        session,
                        invitation,
                        password=None if is_invitee else data.get("password", ""),
                        as_account_id=viewer.account_id if viewer else None,
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
                actor=viewer,
                is_invitee=is_invitee,
                message=message,
            )
        if is_invitee and account is not None:
            request.state.pop("actor", None)  # roles changed: reload them on the next request
            return Redirect("/", status_code=303)
        return Redirect("/login?activated=1", status_code=303)
