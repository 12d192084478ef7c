"""The public locator: the nearest approved points that offer a procedure, with today's hours.

Distances are straight lines (great-circle), not by road. The search reads a bounding box
around the citizen from the (latitude, longitude) btree index, keeps the points inside the
circle, and widens the box until it holds `limit` of them (any point outside the box is
farther than every point kept). No PostGIS: a plain index works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from agents.partners.models import Partner, PartnerStatus
from agents.points import hours, rules
from agents.points.models import AgentPoint, AgentPointStatus, PointProcedure
from agents.procedures import service as procedures
from agents.procedures.models import Procedure
from portal.core.errors import ValidationFailed
from portal.core.i18n import N_

RADII_KM = (1.5, 5.0, 20.0, 80.0, 320.0, 2000.0)  # the last one holds the whole country
MAX_LIMIT = 50
OUTSIDE_VIETNAM = N_("Tọa độ nằm ngoài Việt Nam")


@dataclass(frozen=True)
class Found:
    point: AgentPoint
    distance_km: float
    open_now: bool
    day: rules.DayPlan


def check_place(latitude: float | None, longitude: float | None) -> tuple[float, float]:
    """The citizen's position, or a 422 naming the coordinate that is missing or outside Vietnam."""
    errors: dict[str, str] = {}
    for name, value in (("lat", latitude), ("lon", longitude)):
        if value is None:
            errors[name] = N_("Bắt buộc nhập")
        elif value != value or value in (float("inf"), float("-inf")):  # NaN or infinite
            errors[name] = N_("Phải là số")
    if not errors and not rules.in_vietnam(latitude, longitude):  # type: ignore[arg-type]
        errors = {"lat": OUTSIDE_VIETNAM, "lon": OUTSIDE_VIETNAM}
    if errors:
        raise ValidationFailed("Vị trí không hợp lệ: cần tọa độ trong lãnh thổ Việt Nam", field_errors=errors)
    assert latitude is not None and longitude is not None
    return latitude, longitude


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(
            "Số điểm trả về phải từ 1 đến %(max)s",
            params={"max": MAX_LIMIT},
            field_errors={"limit": N_("Không hợp lệ")},
        )
    return limit


def _candidates(
    session: Session, procedure: Procedure, box: tuple[float, float, float, float]
) -> list[tuple[uuid.UUID, float, float]]:
    """(id, latitude, longitude) of the points in the box that may be shown: three columns, no objects."""
    low_lat, high_lat, low_lon, high_lon = box
    offers = exists().where(PointProcedure.agent_point_id == AgentPoint.id, PointProcedure.procedure_id == procedure.id)
    rows = session.execute(
        select(AgentPoint.id, AgentPoint.latitude, AgentPoint.longitude)
        .join(Partner, Partner.id == AgentPoint.partner_id)
        .where(
            AgentPoint.latitude.between(low_lat, high_lat),
            AgentPoint.longitude.between(low_lon, high_lon),
            AgentPoint.status == AgentPointStatus.approved,
            Partner.status == PartnerStatus.active,
            offers,
        )
    )
    return [(point_id, lat, lon) for point_id, lat, lon in rows]


def nearest(
    session: Session,
    latitude: float | None,
    longitude: float | None,
    procedure_code: str,
    limit: int = 10,
    *,
    now: datetime | None = None,
) -> list[Found]:
    """Up to `limit` points offering the procedure, nearest first (unknown procedure: 404)."""
    latitude, longitude = check_place(latitude, longitude)
    limit = check_limit(limit)
    procedure = procedures.get_published(session, procedure_code)
    near: list[tuple[float, uuid.UUID]] = []
    for radius in RADII_KM:
        box = rules.bounding_box(latitude, longitude, radius)
        measured = [
            (rules.distance_km(latitude, longitude, lat, lon), point_id)
            for point_id, lat, lon in _candidates(session, procedure, box)
        ]
        near = sorted((d, i) for d, i in measured if d <= radius)
        if len(near) >= limit:
            break
    rows = {p.id: p for p in session.scalars(select(AgentPoint).where(AgentPoint.id.in_([i for _, i in near[:limit]])))}
    ranked = [(d, rows[i]) for d, i in near[:limit]]
    now = (now or hours.hanoi_now()).astimezone(hours.VIETNAM_TIME)
    today = now.date()
    closures = hours.closures_of(session, [p.id for _, p in ranked], today)
    calendar = procedures.working_calendar(session)
    found = []
    for distance, point in ranked:
        day = hours.plan(point, closures[point.id], calendar, today)
        found.append(Found(point, round(distance, 2), day.is_open_at(now.time()), day))
    return found
