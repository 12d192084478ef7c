"""Drafts at the counter (saved as typed, filed once) and the counter time of a dossier.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 13:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Row-level security, frozen here as this revision created it (the policy of 0001/0002).
_RLS_POLICY = (
    "current_setting('app.all_partners', true) = 'on' "
    "OR partner_id = nullif(current_setting('app.partner_id', true), '')::uuid"
)


def upgrade() -> None:
    op.create_table(
        "dossier_drafts",
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("procedure_id", sa.Uuid(), nullable=False),
        sa.Column("staff_account_id", sa.Uuid(), nullable=False),
        sa.Column("values_sealed", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("open", "submitted", "discarded", name="draftstate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("dossier_id", sa.Uuid(), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("active_seconds", sa.Integer(), nullable=False),
        sa.Column("last_active_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], name=op.f("fk_dossier_drafts_dossier_id_dossiers")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_dossier_drafts_partner_id_partners")),
        sa.ForeignKeyConstraint(
            ["procedure_id"], ["procedures.id"], name=op.f("fk_dossier_drafts_procedure_id_procedures")
        ),
        sa.ForeignKeyConstraint(
            ["staff_account_id"], ["accounts.id"], name=op.f("fk_dossier_drafts_staff_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_drafts")),
        sa.UniqueConstraint("partner_id", "idempotency_key", name=op.f("uq_dossier_drafts_partner_id_idempotency_key")),
    )
    with op.batch_alter_table("dossier_drafts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dossier_drafts_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dossier_drafts_staff_account_id"), ["staff_account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dossier_drafts_state"), ["state"], unique=False)
    op.add_column("dossiers", sa.Column("counter_seconds", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE dossier_drafts ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON dossier_drafts USING ({_RLS_POLICY}) WITH CHECK ({_RLS_POLICY})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS tenant_isolation ON dossier_drafts")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_column("counter_seconds")
    op.drop_table("dossier_drafts")
