"""When a point is open: its week, public-holiday closing and temporary closures (the partner
manager's), and the question every other part asks: is it open on this day, at this time?

Times are Hanoi's clock (Asia/Ho_Chi_Minh); public holidays are the working calendar's
(`agents.procedures.calendar`: the `holidays` package plus the center's `calendar_overrides`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import policy
from agents.points import rules
from agents.points.models import AgentPoint, AgentPointStatus, PointClosure
from agents.policy import Permission
from agents.procedures import service as procedures
from agents.procedures.calendar import VIETNAM_TIME, WorkingCalendar
from agents.staff.actor import Actor
from portal.core import audit
from portal.core.db import utcnow
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.i18n import N_, Message


def hanoi_now() -> datetime:
    return utcnow().astimezone(VIETNAM_TIME)


def managed_point(session: Session, actor: Actor, point_id: uuid.UUID) -> AgentPoint:
    """A point of the session's partner that this person may run (another partner's: not found)."""
    point = session.get(AgentPoint, point_id)
    if point is None or not policy.can(actor, Permission.manage_points, partner_id=point.partner_id):
        raise NotFound("Không tìm thấy điểm đại lý")
    return point


def closures_of(session: Session, point_ids: Iterable[uuid.UUID], since: date) -> dict[uuid.UUID, list[PointClosure]]:
    """The closures not cancelled that end on or after `since`, per point."""
    ids = list(point_ids)
    found: dict[uuid.UUID, list[PointClosure]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = session.scalars(
        select(PointClosure)
        .where(PointClosure.agent_point_id.in_(ids), PointClosure.cancelled_at.is_(None), PointClosure.ends_on >= since)
        .order_by(PointClosure.starts_on)
    )
    for row in rows:
        found[row.agent_point_id].append(row)
    return found


def is_public_holiday(calendar: WorkingCalendar, day: date) -> str | None:
    """The holiday's name if the government gives the day off (the package's, or the center's decree)."""
    name = calendar.holiday_name(day)
    if name is None and day in calendar.overrides.days_off:
        name = N_("Ngày nghỉ theo quyết định")
    if name is not None and day in calendar.overrides.working_days:
        return None
    return name


def plan(point: AgentPoint, closures: list[PointClosure], calendar: WorkingCalendar, day: date) -> rules.DayPlan:
    return rules.day_plan(
        point.weekly_hours,
        day,
        closures=[rules.Closure(c.starts_on, c.ends_on, c.reason) for c in closures],
        holiday=is_public_holiday(calendar, day),
        closed_on_public_holidays=point.closed_on_public_holidays,
    )


def check_open_for_filing(session: Session, point: AgentPoint) -> None:
    """Only approved points that are open today file: a temporary or holiday closure refuses.

    The hour of the day is not checked: staff finish a citizen's dossier after closing time.
    """
    if point.status is not AgentPointStatus.approved:
        raise Conflict("Điểm đại lý chưa được Trung tâm phê duyệt hoặc đã đóng; không thể tiếp nhận hồ sơ")
    today = hanoi_now().date()
    day = plan(point, closures_of(session, [point.id], today)[point.id], procedures.working_calendar(session), today)
    why = day.closed_because
    if why in (rules.CLOSED_TEMPORARILY, rules.CLOSED_HOLIDAY):
        assert why is not None
        raise Conflict(
            "Điểm đại lý đóng cửa hôm nay (%(why)s: %(detail)s); không thể tiếp nhận hồ sơ",
            params={"why": Message(why), "detail": day.detail},
        )


def set_week(session: Session, actor: Actor, point_id: uuid.UUID, fields: dict[str, str]) -> AgentPoint:
    """The manager publishes the point's week and whether it closes on public holidays."""
    point = managed_point(session, actor, point_id)
    week, errors = rules.parse_week(fields)
    if errors:
        raise ValidationFailed("Giờ mở cửa chưa hợp lệ", field_errors=errors)
    closes_on_holidays = fields.get("closed_on_public_holidays", "") in ("on", "1", "true", "yes")
    before = {"week": point.weekly_hours, "closed_on_public_holidays": point.closed_on_public_holidays}
    point.weekly_hours = week
    point.closed_on_public_holidays = closes_on_holidays
    point.opening_hours = rules.summary(week)[:200]
    audit.record(
        session,
        "agent_point.hours_changed",
        "agent_point",
        point.id,
        partner_id=point.partner_id,
        detail={"before": before, "after": {"week": week, "closed_on_public_holidays": closes_on_holidays}},
    )
    return point


def add_closure(session: Session, actor: Actor, point_id: uuid.UUID, fields: dict[str, str]) -> PointClosure:
    """The manager closes the point for some days, with the reason the public is shown."""
    point = managed_point(session, actor, point_id)
    today = hanoi_now().date()
    closure, errors = rules.closure_problems(
        fields.get("starts_on", ""), fields.get("ends_on", ""), fields.get("reason", ""), today
    )
    if closure is not None:
        for other in closures_of(session, [point.id], today)[point.id]:
            if other.starts_on <= closure.ends_on and closure.starts_on <= other.ends_on:
                errors["starts_on"] = N_("Trùng với một đợt tạm đóng cửa đã có")
    if errors or closure is None:
        raise ValidationFailed("Đợt tạm đóng cửa chưa hợp lệ", field_errors=errors)
    row = PointClosure(
        partner_id=point.partner_id,
        agent_point_id=point.id,
        starts_on=closure.starts_on,
        ends_on=closure.ends_on,
        reason=closure.reason,
        created_by=actor.account_id,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        "agent_point.closure_added",
        "agent_point",
        point.id,
        partner_id=point.partner_id,
        detail={
            "closure": str(row.id),
            "from": closure.starts_on.isoformat(),
            "to": closure.ends_on.isoformat(),
            "reason": closure.reason,
        },
    )
    return row


def cancel_closure(session: Session, actor: Actor, point_id: uuid.UUID, closure_id: uuid.UUID) -> PointClosure:
    """The manager reopens early: the closure is kept, marked cancelled."""
    point = managed_point(session, actor, point_id)
    row = session.get(PointClosure, closure_id)
    if row is None or row.agent_point_id != point.id:
        raise NotFound("Không tìm thấy đợt tạm đóng cửa")
    if row.cancelled_at is not None:
        raise Conflict("Đợt tạm đóng cửa này đã được hủy")
    row.cancelled_at, row.cancelled_by = utcnow(), actor.account_id
    audit.record(
        session,
        "agent_point.closure_cancelled",
        "agent_point",
        point.id,
        partner_id=point.partner_id,
        detail={"closure": str(row.id)},
    )
    return row
