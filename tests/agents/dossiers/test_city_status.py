"""The city's status reports: recorded once, in order, whether polled or pushed."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from agents.city.wire import CityUpdate
from agents.dossiers import city_status, tasks
from agents.dossiers.models import CityStatus
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
