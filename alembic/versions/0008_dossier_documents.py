"""The citizen's documents digitised at the counter (one row per stored file, in a slot of a draft);
the expected result date of a dossier, and the center's overrides of the working-day calendar.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Row-level security, frozen here as this revision created it (the policy of 0001/0002).
_RLS_POLICY = (
    "current_setting('app.all_partners', true) = 'on' "
    "OR partner_id = nullif(current_setting('app.partner_id', true), '')::uuid"
)


def upgrade() -> None:
    op.create_table(
        "dossier_documents",
        sa.Column("draft_id", sa.Uuid(), nullable=False),
        sa.Column("dossier_id", sa.Uuid(), nullable=True),
        sa.Column("slot", sa.String(length=80), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["draft_id"], ["dossier_drafts.id"], name=op.f("fk_dossier_documents_draft_id_dossier_drafts")
        ),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], name=op.f("fk_dossier_documents_dossier_id_dossiers")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_dossier_documents_partner_id_partners")),
        sa.ForeignKeyConstraint(
            ["uploaded_by"], ["accounts.id"], name=op.f("fk_dossier_documents_uploaded_by_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_documents")),
    )
    with op.batch_alter_table("dossier_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dossier_documents_content_hash"), ["content_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_dossier_documents_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dossier_documents_draft_id"), ["draft_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dossier_documents_partner_id"), ["partner_id"], unique=False)
    op.create_table(
        "calendar_overrides",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("decree", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["accounts.id"], name=op.f("fk_calendar_overrides_created_by_accounts")
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_overrides")),
    )
    op.add_column("dossiers", sa.Column("expected_result_date", sa.Date(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE dossier_documents ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON dossier_documents USING ({_RLS_POLICY}) WITH CHECK ({_RLS_POLICY})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS tenant_isolation ON dossier_documents")
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_column("expected_result_date")
    op.drop_table("calendar_overrides")
    op.drop_table("dossier_documents")
