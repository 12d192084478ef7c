"""Dashboard figures, read from the rollup tables only (agents/reporting/models.py), for a chosen period.

Runs in whatever scope the session has: a partner scope gives that partner's points and staff
(both tenancy walls apply to the rollups), a network scope gives every partner side by side.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.partners.models import Partner
from agents.points.models import AgentPoint
from agents.problems.models import ProblemReport, ProblemStatus
from agents.procedures.models import Procedure
from agents.reporting.models import CounterTimeFigures, OpenDueFigures, PointDayFigures, RatingDayFigures
from agents.reporting.rollups import BUCKET_SECONDS, LAST_BUCKET, local_day_of
from agents.staff.models import Account
from portal.core.db import utcnow
from portal.core.errors import ValidationFailed
from portal.core.i18n import N_

MAX_PERIOD_DAYS = 731
STATUS_COLUMNS = [f"status_{k}" for k in range(1, 11)]


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @classmethod
    def parse(cls, start: str, end: str, today: date | None = None) -> Period:
        """From the form's two dates (default: the last 30 days); a period ending before it starts is refused."""
        today = today or local_day_of(utcnow())
        errors: dict[str, Any] = {}
        parsed: dict[str, date] = {}
        for name, value, default in (("start", start, today - timedelta(days=29)), ("end", end, today)):
            try:
                parsed[name] = date.fromisoformat(value) if value else default
            except ValueError:
                errors[name] = N_("Ngày không hợp lệ (YYYY-MM-DD)")
        if errors:
            raise ValidationFailed("Khoảng thời gian không hợp lệ", field_errors=errors)
        if parsed["end"] < parsed["start"]:
            raise ValidationFailed(
                "Khoảng thời gian không hợp lệ", field_errors={"end": N_("Ngày kết thúc trước ngày bắt đầu")}
            )
        if (parsed["end"] - parsed["start"]).days >= MAX_PERIOD_DAYS:
            raise ValidationFailed("Khoảng thời gian không hợp lệ", field_errors={"start": N_("Tối đa hai năm")})
        return cls(parsed["start"], parsed["end"])


@dataclass
class Totals:
    filed: int = 0
    not_forwarded: int = 0
    rejected: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    supplement: int = 0
    on_time: int = 0
    late: int = 0
    counter_count: int = 0
    counter_within_15: int = 0
    counter_median_seconds: int | None = None
    ratings: int = 0
    stars_sum: int = 0
    sipas: dict[str, list[int]] = field(default_factory=dict)  # criterion -> [very satisfied, satisfied, not]
    open_problems: int = 0
    overdue: int = 0

    @property
    def on_time_rate(self) -> float | None:
        done = self.on_time + self.late
        return round(100 * self.on_time / done, 1) if done else None

    @property
    def supplement_rate(self) -> float | None:
        return round(100 * self.supplement / self.filed, 1) if self.filed else None

    @property
    def refused_rate(self) -> float | None:
        return round(100 * self.statuses.get(3, 0) / self.filed, 1) if self.filed else None

    @property
    def average_rating(self) -> float | None:
        return round(self.stars_sum / self.ratings, 2) if self.ratings else None

    @property
    def within_15_rate(self) -> float | None:
        return round(100 * self.counter_within_15 / self.counter_count, 1) if self.counter_count else None


@dataclass
class Row:
    """One line of a breakdown (a point, a staff member, a partner, a procedure, a week)."""

    key: str
    label: str
    totals: Totals
    extra: str = ""


@dataclass
class Dashboard:
    period: Period
    totals: Totals
    by_procedure: list[Row]
    by_point: list[Row]  # ranked: on-time rate, then average rating
    by_staff: list[Row]
    by_partner: list[Row]
    weekly: list[Row]
    adoption: list[Row]  # procedures by the number of points that filed them


def _in(period: Period, column: Any) -> list[Any]:
    return [column >= period.start, column <= period.end]


def _dossier_sums() -> list[Any]:
    t = PointDayFigures
    return [
        func.sum(t.filed),
        func.sum(t.not_forwarded),
        func.sum(t.rejected),
        *[func.sum(getattr(t, c)) for c in STATUS_COLUMNS],
        func.sum(t.supplement),
        func.sum(t.on_time),
        func.sum(t.late),
        func.sum(t.counter_count),
        func.sum(t.counter_within_15),
    ]


def _totals_from(values: Any) -> Totals:
    v = [int(x or 0) for x in values]
    return Totals(
        filed=v[0],
        not_forwarded=v[1],
        rejected=v[2],
        statuses={k: v[2 + k] for k in range(1, 11)},
        supplement=v[13],
        on_time=v[14],
        late=v[15],
        counter_count=v[16],
        counter_within_15=v[17],
    )


_RATING_COLUMNS = [
    "count",
    "stars_sum",
    "overall_vs",
    "overall_s",
    "overall_ns",
    "attitude_vs",
    "attitude_s",
    "attitude_ns",
    "time_vs",
    "time_s",
    "time_ns",
    "back_vs",
    "back_s",
    "back_ns",
]


def _add_ratings(totals: Totals, values: Any) -> None:
    v = [int(x or 0) for x in values]
    totals.ratings, totals.stars_sum = v[0], v[1]
    totals.sipas = {
        "overall": v[2:5],
        "attitude": v[5:8],
        "timeliness": v[8:11],
        "came_back": v[11:14],
    }


def _median(session: Session, where: list[Any]) -> int | None:
    rows = session.execute(
        select(CounterTimeFigures.bucket, func.sum(CounterTimeFigures.count))
        .where(*where)
        .group_by(CounterTimeFigures.bucket)
        .order_by(CounterTimeFigures.bucket)
    ).all()
    total = sum(int(n) for _, n in rows)
    if not total:
        return None
    seen = 0
    for bucket, n in rows:
        seen += int(n)
        if seen * 2 >= total:
            return min(int(bucket), LAST_BUCKET) * BUCKET_SECONDS + BUCKET_SECONDS // 2
    return None


def build(
    session: Session,
    period: Period,
    *,
    point_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
    today: date | None = None,
) -> Dashboard:
    today = today or local_day_of(utcnow())
    d, r, c = PointDayFigures, RatingDayFigures, CounterTimeFigures
    where_d, where_r, where_c = _in(period, d.day), _in(period, r.day), _in(period, c.day)
    if point_id is not None:
        where_d.append(d.agent_point_id == point_id)
        where_r.append(r.agent_point_id == point_id)
        where_c.append(c.agent_point_id == point_id)
    if staff_id is not None:
        where_d.append(d.staff_account_id == staff_id)
        where_r.append(r.staff_account_id == staff_id)
        where_c.append(c.staff_account_id == staff_id)

    totals = _totals_from(session.execute(select(*_dossier_sums()).where(*where_d)).one())
    _add_ratings(
        totals, session.execute(select(*[func.sum(getattr(r, n)) for n in _RATING_COLUMNS]).where(*where_r)).one()
    )
    totals.counter_median_seconds = _median(session, where_c)
    problems = select(func.count()).select_from(ProblemReport).where(ProblemReport.status != ProblemStatus.resolved)
    if point_id is not None:
        problems = problems.where(ProblemReport.agent_point_id == point_id)
    totals.open_problems = session.scalar(problems) or 0
    overdue = select(func.coalesce(func.sum(OpenDueFigures.count), 0)).where(OpenDueFigures.due_day < today)
    if point_id is not None:
        overdue = overdue.where(OpenDueFigures.agent_point_id == point_id)
    totals.overdue = int(session.scalar(overdue) or 0)

    def grouped(key: Any, label: Any, joins: list[tuple[Any, Any]], rating_key: Any | None) -> list[Row]:
        query = select(key, label, *_dossier_sums()).where(*where_d)
        for target, on in joins:
            query = query.join(target, on)
        rows = {
            str(k): Row(str(k), str(lbl), _totals_from(rest))
            for k, lbl, *rest in session.execute(query.group_by(key, label))
        }
        if rating_key is not None:
            for k, *rest in session.execute(
                select(rating_key, *[func.sum(getattr(r, n)) for n in _RATING_COLUMNS])
                .where(*where_r)
                .group_by(rating_key)
            ):
                if str(k) in rows:
                    _add_ratings(rows[str(k)].totals, rest)
        return list(rows.values())

    by_point = grouped(
        d.agent_point_id, AgentPoint.name, [(AgentPoint, AgentPoint.id == d.agent_point_id)], r.agent_point_id
    )
    by_point.sort(key=lambda row: (-(row.totals.on_time_rate or 0), -(row.totals.average_rating or 0), row.label))
    by_staff = grouped(
        d.staff_account_id, Account.full_name, [(Account, Account.id == d.staff_account_id)], r.staff_account_id
    )
    by_staff.sort(key=lambda row: -row.totals.filed)
    by_partner = grouped(d.partner_id, Partner.name, [(Partner, Partner.id == d.partner_id)], r.partner_id)
    by_procedure = grouped(d.procedure_id, Procedure.code, [(Procedure, Procedure.id == d.procedure_id)], None)
    by_procedure.sort(key=lambda row: -row.totals.filed)
    # A procedure's name is its current version's (agents/procedures/models.py), not a column.
    names = {str(p.id): f"{p.code} {p.name}" for p in session.scalars(select(Procedure))}
    for row in by_procedure:
        row.label = names.get(row.key, row.label)

    weeks: dict[date, Totals] = {}
    for day, *rest in session.execute(select(d.day, *_dossier_sums()).where(*where_d).group_by(d.day)):
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        monday = day - timedelta(days=day.weekday())
        t = weeks.setdefault(monday, Totals())
        part = _totals_from(rest)
        t.filed += part.filed
        t.on_time += part.on_time
        t.late += part.late
    weekly = [Row(w.isoformat(), w.isoformat(), t) for w, t in sorted(weeks.items())]

    adoption = [
        Row(str(pid), str(name), Totals(filed=int(filed)), extra=str(points))
        for pid, name, points, filed in session.execute(
            select(d.procedure_id, Procedure.code, func.count(func.distinct(d.agent_point_id)), func.sum(d.filed))
            .join(Procedure, Procedure.id == d.procedure_id)
            .where(*where_d)
            .group_by(d.procedure_id, Procedure.code)
            .order_by(func.count(func.distinct(d.agent_point_id)).desc())
        )
    ]
    for row in adoption:
        row.label = names.get(row.key, row.label)
    return Dashboard(period, totals, by_procedure, by_point, by_staff, by_partner, weekly, adoption)


# On-time rate bands of the center's map (the city publishes 99.80 % for its own counters).
GOOD_ON_TIME, FAIR_ON_TIME = 95.0, 80.0


def band(rate: float | None) -> str:
    if rate is None:
        return "none"
    return "good" if rate >= GOOD_ON_TIME else "fair" if rate >= FAIR_ON_TIME else "poor"


def point_map(session: Session, rows: list[Row]) -> list[dict[str, Any]]:
    """The points of a dashboard's ranking, placed and coloured by their on-time rate (the center's map)."""
    places = {
        str(pid): (name, lat, lon)
        for pid, name, lat, lon in session.execute(
            select(AgentPoint.id, AgentPoint.name, AgentPoint.latitude, AgentPoint.longitude)
        )
    }
    out = []
    for row in rows:
        if row.key not in places:
            continue
        name, lat, lon = places[row.key]
        t = row.totals
        rate = "—" if t.on_time_rate is None else f"{t.on_time_rate} %"
        stars = "" if t.average_rating is None else f" · ★ {t.average_rating}"
        out.append(
            {
                "name": f"{name}: {rate}{stars}",
                "lat": lat,
                "lon": lon,
                "open": True,
                "band": band(t.on_time_rate),
            }
        )
    return out
