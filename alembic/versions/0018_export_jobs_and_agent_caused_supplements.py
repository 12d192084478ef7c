"""Large dashboard exports, built by a worker in the requester's scope (agents/reporting/export_jobs.py);
the rollups count the supplements the point itself caused, so /partner/dashboard reads only them.

Existing rollup rows start at 0 for the new column: the nightly `reporting.rebuild` (or
`portal` running it once after the upgrade) fills it from the dossiers.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 17:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Row-level security, frozen here as this revision created it (the policy of 0001/0002): the center's
# exports (partner_id NULL) are visible to network scopes only.
_RLS_POLICY = (
    "current_setting('app.all_partners', true) = 'on' "
    "OR partner_id = nullif(current_setting('app.partner_id', true), '')::uuid"
)


def upgrade() -> None:
    op.create_table(
        "export_jobs",
        sa.Column("partner_id", sa.Uuid(), nullable=True),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("table_name", sa.String(length=20), nullable=False),
        sa.Column("file_format", sa.String(length=4), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("agent_point_id", sa.Uuid(), nullable=True),
        sa.Column("staff_account_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("stored_as", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_export_jobs_partner_id_partners")),
        sa.ForeignKeyConstraint(["requested_by"], ["accounts.id"], name=op.f("fk_export_jobs_requested_by_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
    )
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_export_jobs_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_export_jobs_requested_by"), ["requested_by"], unique=False)
    with op.batch_alter_table("point_day_figures", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_caused_supplement", sa.Integer(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE export_jobs ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON export_jobs USING ({_RLS_POLICY}) WITH CHECK ({_RLS_POLICY})")


def downgrade() -> None:
    with op.batch_alter_table("point_day_figures", schema=None) as batch_op:
        batch_op.drop_column("agent_caused_supplement")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS tenant_isolation ON export_jobs")
        op.execute("ALTER TABLE export_jobs DISABLE ROW LEVEL SECURITY")
    with op.batch_alter_table("export_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_export_jobs_requested_by"))
        batch_op.drop_index(batch_op.f("ix_export_jobs_partner_id"))
    op.drop_table("export_jobs")
