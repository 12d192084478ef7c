"""Bring a database to the newest schema (Alembic) and grant the app role its rights."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url

from portal.core.db import make_engine
from portal.core.settings import Settings, get_settings

ALEMBIC_DIR = Path(__file__).resolve().parents[2] / "alembic"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    return config


def upgrade_database(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    if settings.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(), "head")
    grant_app_role(settings)


def grant_app_role(settings: Settings) -> None:
    """On PostgreSQL the app connects as its own non-owner role, so RLS applies to it.

    The role itself is created by operations (or the test harness); here it
    gets data rights on the tables, and no right to rewrite the audit log.
    """
    if settings.is_sqlite:
        return
    app_user = make_url(settings.database_url).username
    owner = make_url(settings.database_migration_url).username
    if not app_user or app_user == owner:
        return
    engine = make_engine(settings.database_migration_url)
    try:
        with engine.begin() as conn:
            role = conn.dialect.identifier_preparer.quote(app_user)
            conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {role}"))
            conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"))
            conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"))
            conn.execute(text(f"REVOKE UPDATE, DELETE ON audit_events FROM {role}"))
            conn.execute(text(f"REVOKE ALL ON alembic_version FROM {role}"))
    finally:
        engine.dispose()
