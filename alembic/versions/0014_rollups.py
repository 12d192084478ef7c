"""Rollup tables the dashboards read: per point and local day, kept current by reporting.refresh, rebuilt nightly.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 17:45:40.070345
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Row-level security, frozen here as this revision created it (the policy of 0001/0002).
_RLS_POLICY = (
    "current_setting('app.all_partners', true) = 'on' "
    "OR partner_id = nullif(current_setting('app.partner_id', true), '')::uuid"
)
NEW_TENANT_TABLES = ("point_day_figures", "counter_time_figures", "open_due_figures", "rating_day_figures")


def _enable_rls(tables: Sequence[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({_RLS_POLICY}) WITH CHECK ({_RLS_POLICY})")


def _disable_rls(tables: Sequence[str]) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def upgrade() -> None:
    op.create_table(
        "counter_time_figures",
        sa.Column("agent_point_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("staff_account_id", sa.Uuid(), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_counter_time_figures_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint(
            "agent_point_id", "day", "staff_account_id", "bucket", name=op.f("pk_counter_time_figures")
        ),
    )
    with op.batch_alter_table("counter_time_figures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_counter_time_figures_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_counter_time_figures_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "open_due_figures",
        sa.Column("agent_point_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("due_day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_open_due_figures_partner_id_partners")),
        sa.PrimaryKeyConstraint("agent_point_id", "day", "due_day", name=op.f("pk_open_due_figures")),
    )
    with op.batch_alter_table("open_due_figures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_open_due_figures_due_day"), ["due_day"], unique=False)
        batch_op.create_index(batch_op.f("ix_open_due_figures_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "point_day_figures",
        sa.Column("agent_point_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("staff_account_id", sa.Uuid(), nullable=False),
        sa.Column("procedure_id", sa.Uuid(), nullable=False),
        sa.Column("filed", sa.Integer(), nullable=False),
        sa.Column("not_forwarded", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("status_none", sa.Integer(), nullable=False),
        sa.Column("status_1", sa.Integer(), nullable=False),
        sa.Column("status_2", sa.Integer(), nullable=False),
        sa.Column("status_3", sa.Integer(), nullable=False),
        sa.Column("status_4", sa.Integer(), nullable=False),
        sa.Column("status_5", sa.Integer(), nullable=False),
        sa.Column("status_6", sa.Integer(), nullable=False),
        sa.Column("status_7", sa.Integer(), nullable=False),
        sa.Column("status_8", sa.Integer(), nullable=False),
        sa.Column("status_9", sa.Integer(), nullable=False),
        sa.Column("status_10", sa.Integer(), nullable=False),
        sa.Column("supplement", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("late", sa.Integer(), nullable=False),
        sa.Column("counter_count", sa.Integer(), nullable=False),
        sa.Column("counter_seconds", sa.Integer(), nullable=False),
        sa.Column("counter_within_15", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_point_day_figures_partner_id_partners")),
        sa.PrimaryKeyConstraint(
            "agent_point_id", "day", "staff_account_id", "procedure_id", name=op.f("pk_point_day_figures")
        ),
    )
    with op.batch_alter_table("point_day_figures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_point_day_figures_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_point_day_figures_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "rating_day_figures",
        sa.Column("agent_point_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("staff_account_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("stars_sum", sa.Integer(), nullable=False),
        sa.Column("overall_vs", sa.Integer(), nullable=False),
        sa.Column("overall_s", sa.Integer(), nullable=False),
        sa.Column("overall_ns", sa.Integer(), nullable=False),
        sa.Column("attitude_vs", sa.Integer(), nullable=False),
        sa.Column("attitude_s", sa.Integer(), nullable=False),
        sa.Column("attitude_ns", sa.Integer(), nullable=False),
        sa.Column("time_vs", sa.Integer(), nullable=False),
        sa.Column("time_s", sa.Integer(), nullable=False),
        sa.Column("time_ns", sa.Integer(), nullable=False),
        sa.Column("back_vs", sa.Integer(), nullable=False),
        sa.Column("back_s", sa.Integer(), nullable=False),
        sa.Column("back_ns", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_rating_day_figures_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint(
            "agent_point_id", "day", "staff_account_id", "kind", name=op.f("pk_rating_day_figures")
        ),
    )
    with op.batch_alter_table("rating_day_figures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_day_figures_day"), ["day"], unique=False)
        batch_op.create_index(batch_op.f("ix_rating_day_figures_partner_id"), ["partner_id"], unique=False)

    _enable_rls(NEW_TENANT_TABLES)


def downgrade() -> None:
    _disable_rls(NEW_TENANT_TABLES)
    with op.batch_alter_table("rating_day_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_day_figures_partner_id"))
        batch_op.drop_index(batch_op.f("ix_rating_day_figures_day"))

    op.drop_table("rating_day_figures")
    with op.batch_alter_table("point_day_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_point_day_figures_partner_id"))
        batch_op.drop_index(batch_op.f("ix_point_day_figures_day"))

    op.drop_table("point_day_figures")
    with op.batch_alter_table("open_due_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open_due_figures_partner_id"))
        batch_op.drop_index(batch_op.f("ix_open_due_figures_due_day"))

    op.drop_table("open_due_figures")
    with op.batch_alter_table("counter_time_figures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counter_time_figures_partner_id"))
        batch_op.drop_index(batch_op.f("ix_counter_time_figures_day"))

    op.drop_table("counter_time_figures")
