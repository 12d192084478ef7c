"""Pure rules about money: what a dossier costs, what is still owed, what may be refunded. No database."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable
from datetime import datetime

from agents.dossiers.models import CityStatus, Dossier, DossierState
from agents.procedures.fees import FeeLine as FeeLine  # the catalogue's; payments' callers name them here
from agents.procedures.fees import FeeQuote as FeeQuote
from agents.procedures.models import ChargeTiming, ProcedureVersion

from .models import Payment, PaymentState

#: States in which a payment's money reached us (and may still be partly with us).
COLLECTED = frozenset({PaymentState.paid, PaymentState.partially_refunded, PaymentState.refunded})
#: City statuses after which a paid fee is given back (refused, stopped): issue #11.
REFUNDABLE_CITY_STATUSES = frozenset({CityStatus.refused, CityStatus.stopped})
#: City statuses from which a fee collected after processing falls due: the city asked for the financial
#: obligation (6) or processed the dossier (9). Once reached, it stays due whatever status follows.
DUE_AFTER_PROCESSING = frozenset({CityStatus.payment_requested, CityStatus.processed})


def fee_quote(version: ProcedureVersion, dossier: Dossier | None = None) -> FeeQuote:
    """The fee of a dossier filed under `version`: the one place payments asks.

    The catalogue's fee rules price it (agents/procedures/fees.py) on the dossier's form and the day it
    was filed, so a later version of the procedure never changes what an older dossier owes.
    """
    if dossier is None:
        return version.quote()
    return version.quote_filed(dossier.form_data, dossier.submitted_at)


def fee_due(timing: ChargeTiming, reached: Collection[int]) -> bool:
    """Whether the fee may be paid yet, as the procedure version says (`city_charges`).

    `before` (and a procedure that states no timing): from filing, so the counter collects it.
    `after`: only once the city has asked for it (status 6) or processed the dossier (9); `reached`
    is every city status the dossier has reported.
    """
    if timing is ChargeTiming.after:
        return any(CityStatus(status) in DUE_AFTER_PROCESSING for status in reached)
    return True


def collected_vnd(payments: Iterable[Payment]) -> int:
    """What the dossier's payments brought in, before refunds."""
    return sum(p.amount_vnd for p in payments if p.state in COLLECTED)


def accepts_payment(dossier: Dossier) -> bool:
    """A dossier the city refused, stopped or closed (or never took) is no longer paid for."""
    if dossier.state is DossierState.rejected:
        return False
    return not (dossier.city_status is not None and CityStatus(dossier.city_status).is_final)


def outstanding_vnd(quote: FeeQuote, dossier: Dossier, payments: Iterable[Payment], *, due: bool = True) -> int:
    """What the dossier still owes now; 0 for a free dossier, a closed one, or a fee not yet due (`fee_due`)."""
    if quote.is_free or not due or not accepts_payment(dossier):
        return 0
    return max(quote.total_vnd - collected_vnd(payments), 0)


def live_attempt(payments: Iterable[Payment], now: datetime) -> Payment | None:
    """A pending attempt whose payment page is still open: starting again returns it, not a second one."""
    for payment in payments:
        if payment.state is PaymentState.pending and payment.expires_at > now:
            return payment
    return None


def new_txn_ref() -> str:
    """A fresh `vnp_TxnRef`: letters and digits only (the checksum's safe set), 16 characters, unguessable."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "HS" + "".join(secrets.choice(alphabet) for _ in range(14))


def refundable_vnd(payment: Payment) -> int:
    """What can still be given back: never more than was paid, less what was already refunded or asked for."""
    if payment.state not in (PaymentState.paid, PaymentState.partially_refunded):
        return 0
    return max(payment.amount_vnd - payment.refunded_vnd, 0)


def state_after_refund(payment: Payment, refunded_total: int) -> PaymentState:
    return PaymentState.refunded if refunded_total >= payment.amount_vnd else PaymentState.partially_refunded
