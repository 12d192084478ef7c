"""After the counter: the operations we owe the city (a supplement, a withdrawal) as an outbox,
the point's follow-up tasks (tell the citizen the result is ready), the at-most-once breach flag and
the agent-caused mark on dossiers, and documents added to a filed dossier (no draft; by supplement round).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Row-level security, frozen here as this revision creates it (the policy of 0001/0002).
_RLS_POLICY = (
    "current_setting('app.all_partners', true) = 'on' "
    "OR partner_id = nullif(current_setting('app.partner_id', true), '')::uuid"
)
_TABLES = ("city_requests", "follow_ups")


def _common() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "city_requests",
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        *_common(),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], name=op.f("fk_city_requests_dossier_id_dossiers")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_city_requests_partner_id_partners")),
        sa.ForeignKeyConstraint(["requested_by"], ["accounts.id"], name=op.f("fk_city_requests_requested_by_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_city_requests")),
        sa.UniqueConstraint("dossier_id", "kind", "round", name=op.f("uq_city_requests_dossier_id_kind_round")),
    )
    with op.batch_alter_table("city_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_city_requests_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_city_requests_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_city_requests_state"), ["state"], unique=False)
    op.create_table(
        "follow_ups",
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("agent_point_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Uuid(), nullable=True),
        sa.Column("closed_reason", sa.String(length=16), nullable=True),
        *_common(),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], name=op.f("fk_follow_ups_dossier_id_dossiers")),
        sa.ForeignKeyConstraint(
            ["agent_point_id"], ["agent_points.id"], name=op.f("fk_follow_ups_agent_point_id_agent_points")
        ),
        sa.ForeignKeyConstraint(["done_by"], ["accounts.id"], name=op.f("fk_follow_ups_done_by_accounts")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_follow_ups_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint("dossier_id", "kind", name=op.f("uq_follow_ups_dossier_id_kind")),
    )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_ups_agent_point_id"), ["agent_point_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_ups_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_ups_partner_id"), ["partner_id"], unique=False)
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supplement_breach", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("agent_caused_supplement_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("agent_caused_supplement_by", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_dossiers_agent_caused_supplement_by_accounts"),
            "accounts",
            ["agent_caused_supplement_by"],
            ["id"],
        )
    with op.batch_alter_table("dossier_documents", schema=None) as batch_op:
        batch_op.alter_column("draft_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.add_column(sa.Column("supplement_round", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("replaced_in_round", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({_RLS_POLICY}) WITH CHECK ({_RLS_POLICY})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TABLES:
            op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute("DELETE FROM dossier_documents WHERE draft_id IS NULL")
    with op.batch_alter_table("dossier_documents", schema=None) as batch_op:
        batch_op.drop_column("replaced_in_round")
        batch_op.drop_column("supplement_round")
        batch_op.alter_column("draft_id", existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_dossiers_agent_caused_supplement_by_accounts"), type_="foreignkey")
        batch_op.drop_column("agent_caused_supplement_by")
        batch_op.drop_column("agent_caused_supplement_at")
        batch_op.drop_column("supplement_breach")
    op.drop_table("follow_ups")
    op.drop_table("city_requests")
