"""The rollup tables, from one set of queries: refreshed per (point, local day) as events arrive, rebuilt nightly.

`refresh_dossier_day` and `refresh_rating_day` recompute one point's figures for one local
(Vietnam) day from its dossiers or ratings; `rebuild` runs the very same queries over
everything. The figures cannot drift apart: a refresh is idempotent and order-free (it
recomputes from the rows as they are, whichever event triggered it), and a nightly rebuild
that disagreed would be a bug the tests catch (tests/agents/reporting/test_rollups.py).

Which (point, day) to refresh is found by a flush listener on every session: a new or
changed Dossier or Rating registers, after commit, one `reporting.refresh` task per key.
No filing, status or rating code has to remember it.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
import zlib
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, and_, cast, delete, event, exists, func, insert, literal, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from agents.dossiers.models import Dossier, DossierEvent, DossierState
from agents.ratings.models import Rating
from agents.reporting.models import (
    _NO_STAFF,
    CounterTimeFigures,
    OpenDueFigures,
    PointDayFigures,
    RatingDayFigures,
)
from portal.core.db import ReadOnlyViolation, on_commit
from portal.core.tenancy import Scope

log = logging.getLogger(__name__)
LOCAL_OFFSET = timedelta(hours=7)  # Vietnam: UTC+7 all year
COUNTER_STANDARD_SECONDS = 900  # the 15-minute standard at the counter
BUCKET_SECONDS = 30
LAST_BUCKET = 60  # 30 minutes or more
_LOCK_KEY = 4_212_030  # PostgreSQL advisory lock namespace of the rollups
ROLLUP_SCOPE = "rollups: figures kept current for the dashboards"
DOSSIER_TABLES = (PointDayFigures, CounterTimeFigures, OpenDueFigures)


def local_day_of(moment: datetime) -> date:
    return (moment.astimezone(UTC) + LOCAL_OFFSET).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a local day starts and ends at."""
    start = datetime.combine(day, time(0), tzinfo=UTC) - LOCAL_OFFSET
    return start, start + timedelta(days=1)


def _local_day(session: Session, column: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone("Asia/Ho_Chi_Minh", column), Date)
    return func.date(column, "+7 hours")


def _sum_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    from sqlalchemy import case

    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _dossier_filter(point_id: uuid.UUID | None, day: date | None) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if point_id is not None:
        where.append(Dossier.agent_point_id == point_id)
    if day is not None:
        start, end = day_bounds(day)
        where += [Dossier.submitted_at >= start, Dossier.submitted_at < end]
    return where


def _point_day_select(session: Session, where: list[ColumnElement[bool]]) -> Any:
    day = _local_day(session, Dossier.submitted_at).label("day")
    staff = func.coalesce(Dossier.staff_account_id, literal(_NO_STAFF)).label("staff_account_id")
    supplement = exists().where(
        DossierEvent.dossier_id == Dossier.id, DossierEvent.city_status == 5, DossierEvent.refused_after.is_(None)
    )
    finished_with_due = Dossier.finished_at.is_not(None) & Dossier.due_at.is_not(None)
    columns = [
        Dossier.partner_id,
        Dossier.agent_point_id,
        day,
        staff,
        Dossier.procedure_id,
        func.count().label("filed"),
        _sum_if(Dossier.state.in_([DossierState.queued, DossierState.forward_failed])).label("not_forwarded"),
        _sum_if(Dossier.state == DossierState.rejected).label("rejected"),
        _sum_if(Dossier.city_status.is_(None)).label("status_none"),
        *[_sum_if(Dossier.city_status == k).label(f"status_{k}") for k in range(1, 11)],
        _sum_if(supplement).label("supplement"),
        _sum_if(Dossier.agent_caused_supplement_at.is_not(None)).label("agent_caused_supplement"),
        _sum_if(finished_with_due & (Dossier.finished_at <= Dossier.due_at)).label("on_time"),
        _sum_if(finished_with_due & (Dossier.finished_at > Dossier.due_at)).label("late"),
        _sum_if(Dossier.counter_seconds.is_not(None)).label("counter_count"),
        func.coalesce(func.sum(Dossier.counter_seconds), 0).label("counter_seconds"),
        _sum_if(Dossier.counter_seconds <= COUNTER_STANDARD_SECONDS).label("counter_within_15"),
    ]
    return (
        select(*columns)
        .where(*where)
        .group_by(Dossier.partner_id, Dossier.agent_point_id, day, staff, Dossier.procedure_id)
    )


def _counter_select(session: Session, where: list[ColumnElement[bool]]) -> Any:
    from sqlalchemy import case

    day = _local_day(session, Dossier.submitted_at).label("day")
    staff = func.coalesce(Dossier.staff_account_id, literal(_NO_STAFF)).label("staff_account_id")
    bucket = case(
        (Dossier.counter_seconds >= BUCKET_SECONDS * LAST_BUCKET, LAST_BUCKET),
        else_=Dossier.counter_seconds / BUCKET_SECONDS,
    ).label("bucket")
    return (
        select(Dossier.partner_id, Dossier.agent_point_id, day, staff, bucket, func.count().label("count"))
        .where(*where, Dossier.counter_seconds.is_not(None))
        .group_by(Dossier.partner_id, Dossier.agent_point_id, day, staff, bucket)
    )


OPEN_EXCLUDED_STATUSES = (3, 7, 8, 9, 10)  # refused, withdrawn, stopped, result ready, returned


def _open_due_select(session: Session, where: list[ColumnElement[bool]]) -> Any:
    day = _local_day(session, Dossier.submitted_at).label("day")
    due_day = _local_day(session, Dossier.due_at).label("due_day")
    still_open = and_(
        Dossier.due_at.is_not(None),
        Dossier.finished_at.is_(None),
        Dossier.state != DossierState.rejected,
        (Dossier.city_status.is_(None)) | Dossier.city_status.not_in(OPEN_EXCLUDED_STATUSES),
    )
    return (
        select(Dossier.partner_id, Dossier.agent_point_id, day, due_day, func.count().label("count"))
        .where(*where, still_open)
        .group_by(Dossier.partner_id, Dossier.agent_point_id, day, due_day)
    )


def _rating_select(session: Session, point_id: uuid.UUID | None, day: date | None) -> Any:
    local = _local_day(session, Rating.created_at).label("day")
    staff = func.coalesce(Rating.staff_account_id, literal(_NO_STAFF)).label("staff_account_id")
    where: list[ColumnElement[bool]] = [Rating.excluded.is_(False)]
    if point_id is not None:
        where.append(Rating.agent_point_id == point_id)
    if day is not None:
        start, end = day_bounds(day)
        where += [Rating.created_at >= start, Rating.created_at < end]

    def level(column: Any, value: Any, label: str) -> ColumnElement[int]:
        return _sum_if(column == value).label(label)

    return (
        select(
            Rating.partner_id,
            Rating.agent_point_id,
            local,
            staff,
            Rating.kind,
            func.count().label("count"),
            func.coalesce(func.sum(Rating.stars), 0).label("stars_sum"),
            _sum_if(Rating.stars == 5).label("overall_vs"),
            _sum_if(Rating.stars.in_([3, 4])).label("overall_s"),
            _sum_if(Rating.stars <= 2).label("overall_ns"),
            level(Rating.attitude, "very_satisfied", "attitude_vs"),
            level(Rating.attitude, "satisfied", "attitude_s"),
            level(Rating.attitude, "not_satisfied", "attitude_ns"),
            level(Rating.timeliness, "earlier", "time_vs"),
            level(Rating.timeliness, "on_time", "time_s"),
            level(Rating.timeliness, "late", "time_ns"),
            level(Rating.came_back, 0, "back_vs"),
            level(Rating.came_back, 1, "back_s"),
            level(Rating.came_back, 2, "back_ns"),
        )
        .where(*where)
        .group_by(Rating.partner_id, Rating.agent_point_id, local, staff, Rating.kind)
    )


def _columns(table: Any) -> list[str]:
    return [c.name for c in table.__table__.columns]


def _fill(session: Session, table: Any, query: Any) -> None:
    names = [c.name for c in query.selected_columns]
    session.execute(insert(table.__table__).from_select(names, query))


def _lock(session: Session, *parts: object) -> None:
    if session.get_bind().dialect.name == "postgresql":
        key = zlib.crc32("|".join(map(str, parts)).encode()) - 2**31
        session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": _LOCK_KEY, "b": key})


def refresh_dossier_day(session: Session, point_id: uuid.UUID, day: date) -> None:
    """Recompute one point's dossier figures for one local filing day."""
    _lock(session, "dossiers", point_id, day)
    for table in DOSSIER_TABLES:
        session.execute(
            delete(table)
            .where(table.agent_point_id == point_id, table.day == day)
            .execution_options(synchronize_session=False)
        )
    where = _dossier_filter(point_id, day)
    _fill(session, PointDayFigures, _point_day_select(session, where))
    _fill(session, CounterTimeFigures, _counter_select(session, where))
    _fill(session, OpenDueFigures, _open_due_select(session, where))


def refresh_rating_day(session: Session, point_id: uuid.UUID, day: date) -> None:
    """Recompute one point's rating figures for one local day."""
    _lock(session, "ratings", point_id, day)
    session.execute(
        delete(RatingDayFigures)
        .where(RatingDayFigures.agent_point_id == point_id, RatingDayFigures.day == day)
        .execution_options(synchronize_session=False)
    )
    _fill(session, RatingDayFigures, _rating_select(session, point_id, day))


def rebuild(session: Session) -> dict[str, int]:
    """Every rollup from scratch, with the same queries (the nightly task). Returns the rows written."""
    tables = (*DOSSIER_TABLES, RatingDayFigures)
    if session.get_bind().dialect.name == "postgresql":
        names = ", ".join(t.__tablename__ for t in tables)
        session.execute(text(f"LOCK TABLE {names} IN EXCLUSIVE MODE"))
    for table in tables:
        session.execute(delete(table).execution_options(synchronize_session=False))
    _fill(session, PointDayFigures, _point_day_select(session, []))
    _fill(session, CounterTimeFigures, _counter_select(session, []))
    _fill(session, OpenDueFigures, _open_due_select(session, []))
    _fill(session, RatingDayFigures, _rating_select(session, None, None))
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t.__table__)) or 0 for t in tables}


def snapshot(session: Session, points: Iterable[uuid.UUID] | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """The rollup rows (of these points), sorted: the agreement test compares the kept and the rebuilt ones."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for table in (*DOSSIER_TABLES, RatingDayFigures):
        query = select(table.__table__)
        if points is not None:
            query = query.where(table.__table__.c.agent_point_id.in_(list(points)))
        rows = session.execute(query).all()
        out[table.__tablename__] = sorted(tuple(str(v) for v in row) for row in rows)
    return out


# -- which keys a unit of work touched -------------------------------------------------


def touched_keys(objects: Iterable[object]) -> set[tuple[str, str, str]]:
    keys: set[tuple[str, str, str]] = set()
    for obj in objects:
        if isinstance(obj, Dossier) and obj.agent_point_id is not None and obj.submitted_at is not None:
            keys.add(("dossiers", str(obj.agent_point_id), local_day_of(obj.submitted_at).isoformat()))
        elif isinstance(obj, Rating) and obj.agent_point_id is not None and obj.created_at is not None:
            keys.add(("ratings", str(obj.agent_point_id), local_day_of(obj.created_at).isoformat()))
    return keys


def _enqueue(keys: set[tuple[str, str, str]]) -> None:
    from portal.core.celery_app import enqueue

    for kind, point, day in sorted(keys):
        enqueue("reporting.refresh", [kind, point, day], scope=Scope.network(ROLLUP_SCOPE, actor_label="rollups"))


def _after_flush(session: Session, _context: object) -> None:
    keys = touched_keys(list(session.new) + list(session.dirty))
    if not keys:
        return
    with contextlib.suppress(ReadOnlyViolation):  # nothing is written in a read-only unit
        on_commit(session, lambda: _enqueue(keys))


def install() -> None:
    """Listen to every session's flushes (idempotent)."""
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)


install()
