"""Agent points: a partner registers them, the center approves, suspends or closes them."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import policy
from agents.partners.models import Partner, PartnerStatus
from agents.points import rules
from agents.points.models import AgentPoint, AgentPointStatus
from agents.policy import Permission
from agents.staff.actor import Actor
from agents.wards import service as wards
from portal.core import audit
from portal.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from portal.core.i18n import N_
from portal.core.tenancy import current_scope


def list_points(session: Session, status: AgentPointStatus | None = None) -> list[AgentPoint]:
    """The points visible in the session's scope (a partner's, or all for the center)."""
    query = select(AgentPoint).order_by(AgentPoint.status, AgentPoint.name)
    if status is not None:
        query = query.where(AgentPoint.status == status)
    return list(session.scalars(query))


def points_by_name(session: Session) -> list[AgentPoint]:
    """Every point in the session's scope, by name (for choosing one in a form)."""
    return list(session.scalars(select(AgentPoint).order_by(AgentPoint.name)))


def public_points(session: Session) -> list[tuple[AgentPoint, str]]:
    """Approved points of active partners, with the partner's name, by ward (the public home page)."""
    rows = session.execute(
        select(AgentPoint, Partner.name)
        .join(Partner, Partner.id == AgentPoint.partner_id)
        .where(AgentPoint.status == AgentPointStatus.approved, Partner.status == PartnerStatus.active)
        .order_by(AgentPoint.ward, AgentPoint.name)
    ).all()
    return [(row[0], row[1]) for row in rows]


def register_point(session: Session, actor: Actor, fields: dict[str, str]) -> AgentPoint:
    """A partner manager registers a new point; it waits for the center's approval."""
    partner_id = current_scope(session).partner_id
    if partner_id is None:
        raise PermissionDenied(policy.MESSAGES[Permission.register_points])
    policy.require(actor, Permission.register_points, partner_id=partner_id)
    values, coords, errors = rules.check_point(fields)
    if values["code"] and session.scalar(select(AgentPoint.id).where(AgentPoint.code == values["code"])):
        errors["code"] = N_("Mã điểm đã tồn tại")
    ward = wards.find_ward(session, values["ward"]) if values["ward"] else None
    if values["ward"] and ward is None:
        errors["ward"] = N_("Không phải phường, xã của Hà Nội")
    if errors:
        raise ValidationFailed("Thông tin điểm chưa hợp lệ", field_errors=errors)
    point = AgentPoint(
        partner_id=partner_id,
        code=values["code"],
        name=values["name"],
        address=values["address"],
        ward=ward.name if ward else values["ward"],
        ward_code=ward.code if ward else None,
        latitude=coords["latitude"],
        longitude=coords["longitude"],
        opening_hours=values["opening_hours"],
        status=AgentPointStatus.pending,
    )
    session.add(point)
    session.flush()
    audit.record(
        session,
        "agent_point.registered",
        "agent_point",
        point.id,
        partner_id=partner_id,
        detail={"code": point.code, "name": point.name},
    )
    return point


def set_status(
    session: Session, actor: Actor, point_id: uuid.UUID, status: AgentPointStatus, reason: str = ""
) -> AgentPoint:
    """The center approves a pending point, or closes one (with a reason)."""
    policy.require(actor, Permission.approve_points)
    point = session.get(AgentPoint, point_id)
    if point is None:
        raise NotFound("Không tìm thấy điểm đại lý")
    if status is AgentPointStatus.closed and not reason.strip():
        raise ValidationFailed("Cần ghi lý do đóng điểm", field_errors={"reason": N_("Bắt buộc nhập")})
    if point.status is status:
        raise Conflict("Điểm đã ở trạng thái này")
    before = point.status.value
    point.status = status
    audit.record(
        session,
        f"agent_point.{status.value}",
        "agent_point",
        point.id,
        partner_id=point.partner_id,
        detail={"before": before, "reason": reason.strip()},
    )
    return point
