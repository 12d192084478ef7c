"""The outbox: a status the citizen cares about becomes one message per chosen channel, sent once, state kept.

Real parts only: the SMS gateway simulator over HTTP, an SMTP server writing a Maildir, our
own web app receiving the gateway's signed delivery reports, and the database.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from agents.city.wire import CityUpdate
from agents.dossiers import city_status
from agents.notifications import outbox
from agents.notifications.email import EmailSender
from agents.notifications.models import Channel, DeliveryState, Notification
from agents.notifications.rules import NotificationKind
from agents.notifications.sms import SmsGatewayClient
from agents.notifications.tasks import Providers, send_notification, sweep
from portal.core.audit import AuditEvent
from portal.core.db import unit_of_work
from portal.core.errors import ValidationFailed
from portal.core.settings import get_settings
from portal.core.tenancy import Scope
from simulators.sms.app import create_app as create_gateway
from simulators.sms.config import DEFAULT_ACCOUNTS, SmsSimConfig
from simulators.smtp import InProcessMailServer
from tests.factories import create_counter, file_birth_registration, worker_scope
from tests.servers import serve_in_thread

NETWORK = Scope.network("test reads the outbox", actor_label="test")


@pytest.fixture(scope="module")
def counter():
    return create_counter()


@pytest.fixture(scope="module")
def portal_url() -> Iterator[str]:
    """Our own web app, where the gateway posts its delivery reports."""
    from portal.app import create_app

    with serve_in_thread(lambda _: create_app()) as (url, _):
        yield url


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    # The demo account: its report secret is the portal's SMS_WEBHOOK_SECRET default.
    config = SmsSimConfig(accounts=DEFAULT_ACCOUNTS, delivery_delay_seconds=0, report_retry_base=0.05, seed=11)
    with serve_in_thread(lambda _: create_gateway(config)) as (url, _):
        yield url


@pytest.fixture
def gateway(gateway_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway_url, timeout=10) as control:
        assert control.post("/_sim/reset").status_code == 200
        yield control


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[InProcessMailServer]:
    with InProcessMailServer(tmp_path / "maildir") as server:
        yield server


@pytest.fixture
def providers(gateway: httpx.Client, gateway_url: str, portal_url: str, mailbox: InProcessMailServer):
    settings = get_settings()
    sms = SmsGatewayClient(
        gateway_url, settings.sms.api_key, settings.sms.brand, callback_url=portal_url + outbox.SMS_REPORTS_PATH
    )
    yield Providers(sms, EmailSender("127.0.0.1", mailbox.port, settings.mail.sender))
    sms.close()


def _file(counter, *, sms: bool = True, email: str | None = "an.nguyen@example.vn", **citizen_overrides: str):
    _, point, staff = counter
    return file_birth_registration(staff, point, notify_sms=sms, notify_email=email, **citizen_overrides)


def _report(dossier, status: int, seq: int) -> str:
    update_ = CityUpdate(
        event_id=uuid.uuid4().hex,
        seq=seq,
        status=status,
        occurred_at=datetime.now(UTC),
        tracking_code=dossier.tracking_code,
        note="Bổ sung bản sao giấy chứng sinh" if status == 5 else "",
    )
    with unit_of_work(Scope.network("test: city callbacks", actor_label="city system")) as session:
        return city_status.apply_city_update(session, update_).value


def _received(dossier) -> None:
    """The city takes the dossier in: status 1, then 2 (the status that tells the citizen)."""
    assert [_report(dossier, 1, 1), _report(dossier, 2, 2)] == ["applied", "applied"]


def _messages(dossier_id) -> list[Notification]:
    with unit_of_work(NETWORK) as session:
        rows = list(
            session.scalars(
                select(Notification).where(Notification.dossier_id == dossier_id).order_by(Notification.channel)
            )
        )
        session.expunge_all()
        return rows


def _send_all(counter, dossier_id, via: Providers) -> list[float | None]:
    partner = counter[0]
    return [send_notification(row.id, worker_scope(partner), via) for row in _messages(dossier_id)]


def _wait_for(condition, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_a_status_the_citizen_cares_about_writes_one_message_per_chosen_channel_and_only_once(counter):
    dossier = _file(counter)
    assert _messages(dossier.id) == []  # nothing before the city has said anything
    assert _report(dossier, 1, 1) == "applied"
    assert _messages(dossier.id) == []  # status 1 (new) is not news for the citizen
    assert _report(dossier, 2, 2) == "applied"
    assert _report(dossier, 2, 2) == "late"  # the same status reported again under another event id
    rows = _messages(dossier.id)
    assert [(r.channel, r.kind, r.city_status, r.state) for r in rows] == [
        (Channel.email, NotificationKind.received, 2, DeliveryState.pending),
        (Channel.sms, NotificationKind.received, 2, DeliveryState.pending),
    ]
    sms = next(r for r in rows if r.channel is Channel.sms)
    assert dossier.tracking_code in sms.body and "Nguyễn Văn An" not in sms.body  # a phone may be shared
    assert sms.recipient == "0912345678"
    _report(dossier, 4, 3)
    assert len(_messages(dossier.id)) == 2  # processing: nothing to tell


def test_a_citizen_who_chose_no_channel_gets_nothing(counter):
    dossier = _file(counter, sms=False, email=None)
    _received(dossier)
    assert _messages(dossier.id) == []


def test_filing_refuses_an_address_that_cannot_reach_the_citizen(counter):
    with pytest.raises(ValidationFailed) as refused:
        _file(counter, email="not an address")
    assert "notify.email" in refused.value.field_errors


def test_messages_reach_the_gateway_and_the_mailbox_once_and_the_report_marks_the_sms_delivered(
    counter, providers, gateway, mailbox
):
    dossier = _file(counter)
    _received(dossier)
    assert _send_all(counter, dossier.id, providers) == [None, None]
    assert _send_all(counter, dossier.id, providers) == [None, None]  # already sent: nothing happens

    sent = gateway.get("/_sim/messages").json()["items"]
    assert len(sent) == 1 and dossier.tracking_code in sent[0]["Content"]
    mails = mailbox.messages()
    assert len(mails) == 1 and mails[0]["To"] == "an.nguyen@example.vn"
    assert "đã được tiếp nhận" in mails[0]["Subject"]

    by_channel = {r.channel: r for r in _messages(dossier.id)}
    assert by_channel[Channel.email].state is DeliveryState.accepted
    assert by_channel[Channel.sms].provider_message_id == sent[0]["SMSID"]
    delivered = _wait_for(
        lambda: next(r for r in _messages(dossier.id) if r.channel is Channel.sms).state is DeliveryState.delivered
    )
    assert delivered, "the gateway's signed delivery report reached our endpoint and was applied"


def test_a_gateway_outage_is_retried_with_backoff_and_the_message_goes_once_it_is_back(counter, providers, gateway):
    dossier = _file(counter, email=None)
    _received(dossier)
    assert gateway.put("/_sim/config", json={"down": True}).status_code == 200
    [delay] = _send_all(counter, dossier.id, providers)
    assert delay is not None and delay >= outbox.RETRY_BASE_SECONDS
    [row] = _messages(dossier.id)
    assert (row.state, row.attempts) == (DeliveryState.pending, 1)
    assert _send_all(counter, dossier.id, providers) == [None]  # not due yet: not even tried
    assert gateway.get("/_sim/messages").json()["items"] == []

    assert gateway.put("/_sim/config", json={"down": False}).status_code == 200
    with unit_of_work(NETWORK) as session:  # time passes
        session.execute(update(Notification).where(Notification.id == row.id).values(next_attempt_at=datetime.now(UTC)))
    assert _send_all(counter, dossier.id, providers) == [None]
    [row] = _messages(dossier.id)
    assert row.attempts == 2
    assert row.state in (DeliveryState.accepted, DeliveryState.delivered)  # the report may already be in
    assert len(gateway.get("/_sim/messages").json()["items"]) == 1


def test_an_address_the_relay_refuses_is_given_up_for_good_with_an_audit_entry(counter, providers, tmp_path):
    class RefuseEveryone:
        async def handle_RCPT(self, server, session, envelope, address, options):
            return "550 5.1.1 no such mailbox"

    with InProcessMailServer(tmp_path / "refusing", handler=RefuseEveryone()) as refusing:
        via = Providers(providers.sms, EmailSender("127.0.0.1", refusing.port, get_settings().mail.sender))
        dossier = _file(counter, sms=False)
        _received(dossier)
        assert _send_all(counter, dossier.id, via) == [None]
    [row] = _messages(dossier.id)
    assert row.state is DeliveryState.refused and "550" in (row.last_error or "")
    with unit_of_work(NETWORK) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(row.id))).all()
    assert actions == ["notification.refused"]


def test_a_number_that_cannot_take_an_sms_is_refused_for_good_with_its_reason_and_an_audit_entry(
    counter, providers, gateway
):
    dossier = _file(counter, email=None)
    _received(dossier)
    [row] = _messages(dossier.id)
    with unit_of_work(NETWORK) as session:  # a landline where a mobile was (the row was written earlier)
        session.execute(update(Notification).where(Notification.id == row.id).values(recipient="02438251234"))
    assert _send_all(counter, dossier.id, providers) == [None]
    assert _send_all(counter, dossier.id, providers) == [None]  # final: nothing sent, nothing recorded twice
    [row] = _messages(dossier.id)
    assert row.state is DeliveryState.refused and "not a Vietnamese mobile number" in (row.last_error or "")
    assert gateway.get("/_sim/messages").json()["items"] == []
    with unit_of_work(NETWORK) as session:
        entries = session.scalars(select(AuditEvent).where(AuditEvent.object_id == str(row.id))).all()
        assert [(e.action, "mobile" in e.detail["reason"]) for e in entries] == [("notification.refused", True)]


def test_the_sweeper_takes_back_a_message_whose_worker_died_holding_it(counter, providers, gateway):
    dossier = _file(counter, email=None)
    _received(dossier)
    [row] = _messages(dossier.id)
    with unit_of_work(worker_scope(counter[0])) as session:
        assert outbox.claim(session, row.id) is not None  # a worker took it... and was killed
    assert _send_all(counter, dossier.id, providers) == [None]  # held by that worker's lease
    assert gateway.get("/_sim/messages").json()["items"] == []
    with unit_of_work(NETWORK) as session:
        assert (row.id, row.partner_id) not in outbox.due_for_sending(session)
        session.execute(
            update(Notification)
            .where(Notification.id == row.id)
            .values(lease_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    with unit_of_work(NETWORK) as session:
        assert (row.id, row.partner_id) in outbox.due_for_sending(session)
    assert sweep.run() >= 1  # re-enqueued (the broker holds it for a worker)
    assert _send_all(counter, dossier.id, providers) == [None]
    [row] = _messages(dossier.id)
    assert row.attempts == 2
    assert row.state in (DeliveryState.accepted, DeliveryState.delivered)  # the report may already be in
    assert len(gateway.get("/_sim/messages").json()["items"]) == 1
