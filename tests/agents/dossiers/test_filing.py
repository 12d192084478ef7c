"""Filing a dossier at the counter: checked whole, saved whole, never twice."""

import uuid

import pytest
from sqlalchemy import func, select, text

from agents.dossiers import filing, queries
from agents.dossiers.models import Dossier, DossierState
from agents.points.models import AgentPointStatus
from agents.staff.models import Role
from portal.core.audit import AuditEvent
from portal.core.db import get_engine, unit_of_work
from portal.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from portal.core.tenancy import Scope
from tests.factories import (
    BIRTH_FORM,
    citizen,
    create_counter,
    create_partner,
    create_person,
    create_point,
    create_staff,
    file_birth_registration,
    reload_dossier,
)
from tests.races import race


@pytest.fixture(scope="module")
def counter():
    return create_counter()


def _file(actor, point, *, key=None, procedure="1.001193", form=None, **citizen_fields):
    with unit_of_work(actor.partner_scope(actor.partner_ids[0])) as session:
        return filing.file_dossier(
            session,
            actor,
            filing.FilingRequest(
                procedure_code=procedure,
                agent_point_id=point.id,
                idempotency_key=key or uuid.uuid4().hex,
                citizen=citizen(**citizen_fields),
                form=dict(BIRTH_FORM) if form is None else form,
            ),
        )


def _count_dossiers(partner_id) -> int:
    with unit_of_work(Scope.partner(partner_id, actor_label="t")) as session:
        return session.scalar(select(func.count()).select_from(Dossier))


def test_a_valid_filing_is_saved_queued_for_the_city_with_its_history_and_audit(counter):
    _partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    stored = reload_dossier(dossier.id)
    assert stored.state is DossierState.queued
    assert stored.tracking_code.startswith("HN-")
    assert stored.owner_id_number == "001090012345"
    assert [e.state for e in stored.events] == ["queued"]
    assert stored.events[0].actor == staff.label
    with unit_of_work(Scope.network("t", actor_label="t")) as session:
        entry = session.scalar(
            select(AuditEvent).where(AuditEvent.action == "dossier.filed", AuditEvent.object_id == str(dossier.id))
        )
    assert entry is not None and entry.actor_id == staff.account_id


def test_citizen_identifiers_are_encrypted_at_rest_and_found_by_blind_index(counter):
    _partner, point, staff = counter
    dossier = file_birth_registration(staff, point, owner_id_number="079203004567", owner_phone="0987 654 321")
    with get_engine().begin() as conn:  # raw read of what is stored, past the ORM
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT set_config('app.all_partners', 'on', true)"))
        raw = conn.execute(
            text("SELECT owner_id_number, owner_phone FROM dossiers WHERE tracking_code = :c"),
            {"c": dossier.tracking_code},
        ).one()
    assert "079203004567" not in raw[0] and raw[0].startswith("v1:")
    assert "0987654321" not in raw[1]
    with unit_of_work(Scope.network("t", actor_label="t")) as session:
        found = queries.track(session, dossier.tracking_code, "0987.654.321")
    assert found.id == dossier.id


def test_every_bad_field_is_reported_at_once_and_nothing_is_saved(counter):
    partner, point, staff = counter
    before = _count_dossiers(partner.id)
    with pytest.raises(ValidationFailed) as error:
        _file(
            staff,
            point,
            owner_id_number="12345",
            owner_full_name="",
            owner_phone="abc",
            form={**BIRTH_FORM, "child_sex": "Khác", "child_full_name": ""},
        )
    assert error.value.field_errors == {
        "owner_full_name": "Bắt buộc nhập",
        "owner_id_number": "Số CCCD phải gồm đúng 12 chữ số",
        "owner_phone": "Số điện thoại không hợp lệ (10 chữ số, bắt đầu bằng 0)",
        "form.child_full_name": "Bắt buộc nhập",
        "form.child_sex": "Giá trị không hợp lệ",
    }
    assert _count_dossiers(partner.id) == before


def test_an_unknown_procedure_is_a_field_error(counter):
    _partner, point, staff = counter
    with pytest.raises(ValidationFailed) as error:
        _file(staff, point, procedure="9.999999")
    assert "procedure_code" in error.value.field_errors


def test_a_proxy_needs_identity_phone_and_authorisation(counter):
    _partner, point, staff = counter
    with pytest.raises(ValidationFailed) as error:
        _file(staff, point, proxy_full_name="Lê Văn Bình")
    assert set(error.value.field_errors) == {"proxy_id_number", "proxy_phone", "proxy_authorisation"}
    filed = _file(
        staff,
        point,
        proxy_full_name="Lê Văn Bình",
        proxy_id_number="001080000001",
        proxy_phone="0901234567",
        proxy_authorisation="GUQ 12/2026 ngày 20/11/2026",
    )
    assert reload_dossier(filed.dossier.id).proxy_id_number == "001080000001"


def test_the_same_idempotency_key_never_files_twice(counter):
    _partner, point, staff = counter
    key = uuid.uuid4().hex
    first = _file(staff, point, key=key)
    second = _file(staff, point, key=key)
    assert first.created and not second.created
    assert second.dossier.id == first.dossier.id


def test_staff_cannot_file_at_a_point_they_are_not_assigned_to(counter):
    partner, _point, staff = counter
    other_point = create_point(partner)
    with pytest.raises(PermissionDenied):
        _file(staff, other_point)


def test_a_point_awaiting_approval_cannot_file(counter):
    partner, _, _ = counter
    pending = create_point(partner, status=AgentPointStatus.pending)
    staff = create_staff(pending, partner)
    with pytest.raises(PermissionDenied):
        _file(staff, pending)


def test_another_partners_point_does_not_exist_for_this_staff(counter):
    _partner, _point, staff = counter
    other = create_partner()
    foreign_point = create_point(other)
    with pytest.raises(NotFound):
        _file(staff, foreign_point)


def test_staff_see_their_points_dossiers_and_the_manager_sees_the_partners(counter):
    partner, _point, staff = counter
    second_point = create_point(partner)
    colleague = create_staff(second_point, partner)
    theirs = file_birth_registration(colleague, second_point)
    manager = create_person((Role.partner_manager, partner, None))
    with unit_of_work(staff.partner_scope(partner.id)) as session:
        assert theirs.id not in {d.id for d in queries.list_for_actor(session, staff)}
        with pytest.raises(NotFound):
            queries.get_for_actor(session, staff, theirs.id)
    with unit_of_work(manager.partner_scope(partner.id)) as session:
        assert theirs.id in {d.id for d in queries.list_for_actor(session, manager)}


def test_a_repeated_key_from_another_point_does_not_reveal_that_points_dossier(counter):
    partner, point, staff = counter
    other_point = create_point(partner)
    other_staff = create_staff(other_point, partner)
    key = uuid.uuid4().hex
    _file(staff, point, key=key)
    with pytest.raises(Conflict):
        _file(other_staff, other_point, key=key)


def test_two_requests_racing_with_one_key_file_one_dossier(counter):
    """The second request's look-up misses the first one's row (not committed yet); the unique
    key stops its insert, and it answers with the first request's dossier instead of failing."""
    partner, point, staff = counter
    key = uuid.uuid4().hex

    def same_key():
        return filing.FilingRequest("1.001193", point.id, key, citizen(), dict(BIRTH_FORM))

    def first(hold):
        with unit_of_work(staff.partner_scope(partner.id)) as session:
            filed = filing.file_dossier(session, staff, same_key())
            hold()
            return filed

    def second():
        with unit_of_work(staff.partner_scope(partner.id)) as session:
            return filing.file_dossier(session, staff, same_key())

    won, lost = race(first, second)
    assert won.created and not lost.created
    assert lost.dossier.id == won.dossier.id
    with unit_of_work(Scope.partner(partner.id, actor_label="t")) as session:
        assert session.scalar(select(func.count()).select_from(Dossier).where(Dossier.idempotency_key == key)) == 1
