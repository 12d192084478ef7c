"""The back office's own database role on PostgreSQL, Alembic's blind eye for piccolo's tables, its settings."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

import payments.models  # noqa: F401
from portal.core.db import make_engine, metadata
from portal.core.migrations import check_admin_role, include_name
from portal.core.settings import SettingsError, load_settings


def test_alembic_never_compares_piccolos_own_tables(settings):
    engine = make_engine(settings.database.migration_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE piccolo_migration (id integer primary key, name varchar(200))"))
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False, "include_name": include_name})
            assert compare_metadata(context, metadata) == []
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE piccolo_migration"))
        engine.dispose()


def test_the_admin_section_reads_its_own_database_role_on_postgresql():
    pg = load_settings({"DATABASE_URL": "postgresql://owner@db.internal:5433/portal"}).admin
    assert (pg.enabled, pg.database_url, pg.role) == (
        True,
        "postgresql://portal_admin@db.internal:5433/portal",
        "portal_admin",
    )
    given = load_settings(
        {"DATABASE_URL": "postgresql://a@h/p", "ADMIN_DATABASE_URL": "postgresql://bo:pw@h/p", "ADMIN_ENABLED": "no"}
    ).admin
    assert (given.enabled, given.database_url, given.role) == (False, "postgresql://bo:pw@h/p", "bo")
    assert load_settings({}).admin.database_url.startswith("sqlite:///")
    with pytest.raises(SettingsError, match="ADMIN_DATABASE_URL must be a postgresql://"):
        load_settings({"DATABASE_URL": "postgresql://a@h/p", "ADMIN_DATABASE_URL": "mysql://x@h/p"})


@pytest.fixture
def as_back_office(settings, is_postgres):  # type: ignore[no-untyped-def]
    if not is_postgres:
        pytest.skip("database roles and row-level security are PostgreSQL's")
    engine = create_engine(settings.admin.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


def test_the_back_office_role_reads_the_network_through_an_rls_policy_and_may_write_nothing(settings, as_back_office):
    check_admin_role(settings)  # no superuser, no BYPASSRLS, owns nothing, writes nothing
    with as_back_office.connect() as conn:
        flags = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        assert tuple(flags) == (False, False)
        # No partner scope set: the app role would see no rows; the back office's SELECT policy sees the network.
        conn.execute(text("SELECT count(*) FROM agent_points")).scalar_one()
        policies = conn.execute(
            text("SELECT count(*) FROM pg_policies WHERE policyname = 'back_office_read' AND cmd = 'SELECT'")
        ).scalar_one()
        assert policies >= 5
    for statement in (
        "UPDATE agent_points SET name = name",
        "INSERT INTO audit_events (seq) VALUES (-1)",
        "SELECT count(*) FROM dossier_drafts",  # not shown: no grant, no policy
        "SELECT count(*) FROM sign_in_sessions",
    ):
        with as_back_office.connect() as conn, pytest.raises(Exception, match="permission denied"):
            conn.execute(text(statement))
