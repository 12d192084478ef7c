"""A scratch PostgreSQL database for one benchmark run, reached by the app role (RLS on)."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

APP_ROLE = "portal_app_bench"
ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def scratch_database(admin_url: str = ADMIN_URL) -> Iterator[dict[str, str]]:
    """Create a database, yield the environment that points the portal at it, drop it afterwards.

    The portal connects as a NOSUPERUSER NOBYPASSRLS role, as in production; migrations run as
    the owner (DATABASE_MIGRATION_URL), as `portal db upgrade` does.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.execute(text(f"SELECT 1 FROM pg_roles WHERE rolname='{APP_ROLE}'")).scalar():
            conn.execute(text(f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS"))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    plain = admin.set(drivername="postgresql")
    try:
        yield {
            "DATABASE_MIGRATION_URL": plain.set(database=name).render_as_string(hide_password=False),
            "DATABASE_URL": plain.set(database=name, username=APP_ROLE).render_as_string(hide_password=False),
        }
    finally:
        if "portal.core.db" in sys.modules:  # this process used the scratch database itself
            sys.modules["portal.core.db"].get_engine().dispose()
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@contextmanager
def database_for_run() -> Iterator[bool]:
    """The database a benchmark runs on: a scratch PostgreSQL one when DATABASE_URL names a server
    (its admin URL), else SQLite in PORTAL_VAR_DIR. Sets the environment; yields whether it is PostgreSQL."""
    given = os.environ.get("DATABASE_URL", "")
    if not given.startswith("postgres"):
        yield False
        return
    with scratch_database(given) as database:
        os.environ.update(database)
        yield True
