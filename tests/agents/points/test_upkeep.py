"""A partner manager runs a point's week, closures and offered procedures; only approved, open points file."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from agents.points import hours, offer
from agents.points import service as points
from agents.points.models import AgentPoint, AgentPointStatus, PointProcedure
from agents.procedures.models import CalendarOverride
from agents.staff.models import Role
from portal.core.audit import AuditEvent
from portal.core.db import read_only, unit_of_work
from portal.core.errors import Conflict, NotFound, ValidationFailed
from portal.core.tenancy import Scope
from tests.factories import create_counter, create_partner, create_person, create_point, file_birth_registration

WEEK = {"mon_1_opens": "07:30", "mon_1_closes": "17:00", "sat_1_opens": "08:00", "sat_1_closes": "11:30"}


@pytest.fixture
def counter():
    partner, point, staff = create_counter()
    manager = create_person((Role.partner_manager, partner, None), name="Bùi Văn Quản")
    return partner, point, staff, manager


def _audit(action: str, point_id: uuid.UUID) -> list[AuditEvent]:
    with read_only(Scope.network("test reads audit", actor_label="test")) as session:
        return list(
            session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == action, AuditEvent.object_id == str(point_id))
                .order_by(AuditEvent.seq)
            )
        )


def test_the_manager_publishes_the_week_and_the_change_is_audited(counter):
    partner, point, _, manager = counter
    with unit_of_work(manager.partner_scope(partner.id)) as session:
        hours.set_week(session, manager, point.id, {**WEEK, "closed_on_public_holidays": "on"})
    with read_only(manager.partner_scope(partner.id)) as session:
        saved = session.get(AgentPoint, point.id)
        assert saved.weekly_hours["mon"] == [["07:30", "17:00"]] and saved.weekly_hours["sun"] == []
        assert saved.opening_hours == "T2 07:30–17:00 · T7 08:00–11:30" and saved.closed_on_public_holidays
    (entry,) = _audit("agent_point.hours_changed", point.id)
    assert entry.detail["after"]["week"]["sat"] == [["08:00", "11:30"]] and entry.actor_label.startswith("Bùi Văn Quản")


def test_a_wrong_week_is_refused_naming_the_input_and_nothing_is_saved(counter):
    partner, point, _, manager = counter
    with pytest.raises(ValidationFailed) as refused, unit_of_work(manager.partner_scope(partner.id)) as session:
        hours.set_week(session, manager, point.id, {"mon_1_opens": "17:00", "mon_1_closes": "07:00"})
    assert refused.value.field_errors == {"mon_1_closes": "Giờ đóng phải sau giờ mở"}
    with read_only(manager.partner_scope(partner.id)) as session:
        assert session.get(AgentPoint, point.id).weekly_hours is None
    assert _audit("agent_point.hours_changed", point.id) == []


def test_another_partners_manager_cannot_reach_the_point(counter):
    _, point, _, _ = counter
    other = create_partner()
    stranger = create_person((Role.partner_manager, other, None))
    with pytest.raises(NotFound), unit_of_work(stranger.partner_scope(other.id)) as session:
        hours.set_week(session, stranger, point.id, WEEK)


def test_a_temporary_closure_stops_filing_with_its_reason_and_cancelling_it_reopens(counter):
    partner, point, staff, manager = counter
    today = hours.hanoi_now().date()
    with unit_of_work(manager.partner_scope(partner.id)) as session:
        closure = hours.add_closure(
            session,
            manager,
            point.id,
            {"starts_on": today.isoformat(), "ends_on": (today + timedelta(days=2)).isoformat(), "reason": "Mất điện"},
        )
    with pytest.raises(Conflict) as refused:
        file_birth_registration(staff, point)
    assert "Tạm đóng cửa: Mất điện" in str(refused.value.message)
    with pytest.raises(ValidationFailed) as overlapping, unit_of_work(manager.partner_scope(partner.id)) as session:
        hours.add_closure(
            session, manager, point.id, {"starts_on": today.isoformat(), "ends_on": today.isoformat(), "reason": "x"}
        )
    assert overlapping.value.field_errors == {"starts_on": "Trùng với một đợt tạm đóng cửa đã có"}
    with unit_of_work(manager.partner_scope(partner.id)) as session:
        hours.cancel_closure(session, manager, point.id, closure.id)
    assert file_birth_registration(staff, point).tracking_code
    assert [e.action for e in _audit("agent_point.closure_added", point.id)] == ["agent_point.closure_added"]
    assert len(_audit("agent_point.closure_cancelled", point.id)) == 1


def test_on_a_public_holiday_a_point_that_closes_for_holidays_does_not_file(counter):
    _, point, staff, _ = counter
    today = hours.hanoi_now().date()
    with unit_of_work(Scope.network("test decrees a day off", actor_label="test")) as session:
        if session.get(CalendarOverride, today) is not None:
            pytest.skip("today already carries a calendar override")
        session.add(CalendarOverride(day=today, kind="day_off", reason="test: a decreed day off"))
    try:
        with pytest.raises(Conflict) as refused:
            file_birth_registration(staff, point)
        assert "Nghỉ lễ" in str(refused.value.message)
    finally:
        with unit_of_work(Scope.network("test lifts the day off", actor_label="test")) as session:
            session.delete(session.get(CalendarOverride, today))


def test_a_point_that_is_not_approved_does_not_file(counter):
    _, point, staff, _ = counter
    with unit_of_work(Scope.network("test closes the point", actor_label="test")) as session:
        session.get(AgentPoint, point.id).status = AgentPointStatus.closed
    with pytest.raises(Exception, match="chưa được Trung tâm phê duyệt"):
        file_birth_registration(staff, point)


def test_the_offered_procedures_are_chosen_from_the_catalogue_and_audited(counter):
    partner, _, _, manager = counter
    point = create_point(partner, offers_catalogue=False)
    with unit_of_work(manager.partner_scope(partner.id)) as session:
        offer.set_offered(session, manager, point.id, ["1.001193", "2.000815"])
    with pytest.raises(ValidationFailed) as refused, unit_of_work(manager.partner_scope(partner.id)) as session:
        offer.set_offered(session, manager, point.id, ["1.001193", "9.999999"])
    assert refused.value.field_errors == {"procedures": "Có thủ tục không được phép chọn"}
    assert "9.999999" in str(refused.value.message)
    with unit_of_work(manager.partner_scope(partner.id)) as session:
        offer.set_offered(session, manager, point.id, ["2.000815"])
    with read_only(manager.partner_scope(partner.id)) as session:
        assert offer.offered_codes(session, [point.id]) == {point.id: {"2.000815"}}
        # the partner's scope sees its own rows only
        assert {row.partner_id for row in session.scalars(select(PointProcedure))} == {partner.id}
    changes = [e.detail for e in _audit("agent_point.procedures_changed", point.id)]
    assert changes == [
        {"added": ["1.001193", "2.000815"], "removed": []},
        {"added": [], "removed": ["1.001193"]},
    ]


def test_a_point_outside_hanois_bounds_or_in_an_unknown_ward_is_refused_naming_the_field():
    partner = create_partner()
    manager = create_person((Role.partner_manager, partner, None))
    fields = {
        "code": f"X{uuid.uuid4().hex[:5]}",
        "name": "Điểm Sài Gòn",
        "address": "1 Lê Lợi",
        "ward": "Phường Bến Thành",
        "latitude": "10.77",
        "longitude": "106.70",
    }
    with pytest.raises(ValidationFailed) as refused, unit_of_work(manager.partner_scope(partner.id)) as session:
        points.register_point(session, manager, fields)
    assert refused.value.field_errors == {
        "ward": "Không phải phường, xã của Hà Nội",
        "latitude": "Tọa độ nằm ngoài Hà Nội",
        "longitude": "Tọa độ nằm ngoài Hà Nội",
    }
    with read_only(manager.partner_scope(partner.id)) as session:
        assert session.scalars(select(AgentPoint)).all() == []
    with unit_of_work(manager.partner_scope(partner.id)) as session:
        point = points.register_point(
            session, manager, {**fields, "ward": "00070", "latitude": "21.03", "longitude": "105.85"}
        )
        assert (point.ward, point.ward_code) == ("Phường Hoàn Kiếm", "00070")
