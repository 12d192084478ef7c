"""Dossiers: filing at the counter, forwarding to the city system, following its answers.

Services flush, they never commit: the caller's unit of work does
(portal.core.db). The dossier row is the outbox: its forwarding task is
enqueued by id with `on_commit`, so only once the row is committed as
`queued`; the task is idempotent and a sweeper re-enqueues rows left queued.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents import policy
from agents.city.client import CityReceipt
from agents.dossiers import rules
from agents.dossiers.models import CityStatus, Dossier, DossierEvent, DossierState
from agents.locations.models import AgentPoint, AgentPointStatus
from agents.policy import Permission
from agents.procedures import service as procedures
from agents.procedures.models import Procedure
from agents.staff.actor import Actor
from agents.staff.models import Account
from portal.core import audit, metrics
from portal.core.crypto import blind_index
from portal.core.db import on_commit, utcnow
from portal.core.errors import Conflict, ExternalServiceError, NotFound, PermissionDenied, ValidationFailed
from portal.core.i18n import N_
from portal.core.settings import get_settings
from portal.core.tenancy import current_scope

log = logging.getLogger(__name__)
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


# -- filing -------------------------------------------------------------------


@dataclass
class FilingRequest:
    """What the counter sends: the procedure, the citizen, the procedure's own fields."""

    procedure_code: str
    agent_point_id: uuid.UUID
    idempotency_key: str
    citizen: dict[str, str]
    form: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Filed:
    dossier: Dossier
    created: bool  # False when the same idempotency key had already filed it


def points_for_filing(session: Session, actor: Actor) -> list[AgentPoint]:
    """The approved points where this actor may file, in the session's partner."""
    scope = current_scope(session)
    if scope.partner_id is None:
        return []
    ids = policy.points_for(actor, Permission.file_dossiers, scope.partner_id)
    query = select(AgentPoint).where(AgentPoint.status == AgentPointStatus.approved).order_by(AgentPoint.name)
    if ids is not None:
        if not ids:
            return []
        query = query.where(AgentPoint.id.in_(ids))
    return list(session.scalars(query))


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

    point = session.get(AgentPoint, request.agent_point_id)
    if point is None:
        raise NotFound("Không tìm thấy điểm đại lý")
    policy.require(actor, Permission.file_dossiers, partner_id=point.partner_id, point_id=point.id)
    if point.status is not AgentPointStatus.approved:
        raise PermissionDenied("Điểm đại lý chưa được Trung tâm phê duyệt")

    errors: dict[str, str] = {}
    try:
        procedure: Procedure | None = procedures.get_published(session, request.procedure_code)
    except NotFound:
        procedure = None
        errors["procedure_code"] = N_("Thủ tục không có trong danh mục")
    citizen, citizen_errors = rules.check_citizen(request.citizen, utcnow().astimezone(VN_TZ).date())
    errors.update(citizen_errors)
    form_data: dict[str, Any] = {}
    if procedure is not None:
        form_data, form_errors = procedures.check_form(procedure, request.form)
        errors.update({f"form.{name}": message for name, message in form_errors.items()})
    if errors:
        raise ValidationFailed("Hồ sơ chưa hợp lệ; vui lòng sửa các trường được đánh dấu", field_errors=errors)
    assert procedure is not None

    dossier = Dossier(
        id=uuid.uuid4(),
        partner_id=point.partner_id,
        agent_point_id=point.id,
        procedure_id=procedure.id,
        staff_account_id=actor.account_id,
        tracking_code=rules.new_tracking_code(),
        idempotency_key=key,
        owner_id_number_index=blind_index(str(citizen["owner_id_number"])),
        owner_phone_index=blind_index(str(citizen["owner_phone"])),
        form_data=form_data,
        state=DossierState.queued,
        **citizen,
    )
    try:
        with session.begin_nested():
            session.add(dossier)
            session.add(
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
                detail={"tracking_code": dossier.tracking_code, "procedure": procedure.code, "agent_point": point.code},
            )
    except IntegrityError:
        # A concurrent request with the same key won the race (its row was committed
        # after our look-up): the savepoint is gone, answer with that request's dossier.
        existing = session.scalar(select(Dossier).where(Dossier.idempotency_key == key))
        if existing is None:
            raise
        return Filed(_same_filer(session, actor, existing), created=False)
    dossier_id, partner_id = dossier.id, dossier.partner_id
    on_commit(session, lambda: enqueue_forward(dossier_id, partner_id))
    log.info(
        "dossier %s filed by %s (scope %s)",
        dossier.tracking_code,
        actor.email,
        scope.partner_id,
        extra={"dossier_id": str(dossier.id), "tracking_code": dossier.tracking_code},
    )
    return Filed(dossier, created=True)


def _same_filer(session: Session, actor: Actor, existing: Dossier) -> Dossier:
    """A repeated key answers with its dossier only to someone allowed to see that dossier."""
    try:
        return get_for_actor(session, actor, existing.id)
    except NotFound as exc:
        raise Conflict(
            "Mã chống gửi trùng đã được dùng cho hồ sơ khác", field_errors={"idempotency_key": N_("Đã được dùng")}
        ) from exc


def enqueue_forward(dossier_id: uuid.UUID, partner_id: uuid.UUID) -> None:
    """Ask a worker to forward the dossier. If the broker is down the sweeper will."""
    from portal.core.celery_app import celery_app

    try:
        celery_app.send_task("dossiers.forward", args=[str(dossier_id), str(partner_id)])
    except Exception:
        log.exception("could not enqueue dossier %s; the sweeper will pick it up", dossier_id)


# -- forwarding to the city ------------------------------------------------------


@dataclass(frozen=True)
class ForwardOutcome:
    kind: str  # "forwarded" | "already_done" | "retry" | "rejected" | "missing"
    retry_after: float | None = None
    detail: str = ""


def city_payload(dossier: Dossier, procedure: Procedure, point: AgentPoint) -> dict[str, Any]:
    settings = get_settings()
    payload: dict[str, Any] = {
        "MaHoSoDoiTac": dossier.tracking_code,
        "MaTTHC": procedure.code,
        "TenTTHC": procedure.name,
        "MaLinhVuc": procedure.field_code,
        "TenLinhVuc": procedure.field_name,
        "ChuHoSo": dossier.owner_full_name,
        "SoDinhDanh": dossier.owner_id_number,
        "NgaySinh": dossier.owner_birth_date.isoformat(),
        "SoDienThoai": dossier.owner_phone,
        "DiaChi": dossier.owner_address,
        "TrichYeuHoSo": f"{procedure.name} - {dossier.owner_full_name}",
        "HinhThuc": 2,
        "DuLieuBieuMau": dossier.form_data,
        "TaiLieuNop": [{"TenTaiLieu": name} for name in procedure.required_documents],
        "DonViTiepNhan": point.name,
        "callback_url": settings.city_callback_url,
    }
    if dossier.proxy_full_name:
        payload["NguoiNop"] = {
            "HoTen": dossier.proxy_full_name,
            "SoDinhDanh": dossier.proxy_id_number,
            "SoDienThoai": dossier.proxy_phone,
            "DiaChi": dossier.proxy_address,
            "GiayUyQuyen": dossier.proxy_authorisation,
        }
    return payload


@dataclass(frozen=True)
class ForwardRequest:
    """What to send to the city for one queued dossier (read in a unit of work that has ended)."""

    dossier_id: uuid.UUID
    payload: dict[str, Any]


def prepare_forward(session: Session, dossier_id: uuid.UUID) -> ForwardRequest | ForwardOutcome:
    """The payload of a queued dossier, or the outcome that says there is nothing to send."""
    dossier = session.get(Dossier, dossier_id)
    if dossier is None:
        return ForwardOutcome("missing")
    if dossier.state is not DossierState.queued:
        return ForwardOutcome("already_done")
    procedure = session.get(Procedure, dossier.procedure_id)
    point = session.get(AgentPoint, dossier.agent_point_id)
    assert procedure is not None and point is not None
    return ForwardRequest(dossier.id, city_payload(dossier, procedure, point))


def record_forward_failure(session: Session, dossier_id: uuid.UUID, error: ExternalServiceError) -> ForwardOutcome:
    """The city did not take the dossier: count the attempt; a final refusal rejects it for good.

    Compare-and-set from `queued`: a concurrent run that already forwarded it wins.
    """
    if error.retryable:
        session.execute(
            update(Dossier)
            .where(Dossier.id == dossier_id, Dossier.state == DossierState.queued)
            .values(forward_attempts=Dossier.forward_attempts + 1, last_error=error.message[:1000])
        )
        return ForwardOutcome("retry", retry_after=error.retry_after, detail=error.message)
    changed = session.execute(
        update(Dossier)
        .where(Dossier.id == dossier_id, Dossier.state == DossierState.queued)
        .values(
            state=DossierState.rejected,
            forward_attempts=Dossier.forward_attempts + 1,
            last_error=error.message[:1000],
        )
    ).rowcount
    if changed:
        dossier = session.get(Dossier, dossier_id)
        assert dossier is not None
        _portal_event(session, dossier, DossierState.rejected, f"Hệ thống một cửa từ chối: {error.message}")
        audit.record(
            session,
            "dossier.rejected_by_city",
            "dossier",
            dossier.id,
            partner_id=dossier.partner_id,
            detail={"reason": error.message},
        )
    return ForwardOutcome("rejected", detail=error.message)


def record_forwarded(session: Session, dossier_id: uuid.UUID, receipt: CityReceipt) -> ForwardOutcome:
    """The city took the dossier: `queued → forwarded` with its code and due date, once."""
    changed = session.execute(
        update(Dossier)
        .where(Dossier.id == dossier_id, Dossier.state == DossierState.queued)
        .values(
            state=DossierState.forwarded,
            city_dossier_code=receipt.city_dossier_code,
            forwarded_at=utcnow(),
            due_at=receipt.due_at,
            forward_attempts=Dossier.forward_attempts + 1,
            last_error=None,
        )
    ).rowcount
    if not changed:
        return ForwardOutcome("already_done")
    dossier = session.get(Dossier, dossier_id)
    assert dossier is not None
    _portal_event(
        session,
        dossier,
        DossierState.forwarded,
        f"Hệ thống một cửa đã nhận hồ sơ, mã hồ sơ {receipt.city_dossier_code}",
    )
    audit.record(
        session,
        "dossier.forwarded",
        "dossier",
        dossier.id,
        partner_id=dossier.partner_id,
        detail={"city_dossier_code": receipt.city_dossier_code},
    )
    submitted_at = dossier.submitted_at
    on_commit(session, lambda: metrics.observe_forwarding_lag(submitted_at))
    return ForwardOutcome("forwarded", detail=receipt.city_dossier_code)


def _portal_event(session: Session, dossier: Dossier, state: DossierState, note: str) -> None:
    scope = current_scope(session)
    session.add(
        DossierEvent(
            partner_id=dossier.partner_id,
            dossier_id=dossier.id,
            source="portal",
            state=state.value,
            actor=scope.actor_label,
            note=note,
        )
    )


# -- status from the city --------------------------------------------------------


@dataclass(frozen=True)
class CityUpdate:
    event_id: str
    seq: int
    status: int
    occurred_at: datetime
    note: str = ""
    city_dossier_code: str | None = None
    tracking_code: str | None = None


def apply_city_update(session: Session, update_: CityUpdate) -> str:
    """Record one status change reported by the city (callback or poll).

    Duplicates (same event id) are ignored; late arrivals (lower sequence
    number than the one we hold) go into the history but do not move the
    current status back. Returns "applied", "late", or "duplicate".
    """
    if update_.status not in {s.value for s in CityStatus}:
        raise ValidationFailed(
            "Unknown DVCQG status %(status)s",
            params={"status": update_.status},
            field_errors={"TrangThaiHoSo": "unknown"},
        )
    dossier = None
    if update_.city_dossier_code:
        dossier = session.scalar(select(Dossier).where(Dossier.city_dossier_code == update_.city_dossier_code))
    if dossier is None and update_.tracking_code:
        dossier = session.scalar(select(Dossier).where(Dossier.tracking_code == update_.tracking_code))
    if dossier is None:
        raise NotFound("no such dossier")
    if session.scalar(select(DossierEvent.id).where(DossierEvent.city_event_id == update_.event_id)):
        return "duplicate"

    status = CityStatus(update_.status)
    try:
        with session.begin_nested():
            outcome = _record_city_event(session, dossier, status, update_)
    except IntegrityError:
        return "duplicate"  # the same event arrived concurrently and the other request stored it
    return outcome


def _record_city_event(session: Session, dossier: Dossier, status: CityStatus, update_: CityUpdate) -> str:
    session.add(
        DossierEvent(
            partner_id=dossier.partner_id,
            dossier_id=dossier.id,
            occurred_at=update_.occurred_at,
            source="city",
            city_status=status.value,
            city_event_id=update_.event_id,
            city_seq=update_.seq,
            actor="Hệ thống một cửa",
            note=update_.note,
        )
    )
    outcome = "late"
    if update_.seq > dossier.city_status_seq:
        outcome = "applied"
        dossier.city_status = status.value
        dossier.city_status_seq = update_.seq
        if dossier.city_dossier_code is None and update_.city_dossier_code:
            dossier.city_dossier_code = update_.city_dossier_code
    if status.is_done and (dossier.finished_at is None or update_.occurred_at < dossier.finished_at):
        dossier.finished_at = update_.occurred_at
    if status is CityStatus.returned and dossier.returned_at is None:
        dossier.returned_at = update_.occurred_at
    audit.record(
        session,
        "dossier.city_status",
        "dossier",
        dossier.id,
        partner_id=dossier.partner_id,
        detail={"status": status.value, "seq": update_.seq, "event_id": update_.event_id, "outcome": outcome},
    )
    return outcome


def city_code_of(session: Session, dossier_id: uuid.UUID) -> str | None:
    """The city's code of a forwarded dossier (None when it has none yet)."""
    dossier = session.get(Dossier, dossier_id)
    return dossier.city_dossier_code if dossier is not None else None


# -- sweeping ----------------------------------------------------------------------


def unforwarded_dossiers(
    session: Session, older_than: timedelta, limit: int = 500
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Queued dossiers nobody has moved for a while (lost message, city outage). Needs a network scope."""
    cutoff = utcnow() - older_than
    rows = session.execute(
        select(Dossier.id, Dossier.partner_id)
        .where(Dossier.state == DossierState.queued, Dossier.updated_at < cutoff)
        .order_by(Dossier.submitted_at)
        .limit(limit)
    ).all()
    return [(row.id, row.partner_id) for row in rows]


def silent_dossiers(session: Session, older_than: timedelta, limit: int = 500) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Forwarded dossiers with no word from the city for a while and not finished. Needs a network scope."""
    cutoff = utcnow() - older_than
    final = [s.value for s in CityStatus if s.is_final]
    rows = session.execute(
        select(Dossier.id, Dossier.partner_id)
        .where(
            Dossier.state == DossierState.forwarded,
            (Dossier.city_status.is_(None)) | (Dossier.city_status.not_in(final)),
            Dossier.updated_at < cutoff,
        )
        .limit(limit)
    ).all()
    return [(row.id, row.partner_id) for row in rows]


# -- reading -----------------------------------------------------------------------


def get_for_actor(session: Session, actor: Actor, dossier_id: uuid.UUID) -> Dossier:
    """A dossier the actor may see: their own partner (by scope), and for point roles their points."""
    dossier = session.get(Dossier, dossier_id)
    if dossier is None:
        raise NotFound("Không tìm thấy hồ sơ")
    if not policy.can(actor, Permission.see_dossiers, partner_id=dossier.partner_id, point_id=dossier.agent_point_id):
        raise NotFound("Không tìm thấy hồ sơ")  # outside their reach: exactly like one that does not exist
    return dossier


@dataclass(frozen=True)
class DossierView:
    """A dossier with what its pages show next to it."""

    dossier: Dossier
    procedure: Procedure
    point: AgentPoint
    staff: Account | None

    def context(self) -> dict[str, Any]:
        return {"dossier": self.dossier, "procedure": self.procedure, "point": self.point, "staff": self.staff}


def view_of(session: Session, dossier: Dossier) -> DossierView:
    procedure = session.get(Procedure, dossier.procedure_id)
    point = session.get(AgentPoint, dossier.agent_point_id)
    assert procedure is not None and point is not None
    return DossierView(dossier, procedure, point, session.get(Account, dossier.staff_account_id))


def view_personal_data(session: Session, actor: Actor, dossier_id: uuid.UUID) -> Dossier:
    """As get_for_actor, and the view of the citizen's data goes on the record."""
    dossier = get_for_actor(session, actor, dossier_id)
    audit.record(
        session,
        "dossier.personal_data_viewed",
        "dossier",
        dossier.id,
        partner_id=dossier.partner_id,
        detail={"tracking_code": dossier.tracking_code},
    )
    return dossier


def list_for_actor(session: Session, actor: Actor, limit: int = 100) -> list[Dossier]:
    scope = current_scope(session)
    assert scope.partner_id is not None
    query = select(Dossier).order_by(Dossier.submitted_at.desc()).limit(limit)
    points = policy.points_for(actor, Permission.see_dossiers, scope.partner_id)
    if points is not None:
        query = query.where(Dossier.agent_point_id.in_(points or {uuid.uuid4()}))
    return list(session.scalars(query))


def record_list_view(session: Session, rows: list[Dossier]) -> None:
    """A list shows owners' names: the view goes on the record, naming the dossiers shown."""
    if not rows:
        return
    audit.record(
        session,
        "dossier.list_viewed",
        "dossier",
        None,
        detail={"count": len(rows), "tracking_codes": [d.tracking_code for d in rows]},
    )


def track(session: Session, tracking_code: str, phone: str) -> Dossier:
    """Public look-up: the tracking code and the owner's phone must both match.

    One answer for "no such code" and "wrong phone", so codes cannot be probed.
    """
    code = tracking_code.strip().upper()
    dossier = session.scalar(select(Dossier).where(Dossier.tracking_code == code))
    if dossier is None or not hmac.compare_digest(dossier.owner_phone_index, blind_index(rules.normalise_phone(phone))):
        raise NotFound("Không tìm thấy hồ sơ với mã và số điện thoại này")
    return dossier


def rating_token(tracking_code: str) -> str:
    """The secret in the receipt's rating link: only the receipt holder can rate."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"rate:{tracking_code}".encode(), hashlib.sha256).hexdigest()[:32]
