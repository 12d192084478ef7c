"""The city's status reports: recorded once, in order, whether polled or pushed."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from agents.city.wire import CityUpdate
from agents.dossiers import city_status, tasks
from agents.dossiers.models import CityStatus
from portal.core.audit import AuditEvent
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope
from tests.factories import (
    file_birth_registration,
    reload_dossier,
    worker_scope,
)
from tests.races import race


def test_polling_the_city_records_its_status_history_once(counter, city, city_simulator):
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    tasks.forward_dossier(dossier.id, worker_scope(partner), city)
    code = reload_dossier(dossier.id).city_dossier_code
    assert city_simulator.advance(code) == 2
    assert city_simulator.advance(code) == 4
    assert tasks.sync_status_from_city(dossier.id, worker_scope(partner), city) == 3  # 1, 2, 4
    assert tasks.sync_status_from_city(dossier.id, worker_scope(partner), city) == 0  # nothing new
    stored = reload_dossier(dossier.id)
    assert stored.city_status == CityStatus.processing
    assert [e.city_status for e in stored.events if e.source == "city"] == [1, 2, 4]


def _update(code, status, seq, *, event_id=None, minutes=0):
    return CityUpdate(
        event_id=event_id or uuid.uuid4().hex,
        seq=seq,
        status=status,
        occurred_at=datetime.now(UTC) + timedelta(minutes=minutes),
        city_dossier_code=code,
    )


def test_duplicate_and_late_status_reports_never_move_a_dossier_backwards(counter, city):
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    tasks.forward_dossier(dossier.id, worker_scope(partner), city)
    code = reload_dossier(dossier.id).city_dossier_code
    scope = Scope.network("test: city callbacks", actor_label="city system")
    nine = f"evt-{uuid.uuid4().hex}"
    with unit_of_work(scope) as session:
        assert city_status.apply_city_update(session, _update(code, 9, 4, event_id=nine, minutes=3)) == "applied"
        assert city_status.apply_city_update(session, _update(code, 9, 4, event_id=nine, minutes=3)) == "duplicate"
        assert city_status.apply_city_update(session, _update(code, 4, 3, minutes=2)) == "late"
    stored = reload_dossier(dossier.id)
    assert stored.city_status == CityStatus.processed
    assert stored.finished_at is not None
    assert sorted(e.city_status for e in stored.events if e.source == "city") == [4, 9]


def test_a_report_for_an_unknown_dossier_is_refused(city):
    from portal.core.errors import NotFound

    with unit_of_work(Scope.network("test", actor_label="city system")) as session, pytest.raises(NotFound):
        city_status.apply_city_update(session, _update("H01.22-000000-000000", 2, 1))


def test_the_same_status_report_arriving_twice_at_once_is_stored_once(counter, city):
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    tasks.forward_dossier(dossier.id, worker_scope(partner), city)
    code = reload_dossier(dossier.id).city_dossier_code
    report = _update(code, 2, 2, event_id=f"evt-{uuid.uuid4().hex}")
    scope = Scope.network("test: concurrent callbacks", actor_label="city system")

    def first(hold):
        with unit_of_work(scope) as session:
            outcome = city_status.apply_city_update(session, report)
            hold()
            return outcome

    def second():
        with unit_of_work(scope) as session:
            return city_status.apply_city_update(session, report)

    assert race(first, second) == ("applied", "duplicate")
    assert [e.city_status for e in reload_dossier(dossier.id).events if e.source == "city"] == [2]


def test_a_finished_dossier_reported_back_at_refused_keeps_its_status_and_records_the_refusal(counter, city):
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    tasks.forward_dossier(dossier.id, worker_scope(partner), city)
    code = reload_dossier(dossier.id).city_dossier_code
    scope = Scope.network("test: city callbacks", actor_label="city system")
    with unit_of_work(scope) as session:
        for seq, status in enumerate([1, 2, 4, 9, 10], start=1):
            assert city_status.apply_city_update(session, _update(code, status, seq)) == "applied"
        backwards = _update(code, 3, 6, event_id=f"evt-{uuid.uuid4().hex}")
        assert city_status.apply_city_update(session, backwards) is city_status.ReportOutcome.refused
        assert city_status.apply_city_update(session, backwards) is city_status.ReportOutcome.duplicate
    stored = reload_dossier(dossier.id)
    assert (stored.city_status, stored.city_status_seq) == (10, 5)  # nothing moved
    [refused] = [e for e in stored.events if e.city_event_id == backwards.event_id]
    assert (refused.city_status, refused.refused_after) == (3, 10)  # in the history, and why
    with unit_of_work(scope) as session:
        entry = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "dossier.city_status", AuditEvent.object_id == str(dossier.id))
            .order_by(AuditEvent.seq.desc())
        ).first()
    assert entry.detail["outcome"] == "refused" and entry.detail["refused_after"] == 10


def _flow_through_the_simulator(city_simulator, code, steps):
    """Drive the simulator: "advance" takes its own next step; a number forces that status."""
    for step in steps:
        if step == "advance":
            city_simulator.advance(code)
        else:
            city_simulator.set_status(code, step)


@pytest.mark.parametrize(
    ("knobs", "steps", "expected"),
    [
        ({}, ["advance"] * 4, [1, 2, 4, 9, 10]),
        ({"refuse_rate": 1.0}, ["advance"], [1, 3]),
        ({"supplement_rate": 1.0}, ["advance"] * 6, [1, 2, 4, 5, 4, 9, 10]),
        ({}, ["advance", "advance", 6, "advance", "advance", "advance"], [1, 2, 4, 6, 4, 9, 10]),
        ({}, ["advance", 7], [1, 2, 7]),
        ({}, ["advance", "advance", 8], [1, 2, 4, 8]),
    ],
    ids=["result", "refused", "documents", "fee", "withdrawn", "stopped"],
)
def test_every_flow_the_city_produces_is_followed_without_a_refusal(
    counter, city, city_simulator, knobs, steps, expected
):
    partner, point, staff = counter
    city_simulator.configure(**knobs)
    dossier = file_birth_registration(staff, point)
    tasks.forward_dossier(dossier.id, worker_scope(partner), city)
    code = reload_dossier(dossier.id).city_dossier_code
    _flow_through_the_simulator(city_simulator, code, steps)
    tasks.sync_status_from_city(dossier.id, worker_scope(partner), city)
    stored = reload_dossier(dossier.id)
    city_events = sorted((e for e in stored.events if e.source == "city"), key=lambda e: e.city_seq)
    assert [e.city_status for e in city_events] == expected
    assert [e for e in city_events if e.refused_after is not None] == []
    assert stored.city_status == expected[-1]
