"""Figures per agent point: volume by status, timeliness, ratings.

Runs in whatever scope the session has: a partner scope gives that partner's
points, a network scope (center) gives every point.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from agents.dossiers.models import CityStatus, Dossier, DossierEvent, DossierState
from agents.partners.models import Partner
from agents.points.models import AgentPoint
from agents.ratings.models import Rating
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


def figures_per_point(session: Session) -> list[PointFigures]:
    now = utcnow()
    points = session.execute(
        select(AgentPoint.id, AgentPoint.name, AgentPoint.ward, Partner.name.label("partner_name"))
        .join(Partner, Partner.id == AgentPoint.partner_id)
        .order_by(Partner.name, AgentPoint.name)
    ).all()
    figures = {p.id: PointFigures(p.id, p.name, p.partner_name, p.ward) for p in points}

    for row in session.execute(
        select(Dossier.agent_point_id, Dossier.state, Dossier.city_status, func.count()).group_by(
            Dossier.agent_point_id, Dossier.state, Dossier.city_status
        )
    ):
        f = figures.get(row[0])
        if f is None:
            continue
        count = row[3]
        f.total += count
        if row[1] == DossierState.queued:
            f.queued += count
        elif row[1] == DossierState.rejected:
            f.rejected += count
        if row[2] is not None:
            f.by_city_status[row[2]] = f.by_city_status.get(row[2], 0) + count

    late_expr = case(
        ((Dossier.finished_at.is_not(None)) & (Dossier.finished_at > Dossier.due_at), 1),
        ((Dossier.finished_at.is_(None)) & (Dossier.due_at < now), 1),
        else_=0,
    )
    on_time_expr = case(((Dossier.finished_at.is_not(None)) & (Dossier.finished_at <= Dossier.due_at), 1), else_=0)
    for point_id, late, on_time in session.execute(
        select(Dossier.agent_point_id, func.sum(late_expr), func.sum(on_time_expr))
        .where(Dossier.due_at.is_not(None))
        .group_by(Dossier.agent_point_id)
    ):
        if point_id in figures:
            figures[point_id].late = int(late or 0)
            figures[point_id].on_time = int(on_time or 0)

    asked = (
        select(DossierEvent.dossier_id)
        .where(
            DossierEvent.source == "city",
            DossierEvent.city_status == CityStatus.supplement_requested.value,
            DossierEvent.refused_after.is_(None),
        )
        .distinct()
    )
    for point_id, count, agent_caused in session.execute(
        select(Dossier.agent_point_id, func.count(), func.count(Dossier.agent_caused_supplement_at))
        .where(Dossier.id.in_(asked))
        .group_by(Dossier.agent_point_id)
    ):
        if point_id in figures:
            figures[point_id].supplements_asked = int(count)
            figures[point_id].agent_caused_supplements = int(agent_caused)

    for point_id, count, average in session.execute(
        select(Rating.agent_point_id, func.count(), func.avg(Rating.stars))
        .where(Rating.excluded.is_(False))  # the center left these out (agents/ratings/flags.py)
        .group_by(Rating.agent_point_id)
    ):
        if point_id in figures:
            figures[point_id].ratings = count
            figures[point_id].average_rating = round(float(average), 2)
    return list(figures.values())
