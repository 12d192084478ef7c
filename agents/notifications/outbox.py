"""The outbox: messages written with the status change that calls for them, sent after it commits, at most once.

A city status that matters to the citizen (agents.notifications.rules.KIND_BY_CITY_STATUS)
writes one row per channel the citizen chose, in the same transaction as the status
change; the row's unique key (dossier, kind, channel) makes a repeated or concurrent
report write nothing more. Its send task is enqueued on commit; a sweeper re-enqueues
rows whose attempt is due or whose worker died holding them.

Sending is three steps around the provider call, so no transaction is held open while
the gateway answers: `claim` (pending -> sending, with a lease), the call, then
`record_outcome`. Services flush; the caller's unit of work commits.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents.notifications.models import Channel, DeliveryState, Notification
from agents.notifications.rules import (
    Accepted,
    InvalidRecipient,
    NotificationFacts,
    NotificationKind,
    Outcome,
    Refused,
    RetryLater,
    email_text,
    normalise_email,
    normalise_mobile,
    sms_text,
)
from agents.notifications.sms import DeliveryReport
from portal.core import audit
from portal.core.celery_app import enqueue
from portal.core.db import on_commit, rows_changed, utcnow
from portal.core.errors import ValidationFailed
from portal.core.i18n import N_
from portal.core.settings import get_settings
from portal.core.tenancy import Scope, current_scope

log = logging.getLogger(__name__)

#: Attempts per message, the first included, before it is given up.
MAX_ATTEMPTS = 8
RETRY_BASE_SECONDS = 15.0
RETRY_CAP_SECONDS = 3600.0
#: Where the SMS gateway posts its delivery reports (our public URL + this).
SMS_REPORTS_PATH = "/api/sms/reports"


@dataclass(frozen=True)
class Choice:
    """How the citizen wants to be told: SMS to the owner's phone, email to `email`, both or neither."""

    sms: bool = False
    email: str | None = None


def check_choice(sms: bool, email: str | None, phone: str | None) -> tuple[Choice, dict[str, str]]:
    """The citizen's choice, normalised, and the field errors that refuse it (all of them)."""
    errors: dict[str, str] = {}
    address: str | None = None
    if sms and phone is not None:
        try:
            normalise_mobile(phone)
        except InvalidRecipient:
            errors["notify.sms"] = N_("Số điện thoại không nhận được tin nhắn (cần số di động Việt Nam)")
    if email is not None and email.strip():
        try:
            address = normalise_email(email)
        except InvalidRecipient:
            errors["notify.email"] = N_("Địa chỉ email không hợp lệ")
    return Choice(sms=sms, email=address), errors


def queue_notices(
    session: Session,
    *,
    partner_id: uuid.UUID,
    dossier_id: uuid.UUID,
    kind: NotificationKind,
    city_status: int,
    facts: NotificationFacts,
    phone: str | None,
    email: str | None,
) -> list[Notification]:
    """Write the messages `kind` calls for, one per chosen channel, unless they exist; send them after commit."""
    wanted: list[tuple[Channel, str, str, str]] = []
    if phone:
        wanted.append((Channel.sms, phone, "", sms_text(kind, facts)))
    if email:
        text = email_text(kind, facts)
        wanted.append((Channel.email, email, text.subject, text.body))
    written: list[Notification] = []
    for channel, recipient, subject, body in wanted:
        exists = session.scalar(
            select(Notification.id).where(
                Notification.dossier_id == dossier_id, Notification.kind == kind, Notification.channel == channel
            )
        )
        if exists is not None:
            continue
        row = Notification(
            id=uuid.uuid4(),
            partner_id=partner_id,
            dossier_id=dossier_id,
            channel=channel,
            kind=kind,
            city_status=city_status,
            recipient=recipient,
            subject=subject,
            body=body,
            state=DeliveryState.pending,
            next_attempt_at=utcnow(),
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            continue  # a concurrent report of the same status wrote it first
        written.append(row)
    for row in written:
        _send_after_commit(session, row.id, row.partner_id, _sending_scope(current_scope(session), row.partner_id))
    return written


def _sending_scope(scope: Scope, partner_id: uuid.UUID) -> Scope:
    """The task works in the dossier's partner, on behalf of whoever caused the news (the city, a poll)."""
    if not scope.all_partners and scope.partner_id == partner_id:
        return scope
    return Scope.partner(partner_id, actor_id=scope.actor_id, actor_label=scope.actor_label, origin=scope.origin)


def _send_after_commit(session: Session, notification_id: uuid.UUID, partner_id: uuid.UUID, scope: Scope) -> None:
    def send() -> None:
        try:
            enqueue("notifications.send", [str(notification_id), str(partner_id)], scope=scope)
        except Exception:
            log.exception("could not enqueue notification %s; the sweeper will", notification_id)

    on_commit(session, send)


@dataclass(frozen=True)
class Claimed:
    """A message a worker now holds: what to send, where, under which idempotency key."""

    id: uuid.UUID
    channel: Channel
    recipient: str
    subject: str
    body: str
    request_id: str
    attempt: int


def claim(session: Session, notification_id: uuid.UUID, now: datetime | None = None) -> Claimed | None:
    """Take a message for sending (pending and due, or sending with its lease run out); None if not ours to send."""
    now = now or utcnow()
    taken = rows_changed(
        session,
        update(Notification)
        .where(
            Notification.id == notification_id,
            or_(
                (Notification.state == DeliveryState.pending) & (Notification.next_attempt_at <= now),
                (Notification.state == DeliveryState.sending) & (Notification.lease_until < now),
            ),
        )
        .values(
            state=DeliveryState.sending,
            lease_until=now + timedelta(seconds=get_settings().forwarding.lease_seconds),
            attempts=Notification.attempts + 1,
            updated_at=now,
        ),
    )
    if not taken:
        return None
    row = session.get(Notification, notification_id, populate_existing=True)
    assert row is not None
    return Claimed(row.id, row.channel, row.recipient, row.subject, row.body, row.request_id, row.attempts)


def retry_delay(attempt: int, retry_after: float | None) -> float:
    return min(max(retry_after or 0.0, RETRY_BASE_SECONDS * (2 ** (attempt - 1))), RETRY_CAP_SECONDS)


def record_outcome(
    session: Session, notification_id: uuid.UUID, outcome: Outcome, now: datetime | None = None
) -> float | None:
    """Write what the provider answered. Returns the seconds until the next attempt, or None when there is none."""
    now = now or utcnow()
    row = session.get(Notification, notification_id)
    if row is None or row.state is not DeliveryState.sending:
        return None  # taken back by the sweeper and done by another worker meanwhile
    row.lease_until = None
    again: float | None = None
    if isinstance(outcome, Accepted):
        row.state = DeliveryState.accepted
        row.provider_message_id = outcome.message_id
        row.segments = outcome.segments
        row.accepted_at = now
        row.last_error = None
    elif isinstance(outcome, Refused) and outcome.permanent:
        row.state = DeliveryState.refused
        row.last_error = f"{outcome.code}: {outcome.reason}"
    elif isinstance(outcome, Refused):
        # Our account or configuration: the message is fine. Kept for an operator, sent again once fixed.
        row.state = DeliveryState.held
        row.last_error = f"{outcome.code}: {outcome.reason}"
        log.error(
            "ALERT notification %s held: the %s provider refused our configuration: %s",
            row.id,
            row.channel.value,
            outcome.reason,
        )
    elif row.attempts >= MAX_ATTEMPTS:
        row.state = DeliveryState.gave_up
        row.last_error = outcome.reason
        log.error("ALERT notification %s given up after %s attempts: %s", row.id, row.attempts, outcome.reason)
    else:
        assert isinstance(outcome, RetryLater)
        again = retry_delay(row.attempts, outcome.retry_after)
        row.state = DeliveryState.pending
        row.next_attempt_at = now + timedelta(seconds=again)
        row.last_error = outcome.reason
    row.updated_at = now
    if row.state in (DeliveryState.refused, DeliveryState.held, DeliveryState.gave_up):
        audit.record(
            session,
            "notification." + row.state.value,
            "notification",
            row.id,
            partner_id=row.partner_id,
            detail={"dossier_id": str(row.dossier_id), "channel": row.channel.value, "reason": row.last_error},
        )
    return again


def apply_delivery_report(session: Session, report: DeliveryReport) -> str:
    """Move an accepted SMS to delivered or failed by the gateway's report; a repeated report changes nothing.

    Needs a network scope: the report names the gateway's message id, not our partner.
    """
    row = session.scalar(
        select(Notification).where(
            Notification.channel == Channel.sms, Notification.provider_message_id == report.message_id
        )
    )
    if row is None:
        raise ValidationFailed(
            "No message of ours has the id %(message_id)s",
            params={"message_id": report.message_id},
            field_errors={"message_id": "unknown"},
        )
    if row.last_report_id == report.report_id or row.state in (DeliveryState.delivered, DeliveryState.failed):
        return "duplicate"
    row.last_report_id = report.report_id
    if report.delivered:
        row.state, row.delivered_at = DeliveryState.delivered, report.reported_at
    else:
        row.state, row.last_error = DeliveryState.failed, f"gateway: {report.error_code or 'not delivered'}"
    return "applied"


def due_for_sending(
    session: Session, now: datetime | None = None, limit: int = 500
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Messages whose attempt is due, or whose worker died holding them. Needs a network scope."""
    now = now or utcnow()
    rows = session.execute(
        select(Notification.id, Notification.partner_id)
        .where(
            or_(
                (Notification.state == DeliveryState.pending) & (Notification.next_attempt_at <= now),
                (Notification.state == DeliveryState.sending) & (Notification.lease_until < now),
            )
        )
        .order_by(Notification.next_attempt_at)
        .limit(limit)
    ).all()
    return [(r.id, r.partner_id) for r in rows]


def for_dossier(session: Session, dossier_id: uuid.UUID) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification).where(Notification.dossier_id == dossier_id).order_by(Notification.created_at)
        )
    )
