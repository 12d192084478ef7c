"""The counter's citizen: consents recorded per filing, identity checks as records, documents reused
from an earlier dossier by content hash.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Row-level security, frozen here as this revision created it (the policy of 0001/0002).
_RLS_POLICY = (
    "current_setting('app.all_partners', true) = 'on' "
    "OR partner_id = nullif(current_setting('app.partner_id', true), '')::uuid"
)
NEW_TENANT_TABLES = ("citizen_consents", "identity_checks")


def _common(table: str) -> list[Any]:
    return [
        sa.Column("draft_id", sa.Uuid(), nullable=False),
        sa.Column("dossier_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["dossier_drafts.id"], name=op.f(f"fk_{table}_draft_id_dossier_drafts")),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], name=op.f(f"fk_{table}_dossier_id_dossiers")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f(f"fk_{table}_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "citizen_consents",
        sa.Column("given_by", sa.String(length=16), nullable=False),
        sa.Column("text_version", sa.String(length=20), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["accounts.id"], name=op.f("fk_citizen_consents_recorded_by_accounts")
        ),
        *_common("citizen_consents"),
    )
    op.create_table(
        "identity_checks",
        sa.Column("party", sa.String(length=16), nullable=False),
        sa.Column("document_kind", sa.String(length=16), nullable=False),
        sa.Column("number_index", sa.String(length=40), nullable=False),
        sa.Column("checked_by", sa.Uuid(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["checked_by"], ["accounts.id"], name=op.f("fk_identity_checks_checked_by_accounts")),
        *_common("identity_checks"),
    )
    for table in NEW_TENANT_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f"ix_{table}_draft_id"), ["draft_id"], unique=False)
            batch_op.create_index(batch_op.f(f"ix_{table}_dossier_id"), ["dossier_id"], unique=False)
            batch_op.create_index(batch_op.f(f"ix_{table}_partner_id"), ["partner_id"], unique=False)
    with op.batch_alter_table("dossier_documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reused_from_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_dossier_documents_reused_from_id_dossier_documents"),
            "dossier_documents",
            ["reused_from_id"],
            ["id"],
        )
    if op.get_bind().dialect.name == "postgresql":
        for table in NEW_TENANT_TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({_RLS_POLICY}) WITH CHECK ({_RLS_POLICY})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in NEW_TENANT_TABLES:
            op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    with op.batch_alter_table("dossier_documents", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_dossier_documents_reused_from_id_dossier_documents"), type_="foreignkey"
        )
        batch_op.drop_column("reused_from_id")
    op.drop_table("identity_checks")
    op.drop_table("citizen_consents")
