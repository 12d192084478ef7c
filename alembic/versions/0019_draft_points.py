"""The point a draft will be filed at, when it is known from the start: a partner system's draft is its
client's point, and only those who may file there reach it (agents/dossiers/drafts.py, decision 0032).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite takes a REFERENCES clause on it): the drafts table is not rebuilt.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE dossier_drafts ADD COLUMN agent_point_id CHAR(32) REFERENCES agent_points (id)")
    else:
        op.add_column("dossier_drafts", sa.Column("agent_point_id", sa.Uuid(), nullable=True))
        op.create_foreign_key(
            op.f("fk_dossier_drafts_agent_point_id_agent_points"),
            "dossier_drafts",
            "agent_points",
            ["agent_point_id"],
            ["id"],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("fk_dossier_drafts_agent_point_id_agent_points"), "dossier_drafts", type_="foreignkey")
        op.drop_column("dossier_drafts", "agent_point_id")
    else:
        with op.batch_alter_table("dossier_drafts", schema=None) as batch_op:  # SQLite drops no referencing column
            batch_op.drop_column("agent_point_id")
