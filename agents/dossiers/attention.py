"""Dossiers that need someone: due soon, overdue, never acknowledged by the city, or not sent at all.

"No late dossiers" and "the office never got my dossier" are caught here, from the dossier rows,
for whoever may see them: a point lead sees their points, a partner manager the partner's, the
center every partner (in a network scope).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from agents import policy
from agents.dossiers.models import CityStatus, Dossier, DossierState
from agents.policy import Permission
from agents.procedures.calendar import VIETNAM_TIME, WorkingCalendar
from agents.staff.actor import Actor
from portal.core.db import utcnow
from portal.core.tenancy import current_scope

#: "Due soon": the city's due date falls within this many working days.
DUE_SOON_WORKING_DAYS = 2
LIST_LIMIT = 200

_FINISHED = [s.value for s in CityStatus if s.is_final or s.is_done]


def is_overdue(dossier: Dossier, now: datetime | None = None) -> bool:
    """Past the city's due date and the city has not finished with it."""
    if dossier.due_at is None or dossier.city_status in _FINISHED:
        return False
    return dossier.due_at < (now or utcnow())


def supplement_count(dossier: Dossier) -> int:
    """How many times the city asked for more documents (status 5 applied; a refused report does not count)."""
    return sum(
        1
        for e in dossier.events
        if e.source == "city" and e.city_status == CityStatus.supplement_requested and e.refused_after is None
    )


@dataclass(frozen=True)
class Attention:
    due_soon: list[Dossier]
    overdue: list[Dossier]
    unacknowledged: list[Dossier]  # forwarded, and no "received" (status 2) from the city in time
    forward_failed: list[Dossier]

    @property
    def count(self) -> int:
        return len(self.due_soon) + len(self.overdue) + len(self.unacknowledged) + len(self.forward_failed)


def needing_attention(
    session: Session,
    actor: Actor | None,
    *,
    ack_timeout: timedelta,
    calendar: WorkingCalendar | None = None,
    now: datetime | None = None,
) -> Attention:
    """The four lists, each oldest first. `actor` None: every dossier the session's scope reaches (the center)."""
    now = now or utcnow()
    calendar = calendar or WorkingCalendar()
    today = now.astimezone(VIETNAM_TIME).date()
    last_day = calendar.add_working_days(today, DUE_SOON_WORKING_DAYS)
    due_by = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=VIETNAM_TIME)
    open_at_city = (Dossier.state == DossierState.forwarded) & (
        Dossier.city_status.is_(None) | Dossier.city_status.not_in(_FINISHED)
    )

    def listed(query: Select[Dossier], order: InstrumentedAttribute[Any]) -> list[Dossier]:
        return list(session.scalars(_visible(session, actor, query).order_by(order).limit(LIST_LIMIT)))

    return Attention(
        due_soon=listed(
            select(Dossier).where(open_at_city, Dossier.due_at >= now, Dossier.due_at < due_by), Dossier.due_at
        ),
        overdue=listed(select(Dossier).where(open_at_city, Dossier.due_at < now), Dossier.due_at),
        unacknowledged=listed(
            select(Dossier).where(
                Dossier.state == DossierState.forwarded,
                or_(Dossier.city_status.is_(None), Dossier.city_status == CityStatus.new.value),
                Dossier.forwarded_at < now - ack_timeout,
            ),
            Dossier.forwarded_at,
        ),
        forward_failed=listed(
            select(Dossier).where(Dossier.state == DossierState.forward_failed), Dossier.submitted_at
        ),
    )


def visible_to(session: Session, actor: Actor | None, query: Select[Dossier]) -> Select[Dossier]:
    """`query` narrowed to the dossiers `actor` may see (None: whatever the session's scope reaches)."""
    return _visible(session, actor, query)


def _visible(session: Session, actor: Actor | None, query: Select[Dossier]) -> Select[Dossier]:
    if actor is None:
        return query  # the scope's wall decides (a network scope: every partner)
    scope = current_scope(session)
    if scope.partner_id is None:
        return query.where(Dossier.id.is_(None))
    points = policy.points_for(actor, Permission.see_dossiers, scope.partner_id)
    if points is not None:
        query = query.where(Dossier.agent_point_id.in_(points or {uuid.uuid4()}))
    return query
