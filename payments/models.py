"""Money: payments of a dossier's fee, the raw gateway messages, refunds.

Amounts are whole VND (`BigInteger`; VND has no minor unit). Every attempt to pay is its
own `Payment` with its own `txn_ref` (VNPay's `vnp_TxnRef`, unique for ever here). The
gateway log is append-only: one row per message sent to or received from VNPay, as it was
on the wire, without the hash secret (which is never in a message; only signatures are).
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

import agents.models  # noqa: F401 - every table payments' foreign keys name
from portal.core.db import Base, IdMixin, TimestampMixin, utcnow
from portal.core.tenancy import TenantScoped


class PaymentState(str, enum.Enum):
    pending = "pending"  # the payment URL was issued; VNPay has not told us the result
    paid = "paid"  # an IPN (or querydr) confirmed it; the only way in is payments.confirmation
    failed = "failed"  # VNPay says the customer cancelled or the payment failed
    expired = "expired"  # the deadline passed and VNPay knows no payment for it
    partially_refunded = "partially_refunded"
    refunded = "refunded"


class Payment(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "payments"

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    agent_point_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("agent_points.id"), index=True)
    procedure_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("procedures.id"))
    gateway: Mapped[str] = mapped_column(String(16), default="vnpay")
    txn_ref: Mapped[str] = mapped_column(String(32), unique=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[PaymentState] = mapped_column(
        Enum(PaymentState, native_enum=False, length=20), default=PaymentState.pending, index=True
    )
    payment_url: Mapped[str] = mapped_column(Text)  # signed, but holds no secret
    gateway_create_date: Mapped[str] = mapped_column(String(14))  # vnp_CreateDate: querydr and refund name it
    expires_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(200))
    paid_at: Mapped[datetime | None]
    settled_at: Mapped[datetime | None]  # when we recorded the outcome (paid, failed, expired)
    transaction_no: Mapped[str | None] = mapped_column(String(20))
    bank_code: Mapped[str | None] = mapped_column(String(20))
    response_code: Mapped[str | None] = mapped_column(String(2))
    refunded_vnd: Mapped[int] = mapped_column(BigInteger, default=0)
    last_checked_at: Mapped[datetime | None]  # the last querydr made about it

    @property
    def net_vnd(self) -> int:
        return self.amount_vnd - self.refunded_vnd if self.paid_at else 0


class MessageDirection(str, enum.Enum):
    sent = "sent"
    received = "received"


class GatewayMessage(IdMixin, TenantScoped, Base):
    """One message to or from the gateway about a payment. Append-only: never updated or deleted."""

    __tablename__ = "gateway_messages"

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    direction: Mapped[MessageDirection] = mapped_column(Enum(MessageDirection, native_enum=False, length=8))
    # pay_url, ipn, return, querydr, querydr_answer, refund, refund_answer
    kind: Mapped[str] = mapped_column(String(20))
    raw: Mapped[str] = mapped_column(Text)  # the query string or the JSON body, as on the wire
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[str] = mapped_column(String(40), default="")  # what we made of it: our RspCode, applied, ...


class RefundState(str, enum.Enum):
    requested = "requested"  # waiting for a center admin
    rejected = "rejected"  # the admin said no
    approved = "approved"  # approved; being sent to VNPay
    accepted = "accepted"  # VNPay recorded it
    refused = "refused"  # VNPay refused it (its code is kept)


class Refund(IdMixin, TimestampMixin, TenantScoped, Base):
    __tablename__ = "refunds"

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"), index=True)
    amount_vnd: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[RefundState] = mapped_column(
        Enum(RefundState, native_enum=False, length=16), default=RefundState.requested, index=True
    )
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(200))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None]
    request_id: Mapped[str | None] = mapped_column(String(32), unique=True)  # vnp_RequestId when sent
    response_code: Mapped[str | None] = mapped_column(String(2))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
