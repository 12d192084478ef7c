"""The back office's database group role: read what it shows, RLS still applies (a network-wide read policy).

piccolo-admin connects through its own login role, a member of `portal_back_office`
(portal/core/migrations.py grant_admin_role). The group gets SELECT on the tables the
back office shows and nothing else: every write goes through the app role, in a unit of
work with its audit entry (docs/decisions/0027-back-office-piccolo-admin.md). On each of
those tables that has row-level security, a `FOR SELECT TO portal_back_office` policy is
the center's network-wide read; the tables it does not show (drafts, documents, sessions,
tokens) give it neither a grant nor a policy.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 17:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GROUP = "portal_back_office"
# Frozen as this revision grants them; a table shown later is granted by its own migration.
SHOWN = (
    "partners",
    "agent_points",
    "procedures",
    "accounts",
    "role_assignments",
    "api_clients",
    "dossiers",
    "dossier_events",
    "payments",
    "refunds",
    "ratings",
    "audit_events",
    "calendar_overrides",
)


def _has_rls(table: str) -> bool:
    row = (
        op.get_bind()
        .exec_driver_sql("SELECT relrowsecurity FROM pg_class WHERE oid = %(t)s::regclass", {"t": table})
        .first()
    )
    return bool(row and row[0])


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # Roles belong to the whole server: another database may have created it already.
    op.execute(
        f"""
        DO $$ BEGIN
            CREATE ROLE {GROUP} NOLOGIN NOSUPERUSER NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $$
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {GROUP}")
    for table in SHOWN:
        op.execute(f"GRANT SELECT ON {table} TO {GROUP}")
        if _has_rls(table):
            op.execute(f"CREATE POLICY back_office_read ON {table} FOR SELECT TO {GROUP} USING (true)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in SHOWN:
        op.execute(f"DROP POLICY IF EXISTS back_office_read ON {table}")
        op.execute(f"REVOKE SELECT ON {table} FROM {GROUP}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {GROUP}")
