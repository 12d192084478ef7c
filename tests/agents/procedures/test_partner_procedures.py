"""The center enables procedures per partner; a procedure not enabled for the filing point's partner is refused."""

import uuid

import pytest
from sqlalchemy import select

from agents.dossiers import filing
from agents.procedures import publishing
from agents.procedures.models import PartnerProcedure
from agents.staff.models import Role
from portal.core.audit import AuditEvent
from portal.core.db import read_only, unit_of_work
from portal.core.errors import ValidationFailed
from tests.factories import BIRTH_FORM, citizen, create_counter, create_person, offer_at_points, setup_scope

BIRTH = "1.001193"


@pytest.fixture
def counter():
    return create_counter("Bưu điện danh mục đối tác")


def _file(counter):
    partner, point, staff = counter
    with unit_of_work(staff.partner_scope(partner.id)) as session:
        return filing.file_dossier(
            session, staff, filing.FilingRequest(BIRTH, point.id, uuid.uuid4().hex, citizen(), dict(BIRTH_FORM))
        )


def test_a_procedure_the_center_has_not_enabled_for_the_partner_is_refused(counter):
    partner, *_ = counter
    admin = create_person((Role.center_admin, None, None))
    with unit_of_work(setup_scope()) as session:
        codes = {c for c in publishing.enabled_codes(session, partner.id)} - {BIRTH}
        added, removed = publishing.set_partner_procedures(session, admin, partner.id, codes)
        assert (added, removed) == ([], [BIRTH])
    with pytest.raises(ValidationFailed) as refused:
        _file(counter)
    assert refused.value.field_errors == {"procedure_code": "Trung tâm chưa mở thủ tục này cho đối tác của điểm"}
    with unit_of_work(setup_scope()) as session:
        publishing.set_partner_procedures(session, admin, partner.id, codes | {BIRTH})
    # The point lost the procedure with its partner; enabling it again lets the manager choose it again.
    with pytest.raises(ValidationFailed) as not_offered:
        _file(counter)
    assert not_offered.value.field_errors == {"procedure_code": filing.NOT_OFFERED}
    offer_at_points(partner.id, [BIRTH])
    assert _file(counter).created
    with read_only(setup_scope()) as session:
        changes = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "partner.procedures_changed", AuditEvent.partner_id == partner.id)
            .order_by(AuditEvent.seq)
        ).all()
        assert [(e.detail["enabled"], e.detail["disabled"]) for e in changes][-2:] == [([], [BIRTH]), ([BIRTH], [])]


def test_an_unknown_code_is_refused_and_nothing_changes(counter):
    partner, *_ = counter
    admin = create_person((Role.center_admin, None, None))
    with read_only(setup_scope()) as session:
        before = publishing.enabled_codes(session, partner.id)
    with pytest.raises(ValidationFailed) as refused, unit_of_work(setup_scope()) as session:
        publishing.set_partner_procedures(session, admin, partner.id, ["9.999999"])
    assert refused.value.field_errors == {"procedures": "9.999999"}
    with read_only(setup_scope()) as session:
        assert publishing.enabled_codes(session, partner.id) == before


def test_a_partner_reads_only_its_own_list(counter):
    partner, _, staff = counter
    other, *_ = create_counter("Bưu điện khác")
    with read_only(staff.partner_scope(partner.id)) as session:
        rows = session.scalars(select(PartnerProcedure)).all()
        assert rows and {r.partner_id for r in rows} == {partner.id}
        assert other.id not in {r.partner_id for r in rows}


def test_only_the_centers_admin_enables_procedures(counter):
    partner, _, staff = counter
    with pytest.raises(Exception) as refused, unit_of_work(setup_scope()) as session:
        publishing.set_partner_procedures(session, staff, partner.id, [BIRTH])
    assert getattr(refused.value, "status_code", None) == 403
