"""Hanoi's 126 communes and wards since July 2025: loaded by the migration from the committed file,
found by code or name, and the population the center imports (all rows or none)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from agents.points.rules import HANOI_BOUNDS
from agents.staff.models import Role
from agents.wards import service as wards
from agents.wards.models import Ward
from portal.core.audit import AuditEvent
from portal.core.db import read_only, unit_of_work
from portal.core.errors import PermissionDenied, ValidationFailed
from portal.core.tenancy import Scope
from tests.factories import create_partner, create_person

DATA = Path(wards.__file__).parent / "data"


def _scope() -> Scope:
    return Scope.network("test reads wards", actor_label="test")


def test_the_migration_loads_the_126_units_51_wards_and_75_communes_with_centroid_and_area():
    with read_only(_scope()) as session:
        rows = wards.all_wards(session)
        kinds = dict(session.execute(select(Ward.kind, func.count()).group_by(Ward.kind)).all())
    assert len(rows) == 126 and kinds == {"phuong": 51, "xa": 75}
    low_lat, high_lat, low_lon, high_lon = HANOI_BOUNDS
    assert all(low_lat <= w.latitude <= high_lat and low_lon <= w.longitude <= high_lon for w in rows)
    assert all(w.area_km2 and w.area_km2 > 0 for w in rows)
    assert len({w.code for w in rows}) == 126 and all(len(w.code) == 5 for w in rows)


def test_the_data_file_names_its_source_and_licence_and_the_schematic_says_it_is_a_diagram():
    source = (DATA / "SOURCE.md").read_text(encoding="utf-8")
    assert "`vietnamadminunits` 1.0.4" in source and "MIT License" in source and "schematic" in source
    cells = wards.schematic()
    assert cells["schematic"] is True and len(cells["features"]) == 126
    with read_only(_scope()) as session:
        assert {f["properties"]["code"] for f in cells["features"]} == {w.code for w in wards.all_wards(session)}


def test_a_ward_is_found_by_code_or_by_name_however_its_tone_marks_are_placed():
    with read_only(_scope()) as session:
        assert wards.find_ward(session, "00070").name == "Phường Hoàn Kiếm"
        assert wards.find_ward(session, "  phường   hoàn kiếm ").code == "00070"
        yen_hoa = wards.find_ward(session, "Phường Yên Hòa")
        assert yen_hoa is not None and wards.find_ward(session, "Phường Yên Hoà") is yen_hoa
        assert wards.find_ward(session, "Quận Hoàn Kiếm") is None  # districts are gone since July 2025


@pytest.fixture
def center_admin():
    return create_person((Role.center_admin, None, None), name="Nguyễn Quản Trị")


def test_a_population_file_with_a_bad_row_names_each_row_and_saves_nothing(center_admin):
    text = "code,population\n00070,41000\n99999,12\n00004,many\n00070,1\n"
    with read_only(_scope()) as session:
        before = session.get(Ward, "00070").population
    with pytest.raises(ValidationFailed) as refused, unit_of_work(center_admin.network_scope("test")) as session:
        wards.import_population(session, center_admin, text, "Nghị quyết 1656/NQ-UBTVQH15")
    assert refused.value.field_errors == {
        "row 3": "code: không phải mã phường/xã của Hà Nội",
        "row 4": "population: phải là số nguyên không âm",
        "row 5": "code: trùng với một dòng trước",
    }
    with read_only(_scope()) as session:
        assert session.get(Ward, "00070").population == before


def test_a_good_population_file_is_saved_with_its_source_and_audited(center_admin):
    with unit_of_work(center_admin.network_scope("test")) as session:
        assert (
            wards.import_population(session, center_admin, "Code,Population\n70,41.000\n00004,65000\n", "NQ 1656") == 2
        )
    with read_only(_scope()) as session:
        ward = session.get(Ward, "00070")
        assert (ward.population, ward.population_source) == (41000, "NQ 1656")
        entry = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "wards.population_imported").order_by(AuditEvent.seq.desc())
        ).first()
        assert entry.detail == {"rows": 2, "source": "NQ 1656"}


def test_only_the_centers_admins_import_population():
    partner = create_partner()
    manager = create_person((Role.partner_manager, partner, None))
    with pytest.raises(PermissionDenied), unit_of_work(manager.partner_scope(partner.id)) as session:
        wards.import_population(session, manager, "code,population\n00070,1\n", "x")
