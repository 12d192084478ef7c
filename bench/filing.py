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

from bench.scratch import database_for_run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    os.environ["PORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="portal-bench-")
    with database_for_run() as postgres:
        run(args, postgres)


def run(args: argparse.Namespace, postgres: bool) -> None:
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

    kind = "PostgreSQL" if postgres else "SQLite"
    print(f"database: {kind} ({get_settings().database.url.split('@')[-1]})")
    print(
        f"filings: {args.count} with {args.threads} threads in {elapsed:.2f}s "
        f"= {args.count / elapsed:.1f}/s ({args.count / elapsed * 60:.0f}/min)"
    )
    print(
        f"latency: p50 {statistics.median(latencies) * 1000:.1f} ms, "
        f"p95 {latencies[int(len(latencies) * 0.95) - 1] * 1000:.1f} ms, max {latencies[-1] * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
