"""The dashboards' tables as rows to export (CSV or XLSX): the same figures the pages show, from the rollups.

Each table is counted before it is written, so the web layer can answer a small one at once and
hand a large one to a worker (agents/reporting/export_jobs.py). Rows are read in the session's
scope: a partner's manager gets only their partner's points, whatever the table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.points.models import AgentPoint
from agents.reporting import dashboards
from agents.reporting.models import PointDayFigures
from portal.core.errors import ValidationFailed

FIGURE_COLUMNS = [
    "key",
    "name",
    "filed",
    "on_time_rate",
    "supplement_rate",
    "refused_rate",
    "counter_within_15_rate",
    "ratings",
    "average_rating",
]
DAY_COLUMNS = [
    "point_id",
    "point",
    "day",
    "filed",
    "on_time",
    "late",
    "supplement",
    "refused",
    "counter_count",
    "counter_within_15",
]
# Every table a dashboard exports; "days" (each point's figures per day) is the long one.
TABLES = ("points", "staff", "partners", "procedures", "weeks", "adoption", "days")
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Filters:
    period: dashboards.Period
    point_id: uuid.UUID | None = None
    staff_id: uuid.UUID | None = None


@dataclass
class Table:
    name: str
    header: list[str]
    count: int
    _rows: Any  # a list, or a callable giving an iterator (streamed from the database)

    def rows(self) -> Iterator[list[object]]:
        yield from (self._rows() if callable(self._rows) else self._rows)


def _blank(value: object) -> object:
    return "" if value is None else value


def _figure_row(row: dashboards.Row) -> list[object]:
    t = row.totals
    return [
        row.key,
        row.label,
        t.filed,
        _blank(t.on_time_rate),
        _blank(t.supplement_rate),
        _blank(t.refused_rate),
        _blank(t.within_15_rate),
        t.ratings,
        _blank(t.average_rating),
    ]


def check_choice(table: str, file_format: str) -> None:
    errors: dict[str, Any] = {}
    if table not in TABLES:
        errors["table"] = " | ".join(TABLES)
    if file_format not in FORMATS:
        errors["format"] = " | ".join(FORMATS)
    if errors:
        raise ValidationFailed("Bảng không hợp lệ", field_errors=errors)


def _day_where(filters: Filters) -> list[Any]:
    d = PointDayFigures
    where = [d.day >= filters.period.start, d.day <= filters.period.end]
    if filters.point_id is not None:
        where.append(d.agent_point_id == filters.point_id)
    if filters.staff_id is not None:
        where.append(d.staff_account_id == filters.staff_id)
    return where


def _days(session: Session, filters: Filters) -> Table:
    d = PointDayFigures
    where = _day_where(filters)
    keys = select(d.agent_point_id, d.day).where(*where).group_by(d.agent_point_id, d.day).subquery()
    count = int(session.scalar(select(func.count()).select_from(keys)) or 0)

    def stream() -> Iterator[list[object]]:
        query = (
            select(
                d.agent_point_id,
                AgentPoint.name,
                d.day,
                func.sum(d.filed),
                func.sum(d.on_time),
                func.sum(d.late),
                func.sum(d.supplement),
                func.sum(d.status_3),
                func.sum(d.counter_count),
                func.sum(d.counter_within_15),
            )
            .outerjoin(AgentPoint, AgentPoint.id == d.agent_point_id)
            .where(*where)
            .group_by(d.agent_point_id, AgentPoint.name, d.day)
            .order_by(AgentPoint.name, d.agent_point_id, d.day)
        )
        for point_id, name, day, *sums in session.execute(query, execution_options={"yield_per": 2000}):
            yield [str(point_id), name or "", day, *[int(s or 0) for s in sums]]

    return Table("days", DAY_COLUMNS, count, stream)


def open_table(session: Session, name: str, filters: Filters) -> Table:
    """The table `name` for these filters, counted; its rows are read when iterated."""
    if name not in TABLES:
        raise ValidationFailed("Bảng không hợp lệ", field_errors={"table": " | ".join(TABLES)})
    if name == "days":
        return _days(session, filters)
    board = dashboards.build(session, filters.period, point_id=filters.point_id, staff_id=filters.staff_id)
    if name == "adoption":
        rows = [[r.key, r.label, int(r.extra or 0), r.totals.filed] for r in board.adoption]
        return Table(name, ["key", "name", "points", "filed"], len(rows), rows)
    source = {
        "points": board.by_point,
        "staff": board.by_staff,
        "partners": board.by_partner,
        "procedures": board.by_procedure,
        "weeks": board.weekly,
    }[name]
    return Table(name, FIGURE_COLUMNS, len(source), [_figure_row(r) for r in source])
