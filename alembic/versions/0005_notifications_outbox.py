"""The notification outbox (one row per dossier, kind and channel) and the citizen's choice of channels.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 12:50:57.799800
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.Enum("sms", "email", name="channel", native_enum=False, length=8), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "received",
                "supplement_requested",
                "refused",
                "stopped",
                "result_ready",
                "returned",
                name="notificationkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("city_status", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "sending",
                "accepted",
                "held",
                "delivered",
                "failed",
                "refused",
                "gave_up",
                name="deliverystate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_message_id", sa.String(length=80), nullable=True),
        sa.Column("segments", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_report_id", sa.String(length=80), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], name=op.f("fk_notifications_dossier_id_dossiers")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_notifications_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("dossier_id", "kind", "channel", name=op.f("uq_notifications_dossier_id_kind_channel")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_provider_message_id"), ["provider_message_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_state"), ["state"], unique=False)

    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notify_sms", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("notify_email", sa.Text(), nullable=True))

    _enable_rls(["notifications"])


def downgrade() -> None:
    _disable_rls(["notifications"])
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_column("notify_email")
        batch_op.drop_column("notify_sms")

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_state"))
        batch_op.drop_index(batch_op.f("ix_notifications_provider_message_id"))
        batch_op.drop_index(batch_op.f("ix_notifications_partner_id"))
        batch_op.drop_index(batch_op.f("ix_notifications_dossier_id"))

    op.drop_table("notifications")


# Row-level security, frozen here as this revision creates it (no application import: a later change of the
# policy is a new migration, never an edit of this one). Unset scope means no rows: it fails closed.
_RLS_POLICY = (
    "current_setting('app.all_partners', true) = 'on' "
    "OR partner_id = nullif(current_setting('app.partner_id', true), '')::uuid"
)


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
