"""Benchmark: the public locator at 15,000 points (run by hand; never a timed test).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/locator.py
    .venv/bin/python bench/locator.py                     # SQLite, for comparison
    options: --points 15000 --queries 500 --limit 10

Builds a scratch database (a new PostgreSQL database, dropped afterwards, queried as the app's
non-owner role so row-level security is on; or a SQLite file), migrates it, and writes
`--points` approved points along Vietnam's length: a third around Hanoi, a fifth around Ho Chi
Minh City, the rest scattered along the spine Hà Giang → Hà Nội → Huế → Đà Nẵng → Nha Trang →
TP.HCM → Cà Mau. Each offers each of the catalogue's procedures with probability 0.8, keeps the
usual week, and 2% have a temporary closure today.

Then, for `--queries` random citizens (most near a point, some anywhere along the spine), it
times `agents.points.locator.nearest` end to end (one read-only unit each, like the API): the
bounding-box prefilter on the (latitude, longitude) btree index, distances, today's plan.
In the same run the same search without the prefilter (a box around the whole world: a scan of
the points table) is timed for the same citizens. Both answers must be the same points.
Target (docs/BENCHMARKS.md): p95 under 20 ms at 15,000 points on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scratch import database_for_run

SPINE = [(23.0, 105.0), (21.03, 105.85), (18.7, 105.7), (16.46, 107.6), (16.05, 108.2), (13.8, 109.2),
         (12.25, 109.19), (10.78, 106.7), (9.18, 105.15)]  # fmt: skip
HANOI, SAIGON = (21.03, 105.85), (10.78, 106.7)


def _along_spine(rng: random.Random) -> tuple[float, float]:
    i = rng.randrange(len(SPINE) - 1)
    t = rng.random()
    (a_lat, a_lon), (b_lat, b_lon) = SPINE[i], SPINE[i + 1]
    return a_lat + t * (b_lat - a_lat) + rng.gauss(0, 0.25), a_lon + t * (b_lon - a_lon) + rng.gauss(0, 0.25)


def _position(rng: random.Random) -> tuple[float, float]:
    roll = rng.random()
    if roll < 0.33:
        return HANOI[0] + rng.gauss(0, 0.12), HANOI[1] + rng.gauss(0, 0.12)
    if roll < 0.53:
        return SAIGON[0] + rng.gauss(0, 0.12), SAIGON[1] + rng.gauss(0, 0.12)
    return _along_spine(rng)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * q + 0.5) - 1)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=15000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="portal-bench-locator-")
    with database_for_run() as postgres:
        run(args, postgres)


def run(args: argparse.Namespace, postgres: bool) -> None:
    from datetime import timedelta

    from sqlalchemy import insert, select, text

    from agents.points import locator
    from agents.points import rules as point_rules
    from agents.points.hours import hanoi_now
    from agents.points.models import AgentPoint, AgentPointStatus, PointClosure, PointProcedure
    from agents.procedures.models import Procedure
    from agents.seed import seed_procedures
    from agents.staff.models import Role
    from portal.core.db import read_only, unit_of_work
    from portal.core.migrations import upgrade_database
    from portal.core.settings import get_settings
    from portal.core.tenancy import Scope
    from tests.factories import create_partner, create_person

    upgrade_database()
    rng = random.Random(args.seed)
    partners = [create_partner(name=f"Đối tác {n}") for n in range(7)]
    author = create_person((Role.center_admin, None, None))
    scope = Scope.network("benchmark setup", actor_label="bench")
    started = time.perf_counter()
    positions: list[tuple[float, float]] = []
    with unit_of_work(scope) as session:
        seed_procedures(session)
        session.flush()
        procedure_ids = {p.code: p.id for p in session.scalars(select(Procedure))}
        point_rows, offer_rows, closure_rows = [], [], []
        today = hanoi_now().date()
        for n in range(args.points):
            lat, lon = _position(rng)
            positions.append((lat, lon))
            partner = partners[n % len(partners)]
            point_id = uuid.uuid4()
            point_rows.append(
                {"id": point_id, "partner_id": partner.id, "code": f"B{n:05d}", "name": f"Điểm {n}",
                 "address": f"{n} đường thử", "ward": "", "latitude": lat, "longitude": lon,
                 "opening_hours": point_rules.summary(point_rules.USUAL_WEEK), "weekly_hours": point_rules.USUAL_WEEK,
                 "closed_on_public_holidays": True, "status": AgentPointStatus.approved}
            )  # fmt: skip
            for procedure_id in procedure_ids.values():
                if rng.random() < 0.8:
                    offer_rows.append(
                        {"partner_id": partner.id, "agent_point_id": point_id, "procedure_id": procedure_id}
                    )
            if rng.random() < 0.02:
                closure_rows.append(
                    {"id": uuid.uuid4(), "partner_id": partner.id, "agent_point_id": point_id, "starts_on": today,
                     "ends_on": today + timedelta(days=2), "reason": "Kiểm kê", "created_by": author.account_id}
                )  # fmt: skip
        session.execute(insert(AgentPoint), point_rows)
        session.execute(insert(PointProcedure), offer_rows)
        session.execute(insert(PointClosure), closure_rows)
    if postgres:
        from portal.core.db import make_engine

        owner = make_engine(get_settings().database.migration_url)
        with owner.begin() as conn:
            conn.execute(text("ANALYZE"))
        owner.dispose()
    print(f"loaded {args.points} points, {len(offer_rows)} offers, {len(closure_rows)} closures "
          f"in {time.perf_counter() - started:.1f}s")  # fmt: skip

    codes = sorted(procedure_ids)
    citizens = []
    for _ in range(args.queries):
        if rng.random() < 0.8:
            lat, lon = rng.choice(positions)
            citizens.append((lat + rng.gauss(0, 0.02), lon + rng.gauss(0, 0.02), rng.choice(codes)))
        else:
            lat, lon = _along_spine(rng)
            citizens.append((lat, lon, rng.choice(codes)))

    low_lat, high_lat, low_lon, high_lon = point_rules.VIETNAM_BOUNDS
    citizens = [
        (min(max(lat, low_lat), high_lat), min(max(lon, low_lon), high_lon), code) for lat, lon, code in citizens
    ]
    public = Scope.network("benchmark: public locator", actor_label="citizen (public page)")
    world = (-90.0, 90.0, -180.0, 180.0)
    original = locator.RADII_KM

    def timed(radii: tuple[float, ...], whole_world: bool) -> tuple[list[float], list[list[str]]]:
        latencies, answers = [], []
        real_box = locator.rules.bounding_box
        locator.RADII_KM = radii
        if whole_world:
            locator.rules.bounding_box = lambda lat, lon, r: world  # type: ignore[assignment]
        try:
            for lat, lon, code in citizens:
                begun = time.perf_counter()
                with read_only(public) as session:
                    found = locator.nearest(session, lat, lon, code, args.limit)
                latencies.append(time.perf_counter() - begun)
                answers.append([str(f.point.id) for f in found])
        finally:
            locator.rules.bounding_box = real_box
            locator.RADII_KM = original
        return latencies, answers

    timed(original, False)  # warm up: connections, caches, the holidays package's years
    boxed, boxed_answers = timed(original, False)
    # No prefilter: one pass over every point offering the procedure (a radius beyond the country).
    scanned, scanned_answers = timed((1e6,), True)
    assert boxed_answers == scanned_answers, "the bounding-box search and the full scan disagree"

    with read_only(public) as session:
        plan = session.execute(
            text(
                "EXPLAIN SELECT id FROM agent_points WHERE latitude BETWEEN :a AND :b AND longitude BETWEEN :c AND :d"
                if postgres
                else "EXPLAIN QUERY PLAN SELECT id FROM agent_points WHERE latitude BETWEEN :a AND :b "
                "AND longitude BETWEEN :c AND :d"
            ),
            dict(zip("abcd", locator.rules.bounding_box(21.03, 105.85, 5.0), strict=True)),
        ).all()
    kind = "PostgreSQL" if postgres else "SQLite"
    print(f"database: {kind}; points {args.points}; queries {args.queries}; limit {args.limit}")
    for label, values in (("bounding box + btree index", boxed), ("full scan of agent_points", scanned)):
        print(
            f"{label:28s} p50 {statistics.median(values) * 1000:6.1f} ms   p95 {_p(values, 0.95):6.1f} ms"
            f"   max {max(values) * 1000:6.1f} ms"
        )
    print("plan of the prefilter: " + " | ".join(str(row[-1]) for row in plan))


if __name__ == "__main__":
    main()
