"""Payments through VNPay: payment attempts, the append-only gateway message log, refunds.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 13:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = ("payments", "gateway_messages", "refunds")


def _common() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("dossier_id", sa.Uuid(), nullable=False),
        sa.Column("agent_point_id", sa.Uuid(), nullable=False),
        sa.Column("procedure_id", sa.Uuid(), nullable=False),
        sa.Column("gateway", sa.String(length=16), nullable=False),
        sa.Column("txn_ref", sa.String(length=32), nullable=False),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "paid",
                "failed",
                "expired",
                "partially_refunded",
                "refunded",
                name="paymentstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("payment_url", sa.Text(), nullable=False),
        sa.Column("gateway_create_date", sa.String(length=14), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("transaction_no", sa.String(length=20), nullable=True),
        sa.Column("bank_code", sa.String(length=20), nullable=True),
        sa.Column("response_code", sa.String(length=2), nullable=True),
        sa.Column("refunded_vnd", sa.BigInteger(), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_common(),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossiers.id"], name=op.f("fk_payments_dossier_id_dossiers")),
        sa.ForeignKeyConstraint(
            ["agent_point_id"], ["agent_points.id"], name=op.f("fk_payments_agent_point_id_agent_points")
        ),
        sa.ForeignKeyConstraint(["procedure_id"], ["procedures.id"], name=op.f("fk_payments_procedure_id_procedures")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_payments_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("txn_ref", name=op.f("uq_payments_txn_ref")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_dossier_id"), ["dossier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_agent_point_id"), ["agent_point_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "gateway_messages",
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "direction",
            sa.Enum("sent", "received", name="messagedirection", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        *_common(),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_gateway_messages_payment_id_payments")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_gateway_messages_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_messages")),
    )
    with op.batch_alter_table("gateway_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_gateway_messages_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_gateway_messages_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "refunds",
        sa.Column("payment_id", sa.Uuid(), nullable=False),
        sa.Column("amount_vnd", sa.BigInteger(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "requested",
                "rejected",
                "approved",
                "accepted",
                "refused",
                name="refundstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("request_id", sa.String(length=32), nullable=True),
        sa.Column("response_code", sa.String(length=2), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_common(),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"], name=op.f("fk_refunds_payment_id_payments")),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_refunds_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("request_id", name=op.f("uq_refunds_request_id")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_payment_id"), ["payment_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_partner_id"), ["partner_id"], unique=False)

    _enable_rls(TENANT_TABLES)


def downgrade() -> None:
    _disable_rls(TENANT_TABLES)
    op.drop_table("refunds")
    op.drop_table("gateway_messages")
    op.drop_table("payments")


# Row-level security, frozen here as this revision created it (no application import).
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
