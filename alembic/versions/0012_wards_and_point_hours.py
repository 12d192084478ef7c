"""Hanoi's 126 communes and wards as reference data (loaded from the committed data file); a point's
ward code, structured week, holiday closing, temporary closures, offered procedures and photo; the
locator's latitude/longitude index.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 16:40:00
"""

import csv
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Row-level security, frozen here as this revision created it (the policy of 0001/0002).
_RLS_POLICY = (
    "current_setting('app.all_partners', true) = 'on' "
    "OR partner_id = nullif(current_setting('app.partner_id', true), '')::uuid"
)
_TENANT_TABLES = ("point_closures", "point_procedures")
# The generated, committed list (scripts/generate_hanoi_wards.py; SOURCE.md beside it). A later
# change of the list is a later migration that updates these rows, so both paths end the same.
_WARDS_CSV = Path(__file__).resolve().parents[2] / "agents" / "wards" / "data" / "hanoi_wards.csv"


def upgrade() -> None:
    wards = op.create_table(
        "wards",
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("area_km2", sa.Float(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("population_source", sa.String(length=200), nullable=True),
        sa.Column("population_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_wards")),
        sa.UniqueConstraint("name", name=op.f("uq_wards_name")),
    )
    with _WARDS_CSV.open(encoding="utf-8", newline="") as source:
        rows = [
            {
                "code": row["code"],
                "name": row["name"],
                "kind": row["kind"],
                "latitude": float(row["latitude"]),
                "longitude": float(row["longitude"]),
                "area_km2": float(row["area_km2"]) if row["area_km2"] else None,
            }
            for row in csv.DictReader(source)
        ]
    op.bulk_insert(wards, rows)

    with op.batch_alter_table("agent_points", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ward_code", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("weekly_hours", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("closed_on_public_holidays", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("photo_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("photo_content_type", sa.String(length=40), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_agent_points_ward_code_wards"), "wards", ["ward_code"], ["code"])
        batch_op.create_index("ix_agent_points_latitude_longitude", ["latitude", "longitude"], unique=False)
    with op.batch_alter_table("agent_points", schema=None) as batch_op:
        batch_op.alter_column("closed_on_public_holidays", server_default=None)
    # Points registered before: their ward's code, where the name they gave is one of the 126.
    op.execute("UPDATE agent_points SET ward_code = (SELECT code FROM wards WHERE wards.name = agent_points.ward)")

    op.create_table(
        "point_closures",
        sa.Column("agent_point_id", sa.Uuid(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_point_id"], ["agent_points.id"], name=op.f("fk_point_closures_agent_point_id_agent_points")
        ),
        sa.ForeignKeyConstraint(["created_by"], ["accounts.id"], name=op.f("fk_point_closures_created_by_accounts")),
        sa.ForeignKeyConstraint(
            ["cancelled_by"], ["accounts.id"], name=op.f("fk_point_closures_cancelled_by_accounts")
        ),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_point_closures_partner_id_partners")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_closures")),
    )
    with op.batch_alter_table("point_closures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_point_closures_agent_point_id"), ["agent_point_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_point_closures_partner_id"), ["partner_id"], unique=False)

    op.create_table(
        "point_procedures",
        sa.Column("agent_point_id", sa.Uuid(), nullable=False),
        sa.Column("procedure_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_point_id"], ["agent_points.id"], name=op.f("fk_point_procedures_agent_point_id_agent_points")
        ),
        sa.ForeignKeyConstraint(
            ["procedure_id"], ["procedures.id"], name=op.f("fk_point_procedures_procedure_id_procedures")
        ),
        sa.ForeignKeyConstraint(["partner_id"], ["partners.id"], name=op.f("fk_point_procedures_partner_id_partners")),
        sa.PrimaryKeyConstraint("agent_point_id", "procedure_id", name=op.f("pk_point_procedures")),
    )
    with op.batch_alter_table("point_procedures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_point_procedures_partner_id"), ["partner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_point_procedures_procedure_id"), ["procedure_id"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for table in _TENANT_TABLES:
            op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
            op.execute(f"CREATE POLICY tenant_isolation ON {table} USING ({_RLS_POLICY}) WITH CHECK ({_RLS_POLICY})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in _TENANT_TABLES:
            op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.drop_table("point_procedures")
    op.drop_table("point_closures")
    with op.batch_alter_table("agent_points", schema=None) as batch_op:
        batch_op.drop_index("ix_agent_points_latitude_longitude")
        batch_op.drop_constraint(batch_op.f("fk_agent_points_ward_code_wards"), type_="foreignkey")
        batch_op.drop_column("photo_content_type")
        batch_op.drop_column("photo_hash")
        batch_op.drop_column("closed_on_public_holidays")
        batch_op.drop_column("weekly_hours")
        batch_op.drop_column("ward_code")
    op.drop_table("wards")
