"""Migrations are the schema's one source of truth: they build it, undo it, and match the models."""

import re
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import agents.models
import payments.models  # noqa: F401 - its tables are on the metadata too
from alembic import command
from portal.core.db import make_engine, metadata
from portal.core.migrations import ALEMBIC_DIR, alembic_config

VERSIONS = ALEMBIC_DIR / "versions"


def test_migration_files_are_numbered_in_order_and_the_head_file_is_current():
    names = sorted(p.stem for p in VERSIONS.glob("*.py"))
    numbers = [int(re.match(r"(\d{4})_", n).group(1)) for n in names]
    assert numbers == list(range(1, len(names) + 1))
    assert (ALEMBIC_DIR / ".current-alembic-head").read_text().strip() == names[-1]
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == names[-1][:4]


def test_the_migrated_database_matches_the_models(settings):
    engine = make_engine(settings.database.migration_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    finally:
        engine.dispose()
    assert diff == []


@pytest.fixture
def scratch_database(settings, monkeypatch, tmp_path, is_postgres):
    """An empty database of the same kind, for running migrations from nothing."""
    if not is_postgres:
        url = f"sqlite:///{tmp_path / 'scratch.db'}"
        yield url
        return
    admin = make_url(settings.database.migration_url)
    name = f"portal_scratch_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin.set(database=name).render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    engine.dispose()


def test_upgrade_downgrade_upgrade_round_trip(scratch_database, monkeypatch):
    from portal.core import settings as settings_module

    monkeypatch.setenv("DATABASE_MIGRATION_URL", scratch_database)
    monkeypatch.setenv("DATABASE_URL", scratch_database)
    settings_module.get_settings.cache_clear()
    try:
        config = alembic_config()
        command.upgrade(config, "head")
        command.downgrade(config, "base")
        command.upgrade(config, "head")
        engine = make_engine(scratch_database)
        with engine.connect() as conn:
            assert (
                conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                == sorted(p.stem for p in VERSIONS.glob("*.py"))[-1][:4]
            )
        engine.dispose()
    finally:
        settings_module.get_settings.cache_clear()


def test_the_portal_refuses_to_run_as_a_role_that_bypasses_row_level_security(settings, is_postgres):
    from dataclasses import replace

    from portal.core.migrations import check_app_role
    from portal.core.settings import SettingsError

    if not is_postgres:
        pytest.skip("row-level security is PostgreSQL's; the PostgreSQL run covers it")
    check_app_role(settings)  # the suite's own app role is fine
    as_owner = replace(settings, database=replace(settings.database, url=settings.database.migration_url))
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        check_app_role(as_owner)


APPLICATION_PACKAGES = ("portal", "agents", "payments", "simulators")


def test_a_migration_imports_no_application_module():
    """A migration means today what it meant when it was written: no import can change it later."""
    import ast

    for path in VERSIONS.glob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in APPLICATION_PACKAGES, f"{path.name} imports {name}"


# The tenant-isolation policy every partner-owned table must carry (as PostgreSQL prints it back).
EXPECTED_POLICY = (
    "((current_setting('app.all_partners'::text, true) = 'on'::text) OR "
    "(partner_id = (NULLIF(current_setting('app.partner_id'::text, true), ''::text))::uuid))"
)


def test_every_partner_owned_table_has_row_level_security_with_the_tenant_policy(settings, is_postgres):
    from portal.core.tenancy import TenantScoped

    if not is_postgres:
        pytest.skip("row-level security is PostgreSQL's; the PostgreSQL run covers it")
    tenant_tables = {
        mapper.local_table.name
        for mapper in agents.models.Account.registry.mappers
        if issubclass(mapper.class_, TenantScoped)
    }
    assert tenant_tables, "no partner-owned tables found"
    engine = make_engine(settings.database.migration_url)
    try:
        with engine.connect() as conn:
            enabled = set(conn.execute(text("SELECT relname FROM pg_class WHERE relrowsecurity")).scalars())
            policies = dict(
                conn.execute(
                    text("SELECT tablename, qual FROM pg_policies WHERE policyname = 'tenant_isolation'")
                ).all()
            )
            checks = dict(
                conn.execute(
                    text("SELECT tablename, with_check FROM pg_policies WHERE policyname = 'tenant_isolation'")
                ).all()
            )
    finally:
        engine.dispose()
    for table in sorted(tenant_tables):
        assert table in enabled, f"{table} has no row-level security"
        assert policies.get(table) == EXPECTED_POLICY, f"{table}: {policies.get(table)}"
        assert checks.get(table) == EXPECTED_POLICY, f"{table}: {checks.get(table)}"
