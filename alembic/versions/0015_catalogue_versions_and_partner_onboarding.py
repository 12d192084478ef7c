"""The procedure catalogue, versioned; the procedures the center enables per partner; the partner's application.

Every procedure's content moves into `procedure_versions` (the existing rows become version 1, their
plain list of document names becomes structured documents, their single fee a fixed fee rule) and
every dossier keeps the version it was filed under. Existing partners get every existing procedure
enabled (what they could file before, they still can). Partners gain the application's fields.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 16:45:00
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Row-level security, frozen here as this revision created it (the policy of 0001/0002).
_RLS_POLICY = (
    "current_setting('app.all_partners', true) = 'on' "
    "OR partner_id = nullif(current_setting('app.partner_id', true), '')::uuid"
)
_MOVED = ("name", "field_code", "field_name", "handled_by", "processing_days", "fee_vnd", "fee_note")
_MOVED_JSON = ("required_documents", "form_schema")

_procedures = sa.table(
    "procedures",
    sa.column("id", sa.Uuid()),
    sa.column("code", sa.String()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    *(sa.column(name) for name in _MOVED),
    *(sa.column(name, sa.JSON()) for name in _MOVED_JSON),
)
_versions = sa.table(
    "procedure_versions",
    sa.column("id", sa.Uuid()),
    sa.column("procedure_id", sa.Uuid()),
    sa.column("number", sa.Integer()),
    sa.column("name", sa.String()),
    sa.column("field_code", sa.String()),
    sa.column("field_name", sa.String()),
    sa.column("handled_by", sa.String()),
    sa.column("processing_days", sa.Integer()),
    sa.column("fee_rules", sa.JSON()),
    sa.column("fee_note", sa.Text()),
    sa.column("city_charges", sa.String()),
    sa.column("required_documents", sa.JSON()),
    sa.column("form_schema", sa.JSON()),
    sa.column("effective_from", sa.Date()),
    sa.column("published_at", sa.DateTime(timezone=True)),
    sa.column("change_note", sa.Text()),
)
_dossiers = sa.table("dossiers", sa.column("procedure_id", sa.Uuid()), sa.column("procedure_version_id", sa.Uuid()))
_partners = sa.table("partners", sa.column("id", sa.Uuid()))
_enabled = sa.table(
    "partner_procedures",
    sa.column("id", sa.Uuid()),
    sa.column("partner_id", sa.Uuid()),
    sa.column("procedure_id", sa.Uuid()),
    sa.column("enabled_at", sa.DateTime(timezone=True)),
)


def _document(name: str) -> dict[str, object]:
    """A document name of the old plain list, as a structured required document."""
    lowered = name.lower()
    return {
        "name": name,
        "original": not lowered.startswith("bản sao"),
        "mandatory": "(nếu" not in lowered,
        "count": 1,
    }


def upgrade() -> None:
    op.create_table(
        "procedure_versions",
        sa.Column("procedure_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("field_code", sa.String(length=40), nullable=False),
        sa.Column("field_name", sa.String(length=200), nullable=False),
        sa.Column("handled_by", sa.String(length=200), nullable=False),
        sa.Column("processing_days", sa.Integer(), nullable=False),
        sa.Column("fee_rules", sa.JSON(), nullable=False),
        sa.Column("fee_note", sa.Text(), nullable=False),
        sa.Column("city_charges", sa.String(length=16), nullable=False),
        sa.Column("required_documents", sa.JSON(), nullable=False),
        sa.Column("form_schema", sa.JSON(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.Uuid(), nullable=True),
        sa.Column("change_note", sa.Text(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["procedure_id"], ["procedures.id"], name=op.f("fk_procedure_versions_procedure_id_procedures")
        ),
        sa.ForeignKeyConstraint(
            ["published_by"], ["accounts.id"], name=op.f("fk_procedure_versions_published_by_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_procedure_versions")),
        sa.UniqueConstraint("procedure_id", "number", name=op.f("uq_procedure_versions_procedure_id_number")),
    )
    op.create_index(op.f("ix_procedure_versions_procedure_id"), "procedure_versions", ["procedure_id"])
    op.create_table(
        "partner_procedures",
        sa.Column("procedure_id", sa.Uuid(), nullable=False),
        sa.Column("enabled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("enabled_by", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["enabled_by"], ["accounts.id"], name=op.f("fk_partner_procedures_enabled_by_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_partner_procedures_partner_id_partners")
        ),
        sa.ForeignKeyConstraint(
            ["procedure_id"], ["procedures.id"], name=op.f("fk_partner_procedures_procedure_id_procedures")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_procedures")),
        sa.UniqueConstraint("partner_id", "procedure_id", name=op.f("uq_partner_procedures_partner_id_procedure_id")),
    )
    op.create_index(op.f("ix_partner_procedures_partner_id"), "partner_procedures", ["partner_id"])
    op.create_index(op.f("ix_partner_procedures_procedure_id"), "partner_procedures", ["procedure_id"])

    # A plain ADD COLUMN (SQLite takes a REFERENCES clause on it): the dossiers table is not rebuilt.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE dossiers ADD COLUMN procedure_version_id CHAR(32) REFERENCES procedure_versions (id)")
    else:
        op.add_column("dossiers", sa.Column("procedure_version_id", sa.Uuid(), nullable=True))
        op.create_foreign_key(
            op.f("fk_dossiers_procedure_version_id_procedure_versions"),
            "dossiers",
            "procedure_versions",
            ["procedure_version_id"],
            ["id"],
        )
    op.create_index(op.f("ix_dossiers_procedure_version_id"), "dossiers", ["procedure_version_id"])

    for column in (
        sa.Column("legal_name", sa.String(length=300), nullable=True),
        sa.Column("tax_code", sa.String(length=14), nullable=True),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("contact_email", sa.String(length=254), nullable=True),
        sa.Column("contact_phone", sa.String(length=20), nullable=True),
        sa.Column("contract_start", sa.Date(), nullable=True),
        sa.Column("contract_end", sa.Date(), nullable=True),
        sa.Column("manager_email", sa.String(length=254), nullable=True),
        sa.Column("manager_name", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    ):
        op.add_column("partners", column)
    op.create_index(op.f("ix_partners_tax_code"), "partners", ["tax_code"], unique=True)

    _move_content_into_versions()

    for name in (*_MOVED, *_MOVED_JSON):
        op.drop_column("procedures", name)  # SQLite ≥ 3.35 drops a plain column in place

    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE partner_procedures ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON partner_procedures USING ({_RLS_POLICY}) WITH CHECK ({_RLS_POLICY})"
        )


def _move_content_into_versions() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    rows = bind.execute(sa.select(_procedures)).mappings().all()
    for row in rows:
        version_id = uuid.uuid4()
        fee = int(row["fee_vnd"] or 0)
        created = row["created_at"]
        bind.execute(
            _versions.insert().values(
                id=version_id,
                procedure_id=row["id"],
                number=1,
                name=row["name"],
                field_code=row["field_code"],
                field_name=row["field_name"],
                handled_by=row["handled_by"],
                processing_days=row["processing_days"],
                fee_rules={"kind": "fixed", "amount_vnd": fee} if fee > 0 else {"kind": "none"},
                fee_note=row["fee_note"] or "",
                city_charges="before" if fee > 0 else "none",
                required_documents=[_document(str(name)) for name in (row["required_documents"] or [])],
                form_schema=row["form_schema"] or {},
                effective_from=created.date() if isinstance(created, datetime) else date(2025, 7, 1),
                published_at=now,
                change_note="Phiên bản đầu tiên (chuyển từ danh mục cũ)",
            )
        )
        bind.execute(
            _dossiers.update().where(_dossiers.c.procedure_id == row["id"]).values(procedure_version_id=version_id)
        )
    partner_ids = bind.execute(sa.select(_partners.c.id)).scalars().all()
    for partner_id in partner_ids:
        for row in rows:
            bind.execute(
                _enabled.insert().values(id=uuid.uuid4(), partner_id=partner_id, procedure_id=row["id"], enabled_at=now)
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP POLICY IF EXISTS tenant_isolation ON partner_procedures")
    for column in (
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("field_code", sa.String(length=40), nullable=True),
        sa.Column("field_name", sa.String(length=200), nullable=True),
        sa.Column("handled_by", sa.String(length=200), nullable=True),
        sa.Column("processing_days", sa.Integer(), nullable=True),
        sa.Column("fee_vnd", sa.Integer(), nullable=True),
        sa.Column("fee_note", sa.Text(), nullable=True),
        sa.Column("required_documents", sa.JSON(), nullable=True),
        sa.Column("form_schema", sa.JSON(), nullable=True),
    ):
        op.add_column("procedures", column)
    # Each procedure takes back its latest version's content (the structured documents become names again).
    versions = bind.execute(sa.select(_versions).order_by(_versions.c.number)).mappings().all()
    for version in versions:
        rules = version["fee_rules"] or {}
        bind.execute(
            _procedures.update()
            .where(_procedures.c.id == version["procedure_id"])
            .values(
                name=version["name"],
                field_code=version["field_code"],
                field_name=version["field_name"],
                handled_by=version["handled_by"],
                processing_days=version["processing_days"],
                fee_vnd=int(rules.get("online_amount_vnd", rules.get("amount_vnd", 0))),
                fee_note=version["fee_note"],
                required_documents=[d["name"] for d in version["required_documents"] or []],
                form_schema=version["form_schema"],
            )
        )
    op.drop_index(op.f("ix_partners_tax_code"), table_name="partners")
    for name in (
        "decided_at",
        "manager_name",
        "manager_email",
        "contract_end",
        "contract_start",
        "contact_phone",
        "contact_email",
        "contact_name",
        "tax_code",
        "legal_name",
    ):
        op.drop_column("partners", name)
    op.drop_index(op.f("ix_dossiers_procedure_version_id"), table_name="dossiers")
    if bind.dialect.name == "postgresql":
        op.drop_constraint(op.f("fk_dossiers_procedure_version_id_procedure_versions"), "dossiers", type_="foreignkey")
        op.drop_column("dossiers", "procedure_version_id")
    else:
        with op.batch_alter_table("dossiers", schema=None) as batch_op:  # SQLite drops no referencing column in place
            batch_op.drop_column("procedure_version_id")
    op.drop_table("partner_procedures")
    op.drop_table("procedure_versions")
