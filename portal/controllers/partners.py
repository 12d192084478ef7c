"""Partners: the center's network page; a partner's application, approval, suspension, restoration and end;
the procedures the center enables for it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Template

from agents.partners import service as partners
from agents.partners.models import PartnerKind, PartnerStatus
from agents.points import service as points
from agents.policy import Permission
from agents.procedures import publishing
from agents.procedures import service as procedure_service
from portal.auth.guards import requires
from portal.core.db import attempt
from portal.core.errors import DomainError
from portal.core.i18n import N_
from portal.deps import Actor, Session, network_work
from portal.forms import DATE_HINT, dates_to_iso
from portal.security.hosts import public_link
from portal.templating import page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
ListForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


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
        status_ok=status_code < 400,
        errors=errors or {},
        values=values or {},
        invite_link=invite_link,
    )


APPLICATION_FIELDS = (
    "code",
    "name",
    "legal_name",
    "kind",
    "tax_code",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contract_start",
    "contract_end",
    "manager_name",
    "manager_email",
)


def partner_page(
    session: Session,
    actor: Actor,
    partner_id: uuid.UUID,
    *,
    status_code: int = 200,
    message: str | None = None,
    errors: dict[str, str] | None = None,
    invite_link: str | None = None,
) -> Template:
    partner = partners.get_partner(session, partner_id)
    return page(
        "center/partner.html",
        status_code=status_code,
        actor=actor,
        partner=partner,
        transitions={s.value for s in partners.TRANSITIONS[partner.status]},
        procedures=procedure_service.list_published(session),
        enabled=publishing.enabled_procedure_ids(session, partner.id),
        message=message,
        status_ok=status_code < 400,
        errors=errors or {},
        invite_link=invite_link,
    )


def partner_action(session: Session, actor: Actor, partner_id: uuid.UUID, action: Callable[[], object]) -> Template:
    try:
        with attempt(session):
            action()
    except DomainError as exc:
        if exc.status_code in (403, 404):
            raise
        return partner_page(
            session, actor, partner_id, status_code=exc.status_code, message=exc.message, errors=exc.field_errors
        )
    return partner_page(session, actor, partner_id, message=N_("Đã lưu"))


def form_list(data: dict[str, Any], name: str) -> list[str]:
    """Every value of a repeated form field (checkboxes): Litestar gives one as a string, several as a list."""
    values = data.get(name, [])
    return [values] if isinstance(values, str) else [str(v) for v in values]


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
        opt=network_work("center records a partner's application"),
    )
    def apply(self, actor: Actor, session: Session, data: Form) -> Template:
        """A company's application: recorded as `applied`; nobody is invited until it is approved."""
        typed, not_dates = dates_to_iso(data, ["contract_start", "contract_end"])
        fields = {key: typed.get(key, "") for key in APPLICATION_FIELDS}
        try:
            with attempt(session):
                partners.apply(session, actor, **fields)
        except DomainError as exc:
            errors = {**exc.field_errors, **dict.fromkeys(not_dates, DATE_HINT)}
            return network_page(
                session, actor, status_code=exc.status_code, message=exc.message, errors=errors, values=data
            )
        return network_page(session, actor, status_code=201, message=N_("Đã ghi nhận hồ sơ đăng ký của đối tác"))

    @get(
        "/center/partners/{partner_id:uuid}",
        sync_to_thread=True,
        guards=[requires(Permission.see_network)],
        opt=network_work("center reads a partner's file"),
    )
    def partner(self, actor: Actor, session: Session, partner_id: FromPath[uuid.UUID]) -> Template:
        return partner_page(session, actor, partner_id)

    @post(
        "/center/partners/{partner_id:uuid}/approve",
        sync_to_thread=True,
        guards=[requires(Permission.manage_partners)],
        opt=network_work("center approves a partner"),
    )
    def approve(self, actor: Actor, session: Session, partner_id: FromPath[uuid.UUID]) -> Template:
        """Approve the application; the first manager's invitation link is shown once."""
        try:
            with attempt(session):
                _, token = partners.approve(session, actor, partner_id)
        except DomainError as exc:
            if exc.status_code in (403, 404):
                raise
            return partner_page(session, actor, partner_id, status_code=exc.status_code, message=exc.message)
        return partner_page(session, actor, partner_id, invite_link=public_link(f"/invitations/{token}"))

    @post(
        "/center/partners/{partner_id:uuid}/suspend",
        sync_to_thread=True,
        guards=[requires(Permission.manage_partners)],
        opt=network_work("center suspends a partner"),
    )
    def suspend(self, actor: Actor, session: Session, partner_id: FromPath[uuid.UUID], data: Form) -> Template:
        return partner_action(
            session, actor, partner_id, lambda: partners.suspend(session, actor, partner_id, data.get("reason", ""))
        )

    @post(
        "/center/partners/{partner_id:uuid}/restore",
        sync_to_thread=True,
        guards=[requires(Permission.manage_partners)],
        opt=network_work("center restores a partner"),
    )
    def restore(self, actor: Actor, session: Session, partner_id: FromPath[uuid.UUID]) -> Template:
        return partner_action(session, actor, partner_id, lambda: partners.restore(session, actor, partner_id))

    @post(
        "/center/partners/{partner_id:uuid}/end",
        sync_to_thread=True,
        guards=[requires(Permission.manage_partners)],
        opt=network_work("center ends a partnership"),
    )
    def end(self, actor: Actor, session: Session, partner_id: FromPath[uuid.UUID], data: Form) -> Template:
        return partner_action(
            session, actor, partner_id, lambda: partners.end(session, actor, partner_id, data.get("reason", ""))
        )

    @post(
        "/center/partners/{partner_id:uuid}/procedures",
        sync_to_thread=True,
        guards=[requires(Permission.publish_procedures)],
        opt=network_work("center enables procedures for a partner"),
    )
    def procedures(self, actor: Actor, session: Session, partner_id: FromPath[uuid.UUID], data: ListForm) -> Template:
        """The procedures the partner's points may file: the boxes ticked, exactly."""
        return partner_action(
            session,
            actor,
            partner_id,
            lambda: publishing.set_partner_procedures(session, actor, partner_id, form_list(data, "procedure")),
        )

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
