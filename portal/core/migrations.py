"""Bring a database to the newest schema (Alembic) and grant the app role its rights."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import make_url

from alembic import command
from portal.core.db import make_engine
from portal.core.settings import Settings, SettingsError, get_settings

ALEMBIC_DIR = Path(__file__).resolve().parents[2] / "alembic"


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's filter (alembic/env.py): piccolo's own tables (piccolo_*) are not our schema, never compared."""
    return not (type_ == "table" and name is not None and name.startswith("piccolo_"))


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    return config


def upgrade_database(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    if settings.database.is_sqlite:
        settings.var_dir.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(), "head")
    grant_app_role(settings)
    grant_admin_role(settings)


def grant_app_role(settings: Settings) -> None:
    """On PostgreSQL the app connects as its own non-owner role, so RLS applies to it.

    The role itself is created by operations (or the test harness); here it
    gets data rights on the tables, and no right to rewrite the audit log.
    """
    if settings.database.is_sqlite:
        return
    app_user = make_url(settings.database.url).username
    owner = make_url(settings.database.migration_url).username
    if not app_user or app_user == owner:
        return
    engine = make_engine(settings.database.migration_url)
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


# The group role the back-office-role migration (0013) creates: SELECT on what the back office shows, and the RLS policy
# for the center's network-wide read (docs/decisions/0027-back-office-piccolo-admin.md).
BACK_OFFICE_GROUP = "portal_back_office"


def grant_admin_role(settings: Settings) -> None:
    """On PostgreSQL the back office connects as its own login role, a member of portal_back_office.

    The login role is created (no superuser, no BYPASSRLS, no password: set one as operations see fit)
    when it is missing, and made a member of the group; it gets no other right here.
    """
    if settings.database.is_sqlite or not settings.admin.enabled:
        return
    engine = make_engine(settings.database.migration_url)
    try:
        with engine.begin() as conn:
            role = conn.dialect.identifier_preparer.quote(settings.admin.role)
            exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": settings.admin.role})
            if not exists.scalar():
                conn.execute(text(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS"))
            conn.execute(text(f"GRANT {BACK_OFFICE_GROUP} TO {role}"))
    finally:
        engine.dispose()


def check_admin_role(settings: Settings) -> None:
    """Refuse to run the back office as a role that bypasses RLS or may write our tables."""
    if settings.database.is_sqlite or not settings.admin.enabled:
        return
    engine = make_engine(settings.database.migration_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT r.rolsuper OR r.rolbypassrls, "
                    "EXISTS (SELECT 1 FROM pg_tables WHERE tableowner = r.rolname), "
                    "has_table_privilege(r.rolname, 'agent_points', 'UPDATE') "
                    "FROM pg_roles r WHERE r.rolname = :r"
                ),
                {"r": settings.admin.role},
            ).first()
    finally:
        engine.dispose()
    if row is None:
        raise SettingsError(f"ADMIN_DATABASE_URL: the role {settings.admin.role!r} does not exist (run portal migrate)")
    if any(row):
        raise SettingsError(
            "ADMIN_DATABASE_URL connects as a role that bypasses row-level security, owns tables or may write "
            "them; the back office reads through its own role (a member of portal_back_office) only"
        )


def provision_app_role(owner_url: str, role: str = "portal_app") -> str:
    """Create (once) a login role with no superuser or RLS-bypass right; return the app's URL for it.

    For `portal demo` on PostgreSQL when only an owner URL is given: the portal
    must never run as a role that row-level security does not apply to.
    """
    owner = make_url(owner_url)
    engine = make_engine(owner_url)
    try:
        with engine.begin() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
            if not exists:
                quoted = conn.dialect.identifier_preparer.quote(role)
                conn.execute(text(f"CREATE ROLE {quoted} LOGIN NOSUPERUSER NOBYPASSRLS"))
    finally:
        engine.dispose()
    return owner.set(username=role, password=None).render_as_string(hide_password=False)


def check_app_role(settings: Settings) -> None:
    """Refuse to serve as a PostgreSQL role that bypasses row-level security.

    Superusers always bypass RLS, and so do roles with BYPASSRLS; the owner of
    the tables does too unless RLS is forced. Raises SettingsError naming DATABASE_URL.
    """
    if settings.database.is_sqlite:
        return
    engine = make_engine(settings.database.url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT r.rolsuper, r.rolbypassrls, "
                    "EXISTS (SELECT 1 FROM pg_tables WHERE tableowner = current_user AND tablename = 'dossiers') "
                    "FROM pg_roles r WHERE r.rolname = current_user"
                )
            ).one()
    finally:
        engine.dispose()
    if any(row):
        raise SettingsError(
            "DATABASE_URL connects as a role that bypasses row-level security (superuser, BYPASSRLS or the "
            "tables' owner); connect the portal as its own role and give the owner's URL in DATABASE_MIGRATION_URL"
        )
