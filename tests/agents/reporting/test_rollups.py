"""The rollups: kept current per (point, day) as events arrive, and a nightly rebuild that agrees with them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from agents.city.wire import CityUpdate
from agents.dossiers import city_status
from agents.dossiers.models import CityStatus, Dossier
from agents.ratings import flags, service
from agents.ratings.links import rating_token
from agents.ratings.rules import RatingKind
from agents.reporting import rollups
from agents.reporting.tasks import rebuild, refresh
from agents.staff.models import Role
from portal.core.db import read_only, unit_of_work
from portal.core.tenancy import Scope
from tests.factories import create_counter, create_person, file_birth_registration

ANSWERS = {"stars": "5", "attitude": "very_satisfied", "timeliness": "on_time", "came_back": "1"}


def _city(dossier, status: int, seq: int) -> None:
    with unit_of_work(Scope.network("test: city reports", actor_label="city system")) as session:
        city_status.apply_city_update(
            session, CityUpdate(uuid.uuid4().hex, seq, status, datetime.now(UTC), tracking_code=dossier.tracking_code)
        )


def _snapshot(*points):
    with read_only(Scope.network("test reads the rollups", actor_label="test")) as session:
        return rollups.snapshot(session, [p.id for p in points])


def _keys_of(*objects) -> set[tuple[str, str, str]]:
    return rollups.touched_keys(objects)


def test_the_rollups_kept_as_events_arrive_agree_with_the_nightly_rebuild():
    _partner, point, staff = create_counter()
    _, other_point, other_staff = create_counter()
    dossiers = [file_birth_registration(staff, point) for _ in range(3)] + [
        file_birth_registration(other_staff, other_point)
    ]
    with unit_of_work(Scope.network("test: arrange counter times and due dates", actor_label="test")) as session:
        for n, d in enumerate(dossiers):
            session.execute(
                update(Dossier)
                .where(Dossier.id == d.id)
                .values(counter_seconds=300 + 400 * n, due_at=datetime.now(UTC) + timedelta(days=n - 1))
            )
    _city(dossiers[0], CityStatus.received, 1)
    _city(dossiers[0], CityStatus.supplement_requested, 2)
    _city(dossiers[0], CityStatus.processing, 3)
    _city(dossiers[0], CityStatus.processed, 4)
    _city(dossiers[1], CityStatus.received, 1)
    _city(dossiers[1], CityStatus.refused, 2)
    with unit_of_work(Scope.network("test: citizen rates", actor_label="citizen", origin="203.0.113.1")) as session:
        rated = service.rate(
            session,
            dossiers[0].tracking_code,
            rating_token(dossiers[0].tracking_code, dossiers[0].submitted_at),
            RatingKind.counter,
            ANSWERS,
            service.Origin("203.0.113.1", "dev"),
        )
        rating_key = _keys_of(rated)
    # What the flush listener enqueues, run the way the worker runs it (in any order, twice over).
    keys = _keys_of(*dossiers) | rating_key
    for kind, point_id, day in sorted(keys) + sorted(keys, reverse=True):
        assert refresh.apply(args=[kind, point_id, day], throw=True).get() == "refreshed"
    kept = _snapshot(point, other_point)
    columns = [c.name for c in rollups.PointDayFigures.__table__.columns]
    rows = [dict(zip(columns, row, strict=True)) for row in kept["point_day_figures"]]
    assert sum(int(r["filed"]) for r in rows) == 4
    assert sum(int(r["supplement"]) for r in rows) == 1 and sum(int(r["status_9"]) for r in rows) == 1
    assert sum(int(r["status_3"]) for r in rows) == 1 and sum(int(r["counter_count"]) for r in rows) == 4
    assert sum(int(r["counter_within_15"]) for r in rows) == 2  # 300 s and 700 s; not 1100 s nor 1500 s
    assert rebuild.apply(throw=True).get()["point_day_figures"] >= len(kept["point_day_figures"])  # and others' points
    assert _snapshot(point, other_point) == kept

    # The center leaves the rating out: the refresh follows, and the rebuild still agrees.
    admin = create_person((Role.center_admin, None, None))
    with unit_of_work(admin.network_scope("test: center")) as session:
        flags._flag(session, session.merge(rated), "own_network", {"test": True})
        session.flush()
        flags.exclude(session, admin, rated.id, "test")
    for kind, point_id, day in rating_key:
        refresh.apply(args=[kind, point_id, day], throw=True)
    kept = _snapshot(point, other_point)
    assert kept["rating_day_figures"] == []  # the only rating is excluded
    rebuild.apply(throw=True)
    assert _snapshot(point, other_point) == kept


def test_a_flush_names_the_point_and_local_day_it_touched():
    _partner, point, staff = create_counter()
    dossier = file_birth_registration(staff, point)
    [(kind, point_id, day)] = _keys_of(dossier)
    assert (kind, point_id) == ("dossiers", str(point.id))
    assert day == (dossier.submitted_at + timedelta(hours=7)).date().isoformat()
    late_evening = datetime(2026, 3, 1, 17, 30, tzinfo=UTC)  # 00:30 on 2 March in Hanoi
    assert rollups.local_day_of(late_evening).isoformat() == "2026-03-02"
    start, end = rollups.day_bounds(rollups.local_day_of(late_evening))
    assert start <= late_evening < end and end - start == timedelta(days=1)
