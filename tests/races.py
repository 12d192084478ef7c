"""Two units of work racing for the same row, deterministically.

`race(first, second)`: `first` runs its unit of work and holds it open; `second`
starts its own and runs until it has to wait for `first` (on PostgreSQL: until
it waits on a lock, seen in pg_stat_activity); then `first` commits and
`second` finishes. On SQLite the second unit queues at BEGIN IMMEDIATE, which
cannot be observed from outside, so it is released as soon as it has started.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from portal.core.db import get_engine

TIMEOUT = 30.0


def _second_is_waiting_on_a_lock() -> bool:
    with get_engine().connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
        ).scalar()
    return bool(waiting)


def race(first: Callable[[Callable[[], None]], Any], second: Callable[[], Any]) -> tuple[Any, Any]:
    """`first(hold)` must call `hold()` inside its unit of work, after its write; returns both results."""
    results: dict[str, Any] = {}
    errors: list[BaseException] = []
    first_wrote, release, second_started = threading.Event(), threading.Event(), threading.Event()

    def hold() -> None:
        first_wrote.set()
        if not release.wait(TIMEOUT):
            raise TimeoutError("the race was never released")

    def run(name: str, fn: Callable[[], Any]) -> None:
        try:
            results[name] = fn()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread below
            errors.append(exc)
            first_wrote.set()
            release.set()

    def run_second() -> None:
        first_wrote.wait(TIMEOUT)
        second_started.set()
        run("second", second)

    one = threading.Thread(target=run, args=("first", lambda: first(hold)))
    two = threading.Thread(target=run_second)
    one.start()
    two.start()
    try:
        assert second_started.wait(TIMEOUT), "the second unit never started"
        if get_engine().dialect.name == "postgresql":
            deadline = time.monotonic() + TIMEOUT
            while not errors and not _second_is_waiting_on_a_lock():
                assert time.monotonic() < deadline, "the second unit never waited for the first"
                time.sleep(0.01)
    finally:
        release.set()
        one.join(TIMEOUT)
        two.join(TIMEOUT)
    if errors:
        raise errors[0]
    return results["first"], results["second"]
