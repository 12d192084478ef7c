"""Migration 0015 moves the catalogue into versions without losing a procedure, a dossier's link or a partner's right.

A database at 0014 with a procedure, a partner and a dossier is migrated: the procedure becomes its version 1
(documents structured, its fee a fixed fee rule), the dossier keeps that version, the partner may still file it.
"""

import json
import uuid
from datetime import UTC, date, datetime

import sqlalchemy as sa

from alembic import command
from portal.core.db import make_engine
from portal.core.migrations import alembic_config
from tests.core.test_migrations import scratch_database  # noqa: F401 - the fixture


def _dummy(column: sa.Column, is_postgres: bool):
    if column.name == "id" or column.name.endswith("_id"):
        value = uuid.uuid4()
        return value if is_postgres else value.hex
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 0
    if isinstance(kind, sa.Float | sa.Numeric):
        return 21.0
    if isinstance(kind, sa.DateTime):
        return datetime(2026, 11, 1, tzinfo=UTC)
    if isinstance(kind, sa.Date):
        return date(1990, 1, 1)
    if isinstance(kind, sa.JSON):
        return {}
    return "x"


def _row(table: sa.Table, is_postgres: bool, **given):
    values = {c.name: _dummy(c, is_postgres) for c in table.columns if not c.nullable}
    values.update(given)
    return values


def test_existing_procedures_become_version_one_and_their_dossiers_keep_it(scratch_database, monkeypatch):  # noqa: F811
    from portal.core import settings as settings_module

    monkeypatch.setenv("DATABASE_MIGRATION_URL", scratch_database)
    monkeypatch.setenv("DATABASE_URL", scratch_database)
    settings_module.get_settings.cache_clear()
    engine = make_engine(scratch_database)
    try:
        config = alembic_config()
        command.upgrade(config, "0014")
        is_postgres = engine.dialect.name == "postgresql"
        meta = sa.MetaData()
        meta.reflect(engine, only=["procedures", "partners", "accounts", "agent_points", "dossiers"])
        t = meta.tables
        ident = (lambda u: u) if is_postgres else (lambda u: u.hex)
        procedure_id, partner_id, account_id, point_id, dossier_id = (uuid.uuid4() for _ in range(5))
        with engine.begin() as conn:
            conn.execute(
                t["procedures"]
                .insert()
                .values(
                    _row(
                        t["procedures"],
                        is_postgres,
                        id=ident(procedure_id),
                        code="1.004222",
                        name="Đăng ký thường trú",
                        fee_vnd=10000,
                        fee_note="10.000 đồng",
                        required_documents=["Tờ khai CT01", "Văn bản ủy quyền (nếu nộp thay)"],
                        form_schema={"type": "object", "properties": {}},
                    )
                )
            )
            conn.execute(
                t["partners"]
                .insert()
                .values(
                    _row(t["partners"], is_postgres, id=ident(partner_id), code="OLD", kind="post", status="active")
                )
            )
            conn.execute(
                t["accounts"]
                .insert()
                .values(_row(t["accounts"], is_postgres, id=ident(account_id), email="a@b.vn", status="active"))
            )
            conn.execute(
                t["agent_points"]
                .insert()
                .values(
                    _row(
                        t["agent_points"],
                        is_postgres,
                        id=ident(point_id),
                        partner_id=ident(partner_id),
                        status="approved",
                    )
                )
            )
            conn.execute(
                t["dossiers"]
                .insert()
                .values(
                    _row(
                        t["dossiers"],
                        is_postgres,
                        id=ident(dossier_id),
                        partner_id=ident(partner_id),
                        agent_point_id=ident(point_id),
                        procedure_id=ident(procedure_id),
                        staff_account_id=ident(account_id),
                        state="forwarded",
                    )
                )
            )
        command.upgrade(config, "0015")
        with engine.connect() as conn:
            version = conn.execute(sa.text("SELECT * FROM procedure_versions")).mappings().one()
            assert (version["number"], version["name"]) == (1, "Đăng ký thường trú")
            rules = version["fee_rules"] if is_postgres else json.loads(version["fee_rules"])
            documents = version["required_documents"]
            documents = documents if is_postgres else json.loads(documents)
            assert rules == {"kind": "fixed", "amount_vnd": 10000}
            assert documents == [
                {"name": "Tờ khai CT01", "original": True, "mandatory": True, "count": 1},
                {"name": "Văn bản ủy quyền (nếu nộp thay)", "original": True, "mandatory": False, "count": 1},
            ]
            linked = conn.execute(sa.text("SELECT procedure_version_id FROM dossiers")).scalar()
            assert str(linked).replace("-", "") == str(version["id"]).replace("-", "")
            enabled = conn.execute(sa.text("SELECT partner_id, procedure_id FROM partner_procedures")).all()
            assert len(enabled) == 1
            columns = {c["name"] for c in sa.inspect(conn).get_columns("procedures")}
            assert "fee_vnd" not in columns and "form_schema" not in columns
        command.downgrade(config, "0014")  # and back: the procedure takes its content again
        with engine.connect() as conn:
            row = conn.execute(sa.text("SELECT name, fee_vnd FROM procedures")).one()
            assert tuple(row) == ("Đăng ký thường trú", 10000)
    finally:
        engine.dispose()
        settings_module.get_settings.cache_clear()
