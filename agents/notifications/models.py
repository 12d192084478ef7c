"""The notification outbox: one row per dossier, kind of news and channel, and where its message stands."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agents.notifications.rules import NotificationKind
from portal.core.crypto import EncryptedText
from portal.core.db import Base, IdMixin, TimestampMixin
from portal.core.tenancy import TenantScoped


class Channel(str, enum.Enum):
    sms = "sms"
    email = "email"


class DeliveryState(str, enum.Enum):
    """Where one message stands. The last four are final."""

    pending = "pending"  # written with the status change; waiting for its (next) attempt
    sending = "sending"  # a worker holds it until lease_until (taken back by the sweeper after)
    accepted = "accepted"  # the gateway took it (SMS: waiting for the delivery report) or SMTP said 250
    held = "held"  # our own configuration was refused (API key, brand, SMTP login): kept for an operator
    delivered = "delivered"  # the SMS gateway reported delivery
    failed = "failed"  # the SMS gateway reported it could not deliver
    refused = "refused"  # the message can never go (bad number or address, text refused)
    gave_up = "gave_up"  # transient failures until the attempts ran out

    @property
    def is_final(self) -> bool:
        return self in (DeliveryState.delivered, DeliveryState.failed, DeliveryState.refused, DeliveryState.gave_up)


class Notification(IdMixin, TimestampMixin, TenantScoped, Base):
    """One message to a citizen. The unique key makes "at most once per dossier, status and channel" a fact.

    The text is rendered once, when the row is written: every retry sends the same bytes
    under the same idempotency key (`notification-<id>`).
    """

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("dossier_id", "kind", "channel"),)

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    channel: Mapped[Channel] = mapped_column(Enum(Channel, native_enum=False, length=8))
    kind: Mapped[NotificationKind] = mapped_column(Enum(NotificationKind, native_enum=False, length=32))
    city_status: Mapped[int] = mapped_column(Integer)
    recipient: Mapped[str] = mapped_column(EncryptedText)
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[DeliveryState] = mapped_column(
        Enum(DeliveryState, native_enum=False, length=16), default=DeliveryState.pending, index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(80), index=True)
    segments: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_report_id: Mapped[str | None] = mapped_column(String(80))
    accepted_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    @property
    def request_id(self) -> str:
        """The idempotency key both channels carry (SMS RequestId; the email's Message-ID local part)."""
        return f"notification-{self.id}"
