"""The public transparency figures, per partner and for the network, by month, from the rollups only.

Dossiers handled (filed at the partner's points), the on-time rate (results by the city's due date,
of the results given) and the average rating (ratings the center excluded left out, as in every
average). Nothing here names a point, a person or a dossier: it is published without an account.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.partners.models import Partner, PartnerStatus
from agents.reporting.models import PointDayFigures, RatingDayFigures
from agents.reporting.rollups import local_day_of
from portal.core.db import utcnow
from portal.core.errors import NotFound

MONTHS_SHOWN = 12
LISTED = (PartnerStatus.active, PartnerStatus.suspended, PartnerStatus.ended)


@dataclass
class Month:
    month: date  # its first day
    handled: int = 0
    on_time: int = 0
    late: int = 0
    ratings: int = 0
    stars_sum: int = 0

    @property
    def on_time_rate(self) -> float | None:
        done = self.on_time + self.late
        return round(100 * self.on_time / done, 1) if done else None

    @property
    def average_rating(self) -> float | None:
        return round(self.stars_sum / self.ratings, 2) if self.ratings else None


@dataclass
class Transparency:
    partner: Partner | None  # None: the whole network
    months: list[Month]  # oldest first, every month of the window (empty ones included)
    total: Month = field(default_factory=lambda: Month(date.min))


def _month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _month_of(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def listed_partners(session: Session) -> list[Partner]:
    return list(session.scalars(select(Partner).where(Partner.status.in_(LISTED)).order_by(Partner.name)))


def partner_by_code(session: Session, code: str) -> Partner:
    partner = session.scalar(select(Partner).where(Partner.code == code, Partner.status.in_(LISTED)))
    if partner is None:
        raise NotFound("Không tìm thấy đối tác")
    return partner


def figures(session: Session, partner: Partner | None, *, today: date | None = None) -> Transparency:
    """The last MONTHS_SHOWN months (this one included) for one partner, or the network."""
    today = today or local_day_of(utcnow())
    first = _month_start(today, MONTHS_SHOWN - 1)
    months = {
        _month_start(today, back).strftime("%Y-%m"): Month(_month_start(today, back)) for back in range(MONTHS_SHOWN)
    }
    d, r = PointDayFigures, RatingDayFigures
    where_d: list[Any] = [d.day >= first, d.day <= today]
    where_r: list[Any] = [r.day >= first, r.day <= today]
    if partner is not None:
        where_d.append(d.partner_id == partner.id)
        where_r.append(r.partner_id == partner.id)
    month_d = _month_of(session, d.day)
    for key, handled, on_time, late in session.execute(
        select(month_d, func.sum(d.filed), func.sum(d.on_time), func.sum(d.late)).where(*where_d).group_by(month_d)
    ):
        if (m := months.get(str(key))) is not None:
            m.handled, m.on_time, m.late = int(handled or 0), int(on_time or 0), int(late or 0)
    month_r = _month_of(session, r.day)
    for key, count, stars in session.execute(
        select(month_r, func.sum(r.count), func.sum(r.stars_sum)).where(*where_r).group_by(month_r)
    ):
        if (m := months.get(str(key))) is not None:
            m.ratings, m.stars_sum = int(count or 0), int(stars or 0)
    shown = sorted(months.values(), key=lambda m: m.month)
    total = Month(first)
    for m in shown:
        total.handled += m.handled
        total.on_time += m.on_time
        total.late += m.late
        total.ratings += m.ratings
        total.stars_sum += m.stars_sum
    return Transparency(partner, shown, total)


def network_by_partner(session: Session, *, today: date | None = None) -> list[tuple[Partner, Month]]:
    """Each listed partner's totals over the window, for the network page's table."""
    today = today or local_day_of(utcnow())
    first = _month_start(today, MONTHS_SHOWN - 1)
    partners = listed_partners(session)
    totals = {p.id: Month(first) for p in partners}
    d, r = PointDayFigures, RatingDayFigures
    for pid, handled, on_time, late in session.execute(
        select(d.partner_id, func.sum(d.filed), func.sum(d.on_time), func.sum(d.late))
        .where(d.day >= first, d.day <= today)
        .group_by(d.partner_id)
    ):
        if (m := totals.get(_as_uuid(pid))) is not None:
            m.handled, m.on_time, m.late = int(handled or 0), int(on_time or 0), int(late or 0)
    for pid, count, stars in session.execute(
        select(r.partner_id, func.sum(r.count), func.sum(r.stars_sum))
        .where(r.day >= first, r.day <= today)
        .group_by(r.partner_id)
    ):
        if (m := totals.get(_as_uuid(pid))) is not None:
            m.ratings, m.stars_sum = int(count or 0), int(stars or 0)
    return [(p, totals[p.id]) for p in partners]


def _as_uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
