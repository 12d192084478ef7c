"""Dossiers the city is silent on are asked about at their own turn, less often while nothing comes.

Each poll that brings no news doubles the wait before the next one, up to a ceiling; news starts
the count again; finished dossiers are never asked about. The oldest turn comes first, so a batch
limit cannot starve anyone. Time passing is played by moving a dossier's timestamps back; the
silence used here (a year) keeps every other test's fresh dossiers out of these batches.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from agents.city.wire import CityUpdate
from agents.dossiers import city_status, tasks
from agents.dossiers.models import CityPoll, Dossier
from portal.core.db import read_only, unit_of_work
from portal.core.tenancy import Scope
from tests.factories import file_birth_registration, reload_dossier, worker_scope

SILENCE = timedelta(days=365)
CEILING = SILENCE * 4


def _network():
    return Scope.network("test: the poller's schedule", actor_label="test")


def _claim(limit=500):
    with unit_of_work(_network()) as session:
        return [dossier_id for dossier_id, _ in city_status.claim_silent_dossiers(session, SILENCE, CEILING, limit)]


def _forwarded(counter, city):
    partner, point, staff = counter
    dossier = file_birth_registration(staff, point)
    tasks.forward_dossier(dossier.id, worker_scope(partner), city)
    return dossier.id


def _time_passes(dossier_id, delta):
    """Everything this dossier and its poll remember happened `delta` earlier."""
    with unit_of_work(_network()) as session:
        changed = session.scalar(select(Dossier.updated_at).where(Dossier.id == dossier_id))
        session.execute(update(Dossier).where(Dossier.id == dossier_id).values(updated_at=changed - delta))
        poll = session.get(CityPoll, dossier_id)
        if poll is not None:
            poll.last_polled_at -= delta
            poll.next_poll_at -= delta


def _poll(dossier_id):
    with read_only(_network()) as session:
        poll = session.get(CityPoll, dossier_id)
        return poll.polls, poll.next_poll_at - poll.last_polled_at


def test_a_silent_dossier_is_asked_about_once_per_turn_and_the_wait_doubles_up_to_a_ceiling(counter, city):
    dossier_id = _forwarded(counter, city)
    assert dossier_id not in _claim()  # not silent long enough yet
    _time_passes(dossier_id, SILENCE + timedelta(days=1))

    assert dossier_id in _claim()
    assert _poll(dossier_id) == (1, SILENCE)
    assert dossier_id not in _claim()  # its turn is taken: the next sweep leaves it alone

    waits = []
    for _ in range(4):
        _time_passes(dossier_id, _poll(dossier_id)[1])
        assert dossier_id in _claim()
        waits.append(_poll(dossier_id))
    assert waits == [(2, SILENCE * 2), (3, CEILING), (4, CEILING), (5, CEILING)]


def test_news_from_the_city_starts_the_count_again(counter, city, city_simulator):
    dossier_id = _forwarded(counter, city)
    for _ in range(3):
        _time_passes(dossier_id, SILENCE * 4)
        assert dossier_id in _claim()
    assert _poll(dossier_id) == (3, CEILING)

    code = reload_dossier(dossier_id).city_dossier_code
    with unit_of_work(Scope.network("test: a city callback", actor_label="city system")) as session:
        news = CityUpdate(
            event_id=f"evt-{code}-2", seq=2, status=2, occurred_at=datetime.now(UTC), city_dossier_code=code
        )
        assert city_status.apply_city_update(session, news) == "applied"
    _time_passes(dossier_id, SILENCE + timedelta(days=1))

    assert dossier_id in _claim()
    assert _poll(dossier_id) == (1, SILENCE)


def test_the_longest_waiting_turn_comes_first_so_a_batch_limit_starves_nobody(counter, city):
    first, second = _forwarded(counter, city), _forwarded(counter, city)
    _time_passes(second, SILENCE + timedelta(days=1))
    assert second in _claim()  # the second one has had a turn ...
    _time_passes(second, SILENCE)  # ... and its next one is due again
    _time_passes(first, SILENCE + timedelta(days=1))  # the first is silent now too, never asked

    assert _claim(limit=1) == [first]  # never asked beats asked before
    assert _claim(limit=1) == [second]
    assert first not in _claim() and second not in _claim()


def test_a_finished_dossier_is_never_asked_about(counter, city):
    dossier_id = _forwarded(counter, city)
    code = reload_dossier(dossier_id).city_dossier_code
    with unit_of_work(Scope.network("test: a city callback", actor_label="city system")) as session:
        done = CityUpdate(
            event_id=f"evt-{code}-10", seq=9, status=10, occurred_at=datetime.now(UTC), city_dossier_code=code
        )
        assert city_status.apply_city_update(session, done) == "applied"
    _time_passes(dossier_id, SILENCE * 10)
    assert dossier_id not in _claim()
