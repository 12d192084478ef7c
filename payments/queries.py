"""Reading payments: one for a caller who may see its dossier, a dossier's attempts, the return page's view."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.dossiers import queries as dossiers
from agents.dossiers.models import Dossier
from agents.staff.actor import Actor
from portal.core.db import utcnow
from portal.core.errors import NotFound
from portal.core.settings import get_settings

from . import checkout
from .models import Payment
from .rules import COLLECTED, FeeQuote, live_attempt, outstanding_vnd


def get_for_actor(session: Session, actor: Actor, payment_id: uuid.UUID) -> Payment:
    """A payment whose dossier the actor may see; any other answers like a missing one (404)."""
    payment = session.get(Payment, payment_id)
    if payment is None:
        raise NotFound("Không tìm thấy giao dịch thanh toán")
    try:
        dossiers.get_for_actor(session, actor, payment.dossier_id)
    except NotFound:
        raise NotFound("Không tìm thấy giao dịch thanh toán") from None
    return payment


def by_txn_ref(session: Session, txn_ref: str) -> Payment | None:
    return session.scalar(select(Payment).where(Payment.txn_ref == txn_ref))


@dataclass(frozen=True)
class PaymentPanel:
    """What a dossier's pages show about its fee. `shown` False: a free dossier has no payment step at all."""

    quote: FeeQuote
    outstanding_vnd: int
    attempts: list[Payment]
    live: Payment | None
    due: bool = True  # False: the procedure collects after processing and the city has not asked yet

    @property
    def shown(self) -> bool:
        return not self.quote.is_free

    @property
    def paid(self) -> Payment | None:
        return next((p for p in self.attempts if p.state in COLLECTED), None)


def panel_for(session: Session, dossier: Dossier, now: datetime | None = None) -> PaymentPanel:
    quote = checkout.quote_of(session, dossier)
    attempts = checkout.payments_of(session, dossier.id)
    due = checkout.due_of(session, dossier)
    return PaymentPanel(
        quote=quote,
        outstanding_vnd=outstanding_vnd(quote, dossier, attempts, due=due),
        attempts=attempts,
        live=live_attempt(attempts, now or utcnow()),
        due=due,
    )


def pay_token(tracking_code: str) -> str:
    """The secret that lets the tracking page's visitor (who gave the code and the phone) start a payment."""
    key = get_settings().keys.secret_key.encode()
    return hmac.new(key, f"pay:{tracking_code}".encode(), hashlib.sha256).hexdigest()[:32]


def pay_token_matches(tracking_code: str, token: str) -> bool:
    return hmac.compare_digest(pay_token(tracking_code).encode(), token.encode("utf-8", "replace"))


def dossier_by_code(session: Session, tracking_code: str) -> Dossier:
    dossier = session.scalar(select(Dossier).where(Dossier.tracking_code == tracking_code.strip().upper()))
    if dossier is None:
        raise NotFound("Không tìm thấy hồ sơ")
    return dossier
