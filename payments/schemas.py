"""The JSON API's shapes for payments, as msgspec structs (OpenAPI at /schema)."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from .models import Payment, Refund


class PaymentStartedOut(msgspec.Struct):
    """`POST /api/v1/dossiers/{id}/payments`: the attempt to pay what the dossier still owes."""

    payment_id: uuid.UUID
    txn_ref: str
    amount_vnd: int
    payment_url: str
    expires_at: datetime

    @classmethod
    def of(cls, payment: Payment) -> PaymentStartedOut:
        return cls(payment.id, payment.txn_ref, payment.amount_vnd, payment.payment_url, payment.expires_at)


class PaymentOut(msgspec.Struct):
    """`GET /api/v1/payments/{payment_id}`."""

    payment_id: uuid.UUID
    dossier_id: uuid.UUID
    txn_ref: str
    amount_vnd: int
    state: str
    expires_at: datetime
    paid_at: datetime | None
    refunded_vnd: int
    payment_url: str | None

    @classmethod
    def of(cls, payment: Payment) -> PaymentOut:
        return cls(
            payment_id=payment.id,
            dossier_id=payment.dossier_id,
            txn_ref=payment.txn_ref,
            amount_vnd=payment.amount_vnd,
            state=payment.state.value,
            expires_at=payment.expires_at,
            paid_at=payment.paid_at,
            refunded_vnd=payment.refunded_vnd,
            payment_url=payment.payment_url if payment.state.value == "pending" else None,
        )


class RefundIn(msgspec.Struct):
    """`POST /api/v1/payments/{payment_id}/refunds`: `amount_vnd` omitted means all that is left."""

    reason: str
    amount_vnd: int | None = None


class RefundDecisionIn(msgspec.Struct):
    reason: str = ""


class RefundOut(msgspec.Struct):
    refund_id: uuid.UUID
    payment_id: uuid.UUID
    amount_vnd: int
    state: str
    reason: str
    requested_by: str
    decided_by: str | None
    response_code: str | None

    @classmethod
    def of(cls, refund: Refund) -> RefundOut:
        return cls(
            refund.id,
            refund.payment_id,
            refund.amount_vnd,
            refund.state.value,
            refund.reason,
            refund.requested_by,
            refund.decided_by,
            refund.response_code,
        )
