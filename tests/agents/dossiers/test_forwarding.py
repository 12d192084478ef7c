"""Forwarding dossiers to the city one-stop system, over real HTTP to its simulator."""

import uuid

from agents.dossiers import filing, tasks
from agents.dossiers.models import DossierState
from portal.core.db import unit_of_work
from tests.factories import (
    file_birth_registration,
    publish_procedure,
    reload_dossier,
    worker_scope,
)


def _sim_copies(city_simulator, tracking_code):
    return [d for d in city_simulator.dossiers() if d["MaHoSoDoiTac"] == tracking_code]


def test_a_queued_dossier_is_filed_once_and_gets_the_citys_code_and_due_date(counter, city, city_simulator):
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    outcome = tasks.forward_dossier(dossier.id, worker_scope(partner), city)
    assert outcome.kind == "forwarded"
    stored = reload_dossier(dossier.id)
    assert stored.state is DossierState.forwarded
    assert stored.city_dossier_code == outcome.detail
    assert stored.due_at is not None and stored.due_at > stored.submitted_at
    assert [e.state for e in stored.events if e.source == "portal"] == ["queued", "forwarded"]
    # A second run (a redelivered message, the sweeper) changes nothing and files nothing.
    assert tasks.forward_dossier(dossier.id, worker_scope(partner), city).kind == "already_done"
    assert len(_sim_copies(city_simulator, dossier.tracking_code)) == 1


def test_while_the_city_is_down_the_dossier_waits_queued_and_goes_through_when_it_returns(
    counter, city, city_simulator
):
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    city_simulator.configure(down=True)
    outcome = tasks.forward_dossier(dossier.id, worker_scope(partner), city)
    assert outcome.kind == "retry"
    waiting = reload_dossier(dossier.id)
    assert waiting.state is DossierState.queued
    assert waiting.forward_attempts == 1 and "503" in (waiting.last_error or "")
    city_simulator.configure(down=False)
    assert tasks.forward_dossier(dossier.id, worker_scope(partner), city).kind == "forwarded"
    assert reload_dossier(dossier.id).last_error is None


def test_a_lost_answer_is_retried_with_the_same_key_and_files_only_once(counter, city, city_simulator):
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    city_simulator.configure(lost_response_rate=1.0)  # the city files it, but we never hear back
    assert tasks.forward_dossier(dossier.id, worker_scope(partner), city).kind == "retry"
    city_simulator.configure(lost_response_rate=0.0)
    assert tasks.forward_dossier(dossier.id, worker_scope(partner), city).kind == "forwarded"
    copies = _sim_copies(city_simulator, dossier.tracking_code)
    assert len(copies) == 1
    assert reload_dossier(dossier.id).city_dossier_code == copies[0]["MaHoSo"]


def test_a_refusal_by_the_city_is_final_and_its_reason_is_kept(counter, city, city_simulator):
    partner, point, staff = counter
    # A procedure the portal publishes but the city's catalogue does not know.
    publish_procedure("9.000001", name="Thủ tục thử nghiệm")
    with unit_of_work(staff.partner_scope(partner.id)) as session:
        dossier = filing.file_dossier(
            session,
            staff,
            filing.FilingRequest(
                "9.000001",
                point.id,
                uuid.uuid4().hex,
                {
                    "owner_full_name": "Lê Thị Cúc",
                    "owner_id_number": "001190000002",
                    "owner_birth_date": "1985-05-05",
                    "owner_phone": "0988000111",
                    "owner_address": "3 Lý Thái Tổ",
                },
                {},
            ),
        ).dossier
    outcome = tasks.forward_dossier(dossier.id, worker_scope(partner), city)
    assert outcome.kind == "rejected"
    stored = reload_dossier(dossier.id)
    assert stored.state is DossierState.rejected
    assert "unknown_procedure" in stored.last_error or "422" in stored.last_error
    assert tasks.forward_dossier(dossier.id, worker_scope(partner), city).kind == "already_done"


def test_the_sweeper_sends_a_waiting_dossier_again_once_per_interval_not_at_every_sweep(counter):
    """A message stuck behind a slow worker: each sweep that re-sent it anyway would add another copy."""
    from datetime import timedelta

    from sqlalchemy import update

    from agents.dossiers import forwarding
    from agents.dossiers.models import Dossier
    from portal.core.tenancy import Scope

    _partner, point, staff = counter
    dossier = file_birth_registration(staff, point)  # its message is never read here: it waits
    sweeper = Scope.network("test: the sweeper", actor_label="test")
    interval = timedelta(minutes=5)
    with unit_of_work(sweeper) as session:
        assert dossier.id not in {d for d, _ in forwarding.claim_unforwarded_dossiers(session, interval)}
    long_ago = reload_dossier(dossier.id).updated_at - interval * 2
    with unit_of_work(sweeper) as session:
        session.execute(update(Dossier).where(Dossier.id == dossier.id).values(updated_at=long_ago))
    with unit_of_work(sweeper) as session:
        assert dossier.id in {d for d, _ in forwarding.claim_unforwarded_dossiers(session, interval)}
    with unit_of_work(sweeper) as session:  # the next sweep, moments later
        assert dossier.id not in {d for d, _ in forwarding.claim_unforwarded_dossiers(session, interval)}
    assert reload_dossier(dossier.id).state is DossierState.queued
