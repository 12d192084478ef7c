"""Benchmark: filing dossiers at the counter through the real service (run by hand).

    .venv/bin/python bench/filing.py [--count 300] [--threads 4]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/filing.py

Each filing = validation + encrypted insert + history + hash-chained audit entry
+ commit + enqueue on the broker. Creates a scratch database (SQLite file in a
temporary folder, or a new PostgreSQL database that is dropped afterwards).
Target (docs/BENCHMARKS.md): national peaks of several hundred filings a minute.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="portal-bench-")
    admin_url = os.environ.get("DATABASE_URL", "")
    scratch = None
    if admin_url.startswith("postgres"):
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        admin = make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
        scratch = f"portal_bench_{uuid.uuid4().hex[:8]}"
        engine = create_engine(admin.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname='portal_app_bench'")).scalar():
                conn.execute(text("CREATE ROLE portal_app_bench LOGIN NOSUPERUSER NOBYPASSRLS"))
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        os.environ["DATABASE_MIGRATION_URL"] = admin.set(database=scratch).render_as_string(hide_password=False)
        os.environ["DATABASE_URL"] = admin.set(database=scratch, username="portal_app_bench").render_as_string(
            hide_password=False
        )

    from agents.dossiers import filing as dossiers
    from portal.core.db import unit_of_work
    from portal.core.migrations import upgrade_database
    from tests.factories import BIRTH_FORM, citizen, create_counter

    upgrade_database()
    partner, point, staff = create_counter()

    def one(_: int) -> float:
        started = time.perf_counter()
        with unit_of_work(staff.partner_scope(partner.id)) as session:
            dossiers.file_dossier(
                session,
                staff,
                dossiers.FilingRequest("1.001193", point.id, uuid.uuid4().hex, citizen(), dict(BIRTH_FORM)),
            )
        return time.perf_counter() - started

    one(0)  # warm up: connections, key derivation

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        latencies = sorted(pool.map(one, range(args.count)))
    elapsed = time.perf_counter() - started
    from portal.core.settings import get_settings

    kind = "PostgreSQL" if scratch else "SQLite"
    print(f"database: {kind} ({get_settings().database.url.split('@')[-1]})")
    print(
        f"filings: {args.count} with {args.threads} threads in {elapsed:.2f}s "
        f"= {args.count / elapsed:.1f}/s ({args.count / elapsed * 60:.0f}/min)"
    )
    print(
        f"latency: p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95) - 1] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )

    if scratch:
        from portal.core.db import get_engine

        get_engine().dispose()
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{scratch}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
