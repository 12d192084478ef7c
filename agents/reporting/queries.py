"""Figures per agent point since it opened: volume by status, timeliness, ratings, from the rollups only.

Runs in whatever scope the session has: a partner scope gives that partner's
points, a network scope (center) gives every point.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.partners.models import Partner
from agents.points.models import AgentPoint
from agents.reporting.models import OpenDueFigures, PointDayFigures, RatingDayFigures
from agents.reporting.rollups import local_day_of
from portal.core.db import utcnow


@dataclass
class PointFigures:
    point_id: uuid.UUID
    point_name: str
    partner_name: str
    ward: str
    total: int = 0
    queued: int = 0
    rejected: int = 0
    by_city_status: dict[int, int] = field(default_factory=dict)
    on_time: int = 0
    late: int = 0
    ratings: int = 0
    average_rating: float | None = None
    # Requests for more documents (status 5) marked as the point's own miss: against its quality.
    supplements_asked: int = 0
    agent_caused_supplements: int = 0


def figures_per_point(session: Session, today: date | None = None) -> list[PointFigures]:
    """Every point's figures since it opened, summed from the rollups (no dossier is read)."""
    today = today or local_day_of(utcnow())
    points = session.execute(
        select(AgentPoint.id, AgentPoint.name, AgentPoint.ward, Partner.name.label("partner_name"))
        .join(Partner, Partner.id == AgentPoint.partner_id)
        .order_by(Partner.name, AgentPoint.name)
    ).all()
    figures = {p.id: PointFigures(p.id, p.name, p.partner_name, p.ward) for p in points}

    d = PointDayFigures
    statuses = [func.sum(getattr(d, f"status_{k}")) for k in range(1, 11)]
    for point_id, total, queued, rejected, on_time, late, asked, agent_caused, *by_status in session.execute(
        select(
            d.agent_point_id,
            func.sum(d.filed),
            func.sum(d.not_forwarded),
            func.sum(d.rejected),
            func.sum(d.on_time),
            func.sum(d.late),
            func.sum(d.supplement),
            func.sum(d.agent_caused_supplement),
            *statuses,
        ).group_by(d.agent_point_id)
    ):
        f = figures.get(point_id)
        if f is None:
            continue
        f.total, f.queued, f.rejected = int(total or 0), int(queued or 0), int(rejected or 0)
        f.on_time, f.late = int(on_time or 0), int(late or 0)
        f.supplements_asked, f.agent_caused_supplements = int(asked or 0), int(agent_caused or 0)
        f.by_city_status = {k: int(n) for k, n in enumerate(by_status, start=1) if n}

    # Late: results after the due date, and dossiers still open past it (OpenDueFigures).
    for point_id, overdue in session.execute(
        select(OpenDueFigures.agent_point_id, func.sum(OpenDueFigures.count))
        .where(OpenDueFigures.due_day < today)
        .group_by(OpenDueFigures.agent_point_id)
    ):
        if point_id in figures:
            figures[point_id].late += int(overdue or 0)

    r = RatingDayFigures
    for point_id, count, stars in session.execute(
        select(r.agent_point_id, func.sum(r.count), func.sum(r.stars_sum)).group_by(r.agent_point_id)
    ):  # the center's exclusions are already left out of the rollups
        if point_id in figures and count:
            figures[point_id].ratings = int(count)
            figures[point_id].average_rating = round(int(stars or 0) / int(count), 2)
    return list(figures.values())
