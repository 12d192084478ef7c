"""Test harness: a real database built by the real migrations, real simulators over HTTP.

The environment is set here, before any project module reads its settings.
SQLite by default (a file in a temporary folder). When DATABASE_URL names a
PostgreSQL server, a fresh database is created on it for this run; migrations
run as the server's owner role and the code under test connects as a separate
non-superuser role, so row-level security applies exactly as in production.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_VAR = Path(tempfile.mkdtemp(prefix="portal-tests-"))
_PG_DB: str | None = None
_PG_ADMIN_URL: str | None = None
APP_ROLE = "portal_app_test"

os.environ["PORTAL_ENV"] = "test"
os.environ["PORTAL_VAR_DIR"] = str(_VAR)
os.environ["CITY_API_URL"] = f"http://127.0.0.1:{_free_port()}"
os.environ["PORTAL_PUBLIC_URL"] = f"http://127.0.0.1:{_free_port()}"
_VNPAY = f"http://127.0.0.1:{_free_port()}"  # the VNPay simulator's address (tests/payments/conftest.py)
os.environ["VNPAY_PAYMENT_URL"] = f"{_VNPAY}/paymentv2/vpcpay.html"
os.environ["VNPAY_API_URL"] = f"{_VNPAY}/merchant_webapi/api/transaction"
os.environ["VNPAY_LEDGER_URL"] = f"{_VNPAY}/_sim/transactions"
os.environ["FORWARD_RETRY_BASE_SECONDS"] = "0.5"
os.environ["FORWARD_MAX_RETRIES"] = "3"
# Sooner than in production (30), so the give-up path can be walked; above what the outage tests reach.
os.environ["FORWARD_GIVE_UP_AFTER_ATTEMPTS"] = "6"
os.environ["FORWARD_STUCK_AFTER_SECONDS"] = "2"
os.environ["FORWARD_SWEEP_INTERVAL_SECONDS"] = "1"
os.environ["CITY_TIMEOUT_SECONDS"] = "3"
# Small enough that the test of the per-source budget stays short; every test client is its own source.
os.environ["LOGIN_MAX_FAILURES_PER_SOURCE"] = "8"
# Rate-limit windows longer than any test (a slow machine must not reset a count mid-test), and target
# budgets above what a module's shared fixtures use (one person signing in for each of its tests).
os.environ["RATE_LIMIT_WINDOW_SECONDS"] = "3600"
os.environ["RATE_LIMIT_LOGIN_PER_TARGET"] = "40"
os.environ["RATE_LIMIT_TRACK_PER_TARGET"] = "20"
os.environ["RATE_LIMIT_TOKEN_PER_TARGET"] = "60"
os.environ["RATE_LIMIT_TOKEN_PER_SOURCE"] = "80"
# Servers the tests run over real HTTP (the e2e stacks, the payments portal) see every request come from
# 127.0.0.1 for the whole session: sign-ins from that one source must not run out of budget.
os.environ["RATE_LIMIT_LOGIN_PER_SOURCE"] = "100000"
os.environ.pop("CELERY_BROKER_URL", None)

_given = os.environ.get("DATABASE_URL", "")
if _given.startswith("postgres"):
    admin = make_url(_given.replace("postgresql://", "postgresql+psycopg://", 1))
    _PG_DB = f"portal_test_{uuid.uuid4().hex[:10]}"
    _PG_ADMIN_URL = admin.render_as_string(hide_password=False)
    engine = create_engine(_PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}).scalar():
            conn.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS"))
        conn.execute(text(f'CREATE DATABASE "{_PG_DB}"'))
    engine.dispose()
    os.environ["DATABASE_MIGRATION_URL"] = admin.set(database=_PG_DB).render_as_string(hide_password=False)
    os.environ["DATABASE_URL"] = admin.set(database=_PG_DB, username=APP_ROLE, password=None).render_as_string(
        hide_password=False
    )
else:
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("DATABASE_MIGRATION_URL", None)

from portal.core.migrations import upgrade_database  # noqa: E402
from portal.core.settings import get_settings  # noqa: E402


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {'PostgreSQL ' + _PG_DB if _PG_DB else 'SQLite ' + str(_VAR / 'portal.db')}"


def pytest_sessionstart(session: pytest.Session) -> None:
    upgrade_database(get_settings())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from portal.core.db import get_engine
    from tests.documents import stop_portal_clamd

    stop_portal_clamd()
    get_engine().dispose()
    if _PG_DB and _PG_ADMIN_URL:
        engine = create_engine(_PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_PG_DB}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def settings():  # type: ignore[no-untyped-def]
    return get_settings()


@pytest.fixture(scope="session")
def is_postgres() -> bool:
    return _PG_DB is not None


@pytest.fixture(scope="session")
def migration_url() -> str:
    return get_settings().database.migration_url


@pytest.fixture(scope="session")
def city_simulator(settings):  # type: ignore[no-untyped-def]
    """The city one-stop system simulator as its own process, driven through /_sim (no automatic steps)."""
    from portal.launcher import Stack, child_env, start_city_simulator, wait_for_http

    port = urlparse(settings.city.api_url).port
    env = child_env(
        {
            "CITYSIM_STEP_SECONDS": "0",
            "CITYSIM_CLIENTS": f"{settings.city.client_id}:{settings.city.client_secret}",
            "CITYSIM_WEBHOOK_SECRET": settings.city.webhook_secret,
            "CITYSIM_CALLBACK_RETRY_BASE": "0.2",
            "CITYSIM_SEED": "7",
        }
    )
    running = Stack()
    try:
        proc = running.processes["city"] = start_city_simulator(port, env, _VAR / "city-simulator.log")
        wait_for_http(f"{settings.city.api_url}/healthz", process=proc)
        yield CitySim(settings.city.api_url)
    finally:
        running.stop()


class CitySim:
    """Test-side handle on the simulator's control endpoints (/_sim)."""

    def __init__(self, base_url: str) -> None:
        import httpx

        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=60)  # a loaded machine answers slowly

    def configure(self, **knobs: object) -> None:
        self.http.put("/_sim/config", json=knobs).raise_for_status()

    def reset_knobs(self) -> None:
        self.configure(
            latency_ms=0,
            error_rate=0,
            duplicate_callbacks=False,
            out_of_order=False,
            down=False,
            refuse_rate=0,
            supplement_rate=0,
            step_seconds=0,
        )

    def advance(self, city_code: str) -> int:
        response = self.http.post(f"/_sim/dossiers/{city_code}/advance")
        response.raise_for_status()
        return int(response.json()["TrangThaiHoSo"])

    def set_status(self, city_code: str, status: int) -> None:
        self.http.post(f"/_sim/dossiers/{city_code}/status", json={"TrangThaiHoSo": status}).raise_for_status()

    def dossiers(self) -> list[dict[str, object]]:
        body = self.http.get("/_sim/dossiers").json()
        return body["items"] if isinstance(body, dict) else body
