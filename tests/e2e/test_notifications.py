"""End to end: the citizen who chose SMS and email is told of each news once, through the real processes.

Web, worker with beat, the city simulator, the SMS gateway simulator and a local SMTP server, on each
broker: the city reports 1, 2, 4, 9, 10 (with duplicate callbacks); the citizen gets "received",
"result ready" and "returned", once per channel, and the gateway's delivery reports come back.
"""

import mailbox
import uuid

import pytest

from agents.notifications.models import Channel, DeliveryState, Notification
from portal.core.db import read_only
from tests.e2e.conftest import file_at_the_counter
from tests.factories import create_counter, reload_dossier, setup_scope

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def counter():
    return create_counter("Bưu điện Tin báo")


def _messages(dossier_id: uuid.UUID) -> list[Notification]:
    from sqlalchemy import select

    with read_only(setup_scope()) as session:
        rows = list(session.scalars(select(Notification).where(Notification.dossier_id == dossier_id)))
        session.expunge_all()
        return rows


def test_each_news_reaches_the_citizen_once_per_channel_and_the_sms_are_delivered(stack, counter):
    _partner, _point, staff = counter
    stack.configure_city(duplicate_callbacks=True)  # every callback twice: still one message each
    try:
        _client, dossier_id, code = file_at_the_counter(
            stack, staff, notify_sms="on", notify_email="an.nguyen@example.vn"
        )
        stack.wait_for(lambda: reload_dossier(uuid.UUID(dossier_id)).city_status == 10, what="status 10")
    finally:
        stack.configure_city(duplicate_callbacks=False)

    def all_settled():
        rows = _messages(uuid.UUID(dossier_id))
        done = {DeliveryState.accepted, DeliveryState.delivered}
        sms_done = [r for r in rows if r.channel is Channel.sms and r.state is DeliveryState.delivered]
        if len(rows) == 6 and all(r.state in done for r in rows) and len(sms_done) == 3:
            return rows
        return None

    rows = stack.wait_for(all_settled, what="three messages per channel, the SMS delivered")
    assert sorted((r.channel.value, r.city_status) for r in rows) == [
        ("email", 2),
        ("email", 9),
        ("email", 10),
        ("sms", 2),
        ("sms", 9),
        ("sms", 10),
    ]
    texts = [m for m in stack.sms.get("/_sim/messages").json()["items"] if code in m["Content"]]
    assert len(texts) == 3, "one text per news, none twice"
    mails = [m for m in mailbox.Maildir(stack.maildir, create=False) if code in m.get_payload(decode=True).decode()]
    assert len(mails) == 3
