"""Ratings of two kinds with their criteria, flags on suspicious ratings, citizens' problem reports.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 16:30:10.604057
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Row-level security, frozen here as this revision created it (the policy of 0001/0002).
_RLS_POLICY = (
    "current_setting('app.all_partners', true) = 'on' "
    "OR partner_id = nullif(current_setting('app.partner_id', true), '')::uuid"
)
NEW_TENANT_TABLES = ("problem_reports", "problem_messages", "rating_flags")


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
        "problem_reports",
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("agent_point_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "overcharging",
                "rudeness",
                "no_receipt",
                "asked_to_come_back",
                "other",
                name="problemkind",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("open", "answered", "resolved", name="problemstatus", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_point_id"], ["agent_points.id"], name=op.f("fk_problem_reports_agent_point_id_agent_points")
        ),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], name=op.f("fk_problem_reports_dossier_id_dossiers")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_problem_reports_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_reports")),
        sa.UniqueConstraint("reference", name=op.f("uq_problem_reports_reference")),
    )
    with op.batch_alter_table("problem_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_problem_reports_agent_point_id"), ["agent_point_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_problem_reports_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_problem_reports_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_problem_reports_status"), ["status"], unique=False)

    op.create_table(
        "problem_messages",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("author", sa.String(length=16), nullable=False),
        sa.Column("author_label", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_problem_messages_partner_id_partners")),
        sa.ForeignKeyConstraint(
            ["report_id"], ["problem_reports.id"], name=op.f("fk_problem_messages_report_id_problem_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_problem_messages")),
    )
    with op.batch_alter_table("problem_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_problem_messages_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_problem_messages_report_id"), ["report_id"], unique=False)

    op.create_table(
        "rating_flags",
        sa.Column("rating_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_rating_flags_partner_id_partners")),
        sa.ForeignKeyConstraint(["rating_id"], ["ratings.id"], name=op.f("fk_rating_flags_rating_id_ratings")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_flags")),
        sa.UniqueConstraint("rating_id", "reason", name=op.f("uq_rating_flags_rating_id_reason")),
    )
    with op.batch_alter_table("rating_flags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_flags_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rating_flags_rating_id"), ["rating_id"], unique=False)

    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum("counter", "result", name="ratingkind", native_enum=False, length=8),
                nullable=False,
                server_default="result",
            )
        )
        batch_op.add_column(sa.Column("staff_account_id", sa.Uuid(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "attitude",
                sa.Enum("very_satisfied", "satisfied", "not_satisfied", name="sipas", native_enum=False, length=16),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "timeliness",
                sa.Enum("earlier", "on_time", "late", name="timeliness", native_enum=False, length=8),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("came_back", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("network_digest", sa.String(length=32), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("device_digest", sa.String(length=32), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("seconds_after_filing", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("excluded", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("excluded_reason", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("excluded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(batch_op.f("uq_ratings_dossier_id"), type_="unique")
        batch_op.create_index(batch_op.f("ix_ratings_device_digest"), ["device_digest"], unique=False)
        batch_op.create_index(batch_op.f("ix_ratings_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ratings_network_digest"), ["network_digest"], unique=False)
        batch_op.create_index(batch_op.f("ix_ratings_staff_account_id"), ["staff_account_id"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_ratings_dossier_id_kind"), ["dossier_id", "kind"])
        batch_op.create_foreign_key(
            batch_op.f("fk_ratings_staff_account_id_accounts"), "accounts", ["staff_account_id"], ["id"]
        )
    # Ratings given before this revision were of the result, by the dossier's filer.
    op.execute(
        "UPDATE ratings SET staff_account_id = "
        "(SELECT staff_account_id FROM dossiers WHERE dossiers.id = ratings.dossier_id)"
    )
    _enable_rls(NEW_TENANT_TABLES)


def downgrade() -> None:
    _disable_rls(NEW_TENANT_TABLES)
    op.execute("DELETE FROM ratings WHERE kind = 'counter'")
    with op.batch_alter_table("ratings", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_ratings_staff_account_id_accounts"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_ratings_dossier_id_kind"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_ratings_staff_account_id"))
        batch_op.drop_index(batch_op.f("ix_ratings_network_digest"))
        batch_op.drop_index(batch_op.f("ix_ratings_dossier_id"))
        batch_op.drop_index(batch_op.f("ix_ratings_device_digest"))
        batch_op.create_unique_constraint(batch_op.f("uq_ratings_dossier_id"), ["dossier_id"])
        batch_op.drop_column("excluded_at")
        batch_op.drop_column("excluded_reason")
        batch_op.drop_column("excluded")
        batch_op.drop_column("seconds_after_filing")
        batch_op.drop_column("device_digest")
        batch_op.drop_column("network_digest")
        batch_op.drop_column("came_back")
        batch_op.drop_column("timeliness")
        batch_op.drop_column("attitude")
        batch_op.drop_column("staff_account_id")
        batch_op.drop_column("kind")

    with op.batch_alter_table("rating_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_flags_rating_id"))
        batch_op.drop_index(batch_op.f("ix_rating_flags_partner_id"))

    op.drop_table("rating_flags")
    with op.batch_alter_table("problem_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_messages_report_id"))
        batch_op.drop_index(batch_op.f("ix_problem_messages_partner_id"))

    op.drop_table("problem_messages")
    with op.batch_alter_table("problem_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_problem_reports_status"))
        batch_op.drop_index(batch_op.f("ix_problem_reports_partner_id"))
        batch_op.drop_index(batch_op.f("ix_problem_reports_dossier_id"))
        batch_op.drop_index(batch_op.f("ix_problem_reports_agent_point_id"))

    op.drop_table("problem_reports")
