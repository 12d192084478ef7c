"""Dossiers that need someone: the city never took one, never acknowledged one, or its due date is near or past."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from agents.city.wire import CityUpdate
from agents.dossiers import attention, city_status, forwarding, tasks
from agents.dossiers.models import Dossier, DossierState
from agents.dossiers.schemas import DossierOut
from portal.core.audit import AuditEvent
from portal.core.db import unit_of_work
from portal.core.errors import Conflict
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from tests.factories import file_birth_registration, reload_dossier, worker_scope

CENTER = Scope.network("test: the center's attention lists", actor_label="center admin")
ACK = timedelta(minutes=30)


def _lists(actor=None, scope=CENTER) -> attention.Attention:
    with unit_of_work(scope) as session:
        lists = attention.needing_attention(session, actor, ack_timeout=ACK)
        session.expunge_all()
        return lists


def _ids(dossiers) -> set[uuid.UUID]:
    return {d.id for d in dossiers}


def _set(dossier_id, **values) -> None:
    with unit_of_work(CENTER) as session:
        session.execute(update(Dossier).where(Dossier.id == dossier_id).values(**values))


def test_a_dossier_the_city_never_takes_ends_forward_failed_for_the_center_to_send_again(counter, city, city_simulator):
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    limit = get_settings().forwarding.give_up_after_attempts
    city_simulator.configure(down=True)
    kinds = [tasks.forward_dossier(dossier.id, worker_scope(partner), city).kind.value for _ in range(limit)]
    assert kinds == ["retry"] * (limit - 1) + ["gave_up"]
    assert tasks.forward_dossier(dossier.id, worker_scope(partner), city).kind.value == "already_done"
    stored = reload_dossier(dossier.id)
    assert stored.state is DossierState.forward_failed and stored.forward_attempts == limit
    assert dossier.id in _ids(_lists().forward_failed)
    with unit_of_work(CENTER) as session:  # the sweeper leaves it alone: it is no longer queued
        assert dossier.id not in {d for d, _ in forwarding.claim_unforwarded_dossiers(session, timedelta(0))}

    city_simulator.configure(down=False)
    with unit_of_work(CENTER) as session:
        forwarding.send_again(session, dossier.id)
    again = reload_dossier(dossier.id)
    assert (again.state, again.forward_attempts) == (DossierState.queued, 0)
    assert tasks.forward_dossier(dossier.id, worker_scope(partner), city).kind.value == "forwarded"
    with unit_of_work(CENTER) as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.object_id == str(dossier.id)).order_by(AuditEvent.seq)
        ).all()
        try:
            forwarding.send_again(session, dossier.id)
            raise AssertionError("a forwarded dossier cannot be sent again")
        except Conflict:
            pass
    assert actions[-3:] == ["dossier.forward_failed", "dossier.sent_again", "dossier.forwarded"]
    assert [e.state for e in again.events if e.source == "portal"] == ["queued", "forward_failed", "queued"]


def test_a_forwarded_dossier_the_city_has_not_acknowledged_in_time_is_listed(counter, city):
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    tasks.forward_dossier(dossier.id, worker_scope(partner), city)
    assert dossier.id not in _ids(_lists().unacknowledged)  # just sent: give the office its time
    _set(dossier.id, forwarded_at=datetime.now(UTC) - ACK - timedelta(minutes=1))
    assert dossier.id in _ids(_lists().unacknowledged)
    code = reload_dossier(dossier.id).city_dossier_code
    with unit_of_work(CENTER) as session:
        for seq, status in ((1, 1), (2, 2)):
            report = CityUpdate(uuid.uuid4().hex, seq, status, datetime.now(UTC), city_dossier_code=code)
            city_status.apply_city_update(session, report)
    assert dossier.id not in _ids(_lists().unacknowledged)  # received (2): acknowledged


def test_due_soon_and_overdue_follow_the_citys_date_and_end_when_the_city_finishes(counter, city):
    partner, point, staff = counter
    soon, late = file_birth_registration(staff, point), file_birth_registration(staff, point)
    for d in (soon, late):
        tasks.forward_dossier(d.id, worker_scope(partner), city)
    _set(soon.id, due_at=datetime.now(UTC) + timedelta(hours=3))
    _set(late.id, due_at=datetime.now(UTC) - timedelta(hours=3))
    lists = _lists(staff, staff.partner_scope(partner.id))
    assert soon.id in _ids(lists.due_soon) and soon.id not in _ids(lists.overdue)
    assert late.id in _ids(lists.overdue) and late.id not in _ids(lists.due_soon)
    assert attention.is_overdue(reload_dossier(late.id)) and not attention.is_overdue(reload_dossier(soon.id))
    shown = DossierOut.of(reload_dossier(late.id))
    assert shown.overdue and shown.due_date is not None and shown.supplement_count == 0

    _set(late.id, city_status=10)  # returned: done, whatever the date
    assert late.id not in _ids(_lists().overdue)
    assert not attention.is_overdue(reload_dossier(late.id))


def test_a_point_sees_only_its_own_dossiers_needing_attention(counter, city):
    from tests.factories import create_counter

    partner, point, staff = counter
    mine = file_birth_registration(staff, point)
    other_partner, other_point, other_staff = create_counter()
    theirs = file_birth_registration(other_staff, other_point)
    for owner, d in ((partner, mine), (other_partner, theirs)):
        tasks.forward_dossier(d.id, worker_scope(owner), city)
        _set(d.id, due_at=datetime.now(UTC) - timedelta(hours=1))
    seen = _ids(_lists(staff, staff.partner_scope(partner.id)).overdue)
    assert mine.id in seen and theirs.id not in seen
    assert {mine.id, theirs.id} <= _ids(_lists().overdue)  # the center sees both


def test_the_api_counts_the_citys_requests_for_more_documents(counter, city):
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    tasks.forward_dossier(dossier.id, worker_scope(partner), city)
    code = reload_dossier(dossier.id).city_dossier_code
    with unit_of_work(CENTER) as session:
        for seq, status in ((1, 1), (2, 2), (3, 4), (4, 5)):
            report = CityUpdate(uuid.uuid4().hex, seq, status, datetime.now(UTC), city_dossier_code=code)
            city_status.apply_city_update(session, report)
    assert DossierOut.of(reload_dossier(dossier.id)).supplement_count == 1
