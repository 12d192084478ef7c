"""The back office's piccolo tables are generated from our metadata: every column mapped, withheld or masked."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

import payments.models  # noqa: F401  (every table on the metadata)
from portal.admin.tables import UnmappableColumn, build_tables
from portal.core.db import metadata


@pytest.mark.parametrize("sqlite", [True, False], ids=["sqlite", "postgresql"])
def test_every_table_of_the_schema_becomes_a_piccolo_table_with_every_column_shown_withheld_or_masked(sqlite):
    tables = build_tables(metadata.sorted_tables, None, sqlite=sqlite)
    assert set(tables.classes) | set(tables.skipped) == set(metadata.tables)
    for name in tables.skipped:  # only link tables keyed by several columns are left out
        assert len(metadata.tables[name].primary_key.columns) > 1, name
    for name, table in metadata.tables.items():
        if name in tables.skipped:
            continue
        shown = {c._meta.name for c in tables.classes[name]._meta.columns}
        assert shown | tables.withheld[name] == {c.name for c in table.columns}, name
        assert not shown & tables.withheld[name]


def test_a_new_column_the_back_office_cannot_map_stops_the_build_naming_it():
    extra = sa.MetaData()
    sa.Table("partners", extra, sa.Column("id", sa.Uuid(), primary_key=True), sa.Column("tags", ARRAY(sa.String())))
    with pytest.raises(UnmappableColumn, match=r"partners\.tags \(ARRAY\)"):
        build_tables(extra.sorted_tables, None, sqlite=False)


def test_citizens_identity_and_phone_numbers_and_secrets_are_never_selected():
    tables = build_tables(metadata.sorted_tables, None, sqlite=True)
    assert {"owner_id_number", "owner_phone", "proxy_id_number", "proxy_phone", "notify_email", "form_data"} <= (
        tables.withheld["dossiers"]
    )
    assert "password_hash" in tables.withheld["accounts"]
    assert "oidc_client_secret" in tables.withheld["partners"]
    assert "recipient" in tables.withheld["notifications"]
    assert tables.masked["dossiers"] == {"owner_full_name", "proxy_full_name"}


def test_a_masked_name_is_computed_by_the_database_so_the_full_name_never_leaves_it():
    tables = build_tables(metadata.sorted_tables, None, sqlite=True)
    column = tables.classes["dossiers"].owner_full_name
    assert str(column.get_select_string("sqlite")) == (
        """substr("dossiers"."owner_full_name", 1, 1) || '***' AS "owner_full_name\""""
    )
