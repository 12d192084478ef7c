"""Celery tasks for notifications: thin shells around the outbox (agents/notifications/outbox.py).

One message is claimed in one unit of work, sent with no transaction open, and its
outcome recorded in another. A worker killed between the provider's acceptance and
our commit leaves the row `sending`: the sweeper takes it back when its lease ends and
sends it again under the same idempotency key (the SMS gateway answers with the message
it already has; an email goes once more with the same Message-ID).
"""

from __future__ import annotations

import logging
import uuid

import agents.models  # noqa: F401 - every mapper
from agents.notifications import outbox
from agents.notifications.email import EmailSender
from agents.notifications.models import Channel
from agents.notifications.rules import Outcome, message_id_for
from agents.notifications.sms import SmsGatewayClient
from portal.core.celery_app import MAX_RETRY_COUNTDOWN_SECONDS, ScopedTask, celery_app, enqueue
from portal.core.db import read_only, unit_of_work
from portal.core.settings import get_settings
from portal.core.tenancy import Scope

log = logging.getLogger(__name__)
SENDER = "Cổng đại lý (gửi thông báo)"
SWEEPER = "sweeper: notifications due or abandoned"


class Providers:
    """The process's SMS client and mail sender, built from settings once."""

    def __init__(self, sms: SmsGatewayClient, mail: EmailSender) -> None:
        self.sms, self.mail = sms, mail

    @classmethod
    def from_settings(cls) -> Providers:
        settings = get_settings()
        callback = settings.web.public_url + outbox.SMS_REPORTS_PATH
        return cls(
            SmsGatewayClient.from_settings(settings.sms, callback_url=callback),
            EmailSender.from_settings(settings.mail),
        )


_providers: Providers | None = None


def providers() -> Providers:
    global _providers
    if _providers is None:
        _providers = Providers.from_settings()
    return _providers


def send_notification(notification_id: uuid.UUID, scope: Scope, via: Providers) -> float | None:
    """Send one message if it is ours to send. Returns seconds until its next attempt, None when there is none."""
    with unit_of_work(scope) as session:
        claimed = outbox.claim(session, notification_id)
    if claimed is None:
        return None
    result: Outcome
    if claimed.channel is Channel.sms:
        result = via.sms.send(claimed.recipient, claimed.body, claimed.request_id)
    else:
        message_id = message_id_for(claimed.request_id, via.mail.domain)
        result = via.mail.send(claimed.recipient, claimed.subject, claimed.body, message_id=message_id)
    with unit_of_work(scope) as session:
        return outbox.record_outcome(session, notification_id, result)


@celery_app.task(name="notifications.send", bind=True, max_retries=None)
def send(self: ScopedTask, notification_id: str, partner_id: str) -> str:
    scope = self.work_scope(uuid.UUID(partner_id), label=SENDER)
    again = send_notification(uuid.UUID(notification_id), scope, providers())
    if again is None:
        return "done"
    if again > MAX_RETRY_COUNTDOWN_SECONDS:
        return "left_for_sweeper"  # a longer countdown would outlast the broker's redelivery timeouts
    raise self.retry(countdown=again)


@celery_app.task(name="notifications.sweep")
def sweep() -> int:
    with read_only(Scope.network(SWEEPER, origin="worker:notifications.sweep")) as session:
        due = outbox.due_for_sending(session)
    for notification_id, partner_id in due:
        scope = Scope.partner(partner_id, actor_label=SWEEPER, origin="worker:notifications.sweep")
        enqueue("notifications.send", [str(notification_id), str(partner_id)], scope=scope)
    return len(due)
