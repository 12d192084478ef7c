"""End to end: a burst filed through a city outage, then an unsteady city, reaches the city once and the citizen once.

Web, worker with beat, the city simulator, the SMS gateway simulator and a local SMTP server. The city
is down while a burst of dossiers is filed; it comes back answering a share of requests with errors,
losing a share of its answers after taking the dossier, and sending every callback twice and newest
first; then it steadies. Afterwards the city's own records hold each dossier once, our history holds
each status once, and the citizen got each news once per channel. A report that arrives after a newer
one is history, not news: nobody is told "received" after "returned" (the newest status always is news).
"""

import mailbox
import uuid

import pytest
from sqlalchemy import select

from agents.dossiers.models import DossierState
from agents.notifications.models import DeliveryState, Notification
from portal.core.audit import AuditEvent
from portal.core.db import read_only
from tests.e2e.conftest import file_at_the_counter
from tests.factories import create_counter, reload_dossier, setup_scope

pytestmark = [pytest.mark.stack, pytest.mark.parametrize("stack", ["filesystem", "redis"], indirect=True)]

BURST = 4
NEWS = {2, 9, 10}  # received, result ready, returned (agents/notifications/rules.py)
UNSTEADY = {"error_rate": 0.3, "lost_response_rate": 0.3, "duplicate_callbacks": True, "out_of_order": True}
STEADY = {
    "down": False,
    "error_rate": 0.0,
    "lost_response_rate": 0.0,
    "duplicate_callbacks": False,
    "out_of_order": False,
}


@pytest.fixture(scope="module")
def counter():
    return create_counter("Bưu điện Sức bền")


def _notifications(dossier_ids: list[uuid.UUID]) -> list[Notification]:
    with read_only(setup_scope()) as session:
        rows = list(session.scalars(select(Notification).where(Notification.dossier_id.in_(dossier_ids))))
        session.expunge_all()
        return rows


def _news(dossier_id: uuid.UUID) -> set[int]:
    """The statuses the citizen is told of that moved this dossier when they arrived (the audit says which)."""
    with read_only(setup_scope()) as session:
        entries = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "dossier.city_status", AuditEvent.object_id == str(dossier_id)
            )
        )
        return {e.detail["status"] for e in entries if e.detail.get("outcome") == "applied"} & NEWS


def test_a_burst_through_an_outage_and_an_unsteady_city_is_at_the_city_once_and_tells_the_citizen_once(stack, counter):
    _partner, _point, staff = counter
    filed: list[tuple[uuid.UUID, str]] = []
    stack.configure_city(down=True)
    try:
        for n in range(BURST):
            _, dossier_id, code = file_at_the_counter(
                stack, staff, notify_sms="on", notify_email=f"suc.ben.{n}@example.vn"
            )
            filed.append((uuid.UUID(dossier_id), code))
        ids = [dossier_id for dossier_id, _ in filed]
        stack.wait_for(
            lambda: all(reload_dossier(d).forward_attempts >= 1 for d in ids), what="every dossier tried in the outage"
        )
        assert {reload_dossier(d).state for d in ids} == {DossierState.queued}

        stack.configure_city(down=False, **UNSTEADY)
        stack.wait_for(
            lambda: all(reload_dossier(d).state is DossierState.forwarded for d in ids),
            what="every dossier forwarded through errors and lost answers",
        )
        stack.wait_for(
            lambda: all(reload_dossier(d).city_status == 10 for d in ids),
            what="status 10 for every dossier through doubled, reordered callbacks",
        )
    finally:
        stack.configure_city(**STEADY)

    for dossier_id, code in filed:
        dossier = reload_dossier(dossier_id)
        copies = stack.city_dossiers(code)
        assert [c["MaHoSo"] for c in copies] == [dossier.city_dossier_code], "the city holds each dossier once"
        stack.settled_callbacks(dossier.city_dossier_code, at_least=10)  # every status twice, all delivered
        final = reload_dossier(dossier_id)
        assert sorted(e.city_status for e in final.events if e.city_status) == [1, 2, 4, 9, 10]
        assert final.city_status == 10

    news = {dossier_id: _news(dossier_id) for dossier_id in ids}
    assert all(10 in statuses for statuses in news.values()), "the newest status is always news"

    def all_sent():  # type: ignore[no-untyped-def]
        rows = _notifications(ids)
        done = [r for r in rows if r.state in (DeliveryState.accepted, DeliveryState.delivered)]
        expected = 2 * sum(len(statuses) for statuses in news.values())
        return rows if len(rows) == expected and len(done) == len(rows) else None

    try:
        rows = stack.wait_for(all_sent, what="each news once per channel for every dossier")
    except AssertionError as timed_out:
        seen = sorted(
            (str(r.dossier_id)[:8], r.channel.value, r.city_status, r.state.value) for r in _notifications(ids)
        )
        raise AssertionError(f"{timed_out}; news {news}; messages so far: {seen}") from None
    for dossier_id, code in filed:
        mine = sorted((r.channel.value, r.city_status) for r in rows if r.dossier_id == dossier_id)
        assert mine == sorted((channel, status) for status in news[dossier_id] for channel in ("email", "sms"))
        texts = [m for m in stack.sms.get("/_sim/messages").json()["items"] if code in m["Content"]]
        assert len(texts) == len(news[dossier_id]), "one text per news, none twice"
        mails = [m for m in mailbox.Maildir(stack.maildir, create=False) if code in m.get_payload(decode=True).decode()]
        assert len(mails) == len(news[dossier_id]), "one mail per news, none twice"
