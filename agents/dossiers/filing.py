"""Filing at the counter: a dossier checked whole, saved whole, never twice.

Services flush, they never commit: the caller's unit of work does
(portal.core.db). The dossier row is the outbox: its forwarding task is
enqueued by id with `on_commit`, so only once the row is committed as
`queued`; the task is idempotent and a sweeper re-enqueues rows left queued.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents import policy
from agents.dossiers import rules
from agents.dossiers.forwarding import enqueue_forward
from agents.dossiers.models import Dossier, DossierEvent, DossierState
from agents.dossiers.queries import get_for_actor
from agents.notifications import outbox
from agents.partners import service as partner_service
from agents.points import hours
from agents.points.models import AgentPoint, AgentPointStatus, PointProcedure
from agents.policy import Permission
from agents.procedures import publishing
from agents.procedures import service as procedures
from agents.procedures.calendar import expected_result_date
from agents.procedures.models import Procedure
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.crypto import blind_index
from portal.core.db import on_commit, utcnow
from portal.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from portal.core.i18n import N_
from portal.core.tenancy import current_scope

log = logging.getLogger(__name__)
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOT_OFFERED = N_("Điểm đại lý này không nhận thủ tục này; quản lý đối tác chọn thủ tục cho từng điểm")


@dataclass
class FilingRequest:
    """What the counter sends: the procedure, the citizen, the procedure's own fields.

    `agent_point_id` None: at the filer's own point (a partner system's client
    has exactly one; see _own_point).
    """

    procedure_code: str
    agent_point_id: uuid.UUID | None
    idempotency_key: str
    citizen: dict[str, str]
    form: dict[str, Any] = field(default_factory=dict)
    # How the citizen wants to be told of status changes (SMS to the owner's phone, an email address).
    notify_sms: bool = False
    notify_email: str | None = None


@dataclass(frozen=True)
class Filed:
    dossier: Dossier
    created: bool  # False when the same idempotency key had already filed it


def points_for_filing(session: Session, actor: Actor, procedure_id: uuid.UUID | None = None) -> list[AgentPoint]:
    """The approved points where this actor may file, in the session's partner (those offering
    `procedure_id` when it is given: a point files only the procedures its manager chose for it)."""
    scope = current_scope(session)
    if scope.partner_id is None:
        return []
    ids = policy.points_for(actor, Permission.file_dossiers, scope.partner_id)
    query = select(AgentPoint).where(AgentPoint.status == AgentPointStatus.approved).order_by(AgentPoint.name)
    if ids is not None:
        if not ids:
            return []
        query = query.where(AgentPoint.id.in_(ids))
    if procedure_id is not None:
        offering = select(PointProcedure.agent_point_id).where(PointProcedure.procedure_id == procedure_id)
        query = query.where(AgentPoint.id.in_(offering))
    return list(session.scalars(query))


def procedures_for_filing(session: Session, actor: Actor) -> list[Procedure]:
    """The published procedures that at least one of the actor's approved points offers (the counter's choice)."""
    point_ids = [p.id for p in points_for_filing(session, actor)]
    if not point_ids:
        return []
    offered = set(
        session.scalars(select(PointProcedure.procedure_id).where(PointProcedure.agent_point_id.in_(point_ids)))
    )
    return [p for p in procedures.list_published(session) if p.id in offered]


def offers(session: Session, point: AgentPoint, procedure: Procedure) -> bool:
    return (
        session.scalar(
            select(PointProcedure.procedure_id).where(
                PointProcedure.agent_point_id == point.id, PointProcedure.procedure_id == procedure.id
            )
        )
        is not None
    )


def file_dossier(session: Session, actor: Actor, request: FilingRequest) -> Filed:
    """Check and save a dossier filed at the counter, then enqueue its forwarding.

    All input errors are reported together (ValidationFailed.field_errors);
    nothing is saved unless everything is valid. The same idempotency key
    returns the dossier it filed before instead of filing twice.
    """
    scope = current_scope(session)
    key = (request.idempotency_key or "").strip()
    if not key or len(key) > 64:
        raise ValidationFailed("Thiếu mã chống gửi trùng", field_errors={"idempotency_key": N_("Không hợp lệ")})
    existing = session.scalar(select(Dossier).where(Dossier.idempotency_key == key))
    if existing is not None:
        return Filed(_same_filer(session, actor, existing), created=False)

    point = filing_point(session, actor, request.agent_point_id)
    hours.check_open_for_filing(session, point)  # a temporary or public-holiday closure refuses
    partner_service.require_may_file(session, point.partner_id, utcnow().astimezone(VN_TZ).date())

    errors: dict[str, str] = {}
    try:
        procedure: Procedure | None = procedures.get_published(session, request.procedure_code)
    except NotFound:
        procedure = None
        errors["procedure_code"] = N_("Thủ tục không có trong danh mục")
    citizen, citizen_errors = rules.check_citizen(request.citizen, utcnow().astimezone(VN_TZ).date())
    errors.update(citizen_errors)
    phone = None if "owner_phone" in citizen_errors else str(citizen.get("owner_phone") or "")
    choice, choice_errors = outbox.check_choice(request.notify_sms, request.notify_email, phone)
    errors.update(choice_errors)
    form_data: dict[str, Any] = {}
    version = procedure.current if procedure is not None else None
    if procedure is not None and not publishing.is_enabled(session, point.partner_id, procedure.id):
        errors["procedure_code"] = N_("Trung tâm chưa mở thủ tục này cho đối tác của điểm")
    elif procedure is not None and not offers(session, point, procedure):
        errors["procedure_code"] = NOT_OFFERED
    if version is not None:
        form_data, form_errors = procedures.check_form(version, request.form)
        errors.update({f"form.{name}": message for name, message in form_errors.items()})
    if errors:
        raise ValidationFailed("Hồ sơ chưa hợp lệ; vui lòng sửa các trường được đánh dấu", field_errors=errors)
    assert procedure is not None and version is not None

    received_at = utcnow()
    dossier = Dossier(
        id=uuid.uuid4(),
        submitted_at=received_at,
        expected_result_date=expected_result_date(
            received_at, version.processing_days, procedures.working_calendar(session)
        ),
        partner_id=point.partner_id,
        agent_point_id=point.id,
        procedure_id=procedure.id,
        procedure_version_id=version.id,
        staff_account_id=actor.account_id,
        tracking_code=rules.new_tracking_code(),
        idempotency_key=key,
        owner_id_number_index=blind_index(str(citizen["owner_id_number"])),
        owner_phone_index=blind_index(str(citizen["owner_phone"])),
        form_data=form_data,
        notify_sms=choice.sms,
        notify_email=choice.email,
        state=DossierState.queued,
        **citizen,
    )
    try:
        with session.begin_nested():
            session.add(dossier)
            # Appended to the new dossier's (still empty, never loaded) history, so the answer
            # built after commit has it without reading the history back.
            dossier.events.append(
                DossierEvent(
                    partner_id=dossier.partner_id,
                    dossier_id=dossier.id,
                    source="portal",
                    state=DossierState.queued.value,
                    actor=actor.label,
                    note=f"Tiếp nhận tại {point.name}",
                )
            )
            audit.record(
                session,
                "dossier.filed",
                "dossier",
                dossier.id,
                partner_id=dossier.partner_id,
                detail={
                    "tracking_code": dossier.tracking_code,
                    "procedure": procedure.code,
                    "procedure_version": version.number,
                    "agent_point": point.code,
                },
            )
    except IntegrityError:
        # A concurrent request with the same key won the race (its row was committed
        # after our look-up): the savepoint is gone, answer with that request's dossier.
        existing = session.scalar(select(Dossier).where(Dossier.idempotency_key == key))
        if existing is None:
            raise
        return Filed(_same_filer(session, actor, existing), created=False)
    dossier_id, partner_id = dossier.id, dossier.partner_id
    on_commit(session, lambda: enqueue_forward(dossier_id, partner_id, scope))
    log.info(
        "dossier %s filed by %s (scope %s)",
        dossier.tracking_code,
        actor.email,
        scope.partner_id,
        extra={"dossier_id": str(dossier.id), "tracking_code": dossier.tracking_code},
    )
    return Filed(dossier, created=True)


def filing_point(session: Session, actor: Actor, agent_point_id: uuid.UUID | None) -> AgentPoint:
    """The approved point the actor files at: the one named, or their own (see _own_point)."""
    point = session.get(AgentPoint, agent_point_id or _own_point(actor, current_scope(session).partner_id))
    if point is None:
        raise NotFound("Không tìm thấy điểm đại lý")
    policy.require(actor, Permission.file_dossiers, partner_id=point.partner_id, point_id=point.id)
    if point.status is not AgentPointStatus.approved:
        raise PermissionDenied("Điểm đại lý chưa được Trung tâm phê duyệt")
    return point


def _own_point(actor: Actor, partner_id: uuid.UUID | None) -> uuid.UUID:
    """Where to file when the request names no point: the one point the filer works at.

    A partner system's client is bound to one point; a person assigned to
    several must say which (422), one assigned to none may not file (403).
    """
    points = policy.points_for(actor, Permission.file_dossiers, partner_id) if partner_id else set()
    if not points:
        raise PermissionDenied("Bạn chưa được phân công tại điểm đại lý nào")
    if len(points) > 1:
        raise ValidationFailed(
            "Bạn được phân công tại nhiều điểm: hãy chọn điểm tiếp nhận hồ sơ",
            field_errors={"agent_point_id": "Bắt buộc chọn một điểm (bạn được phân công tại nhiều điểm)"},
        )
    return next(iter(points))


def _same_filer(session: Session, actor: Actor, existing: Dossier) -> Dossier:
    """A repeated key answers with its dossier only to someone allowed to see that dossier."""
    try:
        return get_for_actor(session, actor, existing.id)
    except NotFound as exc:
        raise Conflict(
            "Mã chống gửi trùng đã được dùng cho hồ sơ khác", field_errors={"idempotency_key": N_("Đã được dùng")}
        ) from exc
