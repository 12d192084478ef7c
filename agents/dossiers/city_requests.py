"""The operations we owe the city about a filed dossier (a supplement, a withdrawal): an outbox, sent at most once.

The row is written with the staff member's action, in the same unit of work; its unique key
(dossier, kind, round) makes a double click, a retry or a concurrent request write nothing more.
After commit a worker sends it (agents/dossiers/tasks.send_city_request) in three steps, so no
transaction is open while the city answers: `claim` (pending -> sending, with a lease), the call,
`record_outcome`. A worker killed in between leaves it `sending`; the sweeper takes it back when
the lease ends. The city's operations carry no idempotency key, so a repeat is recognised by its
answer: `409 invalid_state` with the status the operation leads to means the first one got through.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents.dossiers.models import CityRequest, CityRequestKind, CityRequestState, CityStatus, Dossier, DossierEvent
from portal.core import audit
from portal.core.celery_app import enqueue
from portal.core.db import on_commit, rows_changed, utcnow
from portal.core.errors import Conflict
from portal.core.settings import get_settings
from portal.core.tenancy import Scope, current_scope

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 20
RETRY_BASE_SECONDS = 5.0
RETRY_CAP_SECONDS = 600.0
SENDER = "Cổng đại lý (gửi yêu cầu tới hệ thống một cửa)"

#: Where the city is once each operation was done: a 409 naming one of these says it was already done
#: (a supplement sends the dossier back to processing, from where the city may have gone on).
DONE_STATUSES = {
    CityRequestKind.supplement: frozenset(
        {CityStatus.processing, CityStatus.payment_requested, CityStatus.processed, CityStatus.returned}
    ),
    CityRequestKind.withdrawal: frozenset({CityStatus.withdrawn}),
}


def queue(
    session: Session,
    dossier: Dossier,
    kind: CityRequestKind,
    round_: int,
    note: str,
    requested_by: uuid.UUID,
    conflict: str,
) -> CityRequest:
    """Write the operation (once: `Conflict(conflict)` when it exists) and send it after commit."""
    row = CityRequest(
        id=uuid.uuid4(),
        partner_id=dossier.partner_id,
        dossier_id=dossier.id,
        kind=kind,
        round=round_,
        note=note,
        requested_by=requested_by,
        state=CityRequestState.pending,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc  # a concurrent request wrote it first
    scope = current_scope(session)
    again = Scope.partner(
        dossier.partner_id, actor_id=scope.actor_id, actor_label=scope.actor_label, origin=scope.origin
    )
    row_id, partner_id = row.id, row.partner_id
    on_commit(session, lambda: enqueue_send(row_id, partner_id, again))
    return row


def enqueue_send(request_id: uuid.UUID, partner_id: uuid.UUID, scope: Scope) -> None:
    try:
        enqueue("dossiers.send_city_request", [str(request_id), str(partner_id)], scope=scope)
    except Exception:
        log.exception("could not enqueue city request %s; the sweeper will", request_id)


@dataclass(frozen=True)
class Claimed:
    id: uuid.UUID
    kind: CityRequestKind
    city_dossier_code: str
    note: str
    attempt: int


def claim(session: Session, request_id: uuid.UUID, now: datetime | None = None) -> Claimed | None:
    """Take the operation for sending (pending and due, or sending with its lease run out); None if not ours."""
    now = now or utcnow()
    taken = rows_changed(
        session,
        update(CityRequest)
        .where(
            CityRequest.id == request_id,
            or_(
                (CityRequest.state == CityRequestState.pending) & (CityRequest.next_attempt_at <= now),
                (CityRequest.state == CityRequestState.sending) & (CityRequest.lease_until < now),
            ),
        )
        .values(
            state=CityRequestState.sending,
            lease_until=now + timedelta(seconds=get_settings().forwarding.lease_seconds),
            attempts=CityRequest.attempts + 1,
            updated_at=now,
        ),
    )
    if not taken:
        return None
    row = session.get(CityRequest, request_id, populate_existing=True)
    assert row is not None
    dossier = session.get(Dossier, row.dossier_id)
    assert dossier is not None and dossier.city_dossier_code
    return Claimed(row.id, row.kind, dossier.city_dossier_code, row.note, row.attempts)


@dataclass(frozen=True)
class Taken:
    """The city did it (`already`: it had, on an earlier attempt whose answer was lost)."""

    status: int
    already: bool = False


@dataclass(frozen=True)
class Refused:
    reason: str
    status: int | None = None


@dataclass(frozen=True)
class TryLater:
    reason: str
    retry_after: float | None = None


Outcome = Taken | Refused | TryLater


def retry_delay(attempt: int, retry_after: float | None) -> float:
    return min(max(retry_after or 0.0, RETRY_BASE_SECONDS * (2 ** (attempt - 1))), RETRY_CAP_SECONDS)


def record_outcome(
    session: Session, request_id: uuid.UUID, outcome: Outcome, now: datetime | None = None
) -> float | None:
    """Write what the city answered. Returns the seconds until the next attempt, or None when there is none."""
    now = now or utcnow()
    row = session.get(CityRequest, request_id)
    if row is None or row.state is not CityRequestState.sending:
        return None  # taken back by the sweeper and finished by another worker meanwhile
    dossier = session.get(Dossier, row.dossier_id)
    assert dossier is not None
    row.lease_until, row.updated_at = None, now
    if isinstance(outcome, TryLater):
        row.last_error = outcome.reason[:1000]
        if row.attempts < MAX_ATTEMPTS:
            row.state = CityRequestState.pending
            again = retry_delay(row.attempts, outcome.retry_after)
            row.next_attempt_at = now + timedelta(seconds=again)
            return again
        outcome = Refused(f"Sau {row.attempts} lần thử: {outcome.reason}")
        log.error("ALERT city request %s (%s) given up after %s attempts", row.id, row.kind.value, row.attempts)
    if isinstance(outcome, Taken):
        row.state, row.sent_at, row.last_error = CityRequestState.sent, now, None
        note = _SENT_NOTES[row.kind]
        detail: dict[str, object] = {"kind": row.kind.value, "round": row.round, "city_status": outcome.status}
        if outcome.already:
            detail["already_done"] = True
        _event(session, dossier, note)
        audit.record(
            session,
            f"dossier.{row.kind.value}_sent",
            "dossier",
            dossier.id,
            partner_id=dossier.partner_id,
            detail=detail,
        )
        return None
    row.state, row.last_error = CityRequestState.refused, outcome.reason[:1000]
    _event(session, dossier, f"{_REFUSED_NOTES[row.kind]}: {outcome.reason}")
    audit.record(
        session,
        f"dossier.{row.kind.value}_refused_by_city",
        "dossier",
        dossier.id,
        partner_id=dossier.partner_id,
        detail={
            "kind": row.kind.value,
            "round": row.round,
            "reason": outcome.reason[:300],
            "city_status": outcome.status,
        },
    )
    log.error("ALERT dossier %s: the city refused our %s: %s", dossier.tracking_code, row.kind.value, outcome.reason)
    return None


_SENT_NOTES = {
    CityRequestKind.supplement: "Đã gửi giấy tờ bổ sung sang hệ thống một cửa",
    CityRequestKind.withdrawal: "Đã gửi yêu cầu rút hồ sơ của công dân sang hệ thống một cửa",
}
_REFUSED_NOTES = {
    CityRequestKind.supplement: "Hệ thống một cửa không nhận giấy tờ bổ sung",
    CityRequestKind.withdrawal: "Hệ thống một cửa không nhận yêu cầu rút hồ sơ",
}


def _event(session: Session, dossier: Dossier, note: str) -> None:
    session.add(
        DossierEvent(
            partner_id=dossier.partner_id,
            dossier_id=dossier.id,
            occurred_at=utcnow(),
            source="portal",
            state=dossier.state.value,
            actor=SENDER,
            note=note,
        )
    )


def interpret_state_conflict(kind: CityRequestKind, status: int | None, reason: str) -> Outcome:
    """The city said 409 invalid_state: done already when it is in the status the operation leads to."""
    if status is not None and status in DONE_STATUSES[kind]:
        return Taken(status, already=True)
    return Refused(reason, status)


def due_for_sending(
    session: Session, now: datetime | None = None, limit: int = 500
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Operations whose attempt is due, or whose worker died holding them. Needs a network scope."""
    now = now or utcnow()
    rows = session.execute(
        select(CityRequest.id, CityRequest.partner_id)
        .where(
            or_(
                (CityRequest.state == CityRequestState.pending) & (CityRequest.next_attempt_at <= now),
                (CityRequest.state == CityRequestState.sending) & (CityRequest.lease_until < now),
            )
        )
        .order_by(CityRequest.next_attempt_at)
        .limit(limit)
    ).all()
    return [(r.id, r.partner_id) for r in rows]


def of_dossier(session: Session, dossier_id: uuid.UUID) -> list[CityRequest]:
    return list(
        session.scalars(
            select(CityRequest).where(CityRequest.dossier_id == dossier_id).order_by(CityRequest.created_at)
        )
    )
