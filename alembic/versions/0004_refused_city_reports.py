"""City status reports that cannot follow the dossier's status are kept, marked refused (refused_after).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dossier_events", sa.Column("refused_after", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("dossier_events", "refused_after")
