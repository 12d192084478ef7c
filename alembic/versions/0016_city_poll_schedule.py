"""The poller's schedule for silent dossiers: one row per dossier the city has been silent on, with
how many polls in a row brought nothing and when the next one is due (the wait doubles up to a
ceiling), so a dossier the city never reports on is not asked about at every sweep for ever.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Row-level security, frozen here as this revision creates it (the policy of 0001/0002).
_RLS_POLICY = (
    "current_setting('app.all_partners', true) = 'on' "
    "OR partner_id = nullif(current_setting('app.partner_id', true), '')::uuid"
)


def upgrade() -> None:
    op.create_table(
        "city_polls",
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], name=op.f("fk_city_polls_dossier_id_dossiers")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_city_polls_partner_id_partners")),
        sa.PrimaryKeyConstraint("dossier_id", name=op.f("pk_city_polls")),
    )
    with op.batch_alter_table("city_polls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_city_polls_next_poll_at"), ["next_poll_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_city_polls_partner_id"), ["partner_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE city_polls ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY tenant_isolation ON city_polls USING ({_RLS_POLICY}) WITH CHECK ({_RLS_POLICY})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS tenant_isolation ON city_polls")
    op.drop_table("city_polls")
