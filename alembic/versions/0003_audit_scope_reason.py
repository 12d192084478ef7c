"""The audit log records why a cross-partner scope was opened (scope_reason), covered by each entry's hash.

Added in place (ALTER TABLE ... ADD COLUMN), never by copying the table: the
append-only triggers of migration 0001 stay as they are. Entries written
before this revision have no reason (NULL); their hash is computed without the
field, so they verify as they did.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("scope_reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    op.drop_column("audit_events", "scope_reason")
