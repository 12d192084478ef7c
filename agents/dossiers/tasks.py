"""Celery tasks for dossiers: thin shells that open the units of work and call the services.

Forwarding is two units of work around the HTTP call: the read ends before
the city is called, so no transaction is held open while waiting on it. Each
task works in the scope it was enqueued with (ScopedTask.work_scope): the
partner of the dossier, on behalf of whoever filed it or of the sweeper.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from functools import partial

import agents.models  # noqa: F401 - every mapper: flushes order rows by their foreign keys
from agents.city.client import CityClient, CityStateConflict, city_client
from agents.dossiers import city_requests, city_status, forwarding
from agents.dossiers.city_status import ReportOutcome
from agents.dossiers.forwarding import FORWARDER, ForwardOutcome, ForwardResult
from agents.dossiers.models import CityRequestKind
from portal.core.celery_app import MAX_RETRY_COUNTDOWN_SECONDS, ScopedTask, celery_app, enqueue
from portal.core.db import on_commit, read_only, unit_of_work
from portal.core.errors import ExternalServiceError
from portal.core.settings import get_settings
from portal.core.tenancy import Scope

log = logging.getLogger(__name__)
SWEEPER = "sweeper: dossiers stuck before the city"
POLLER = "Cổng đại lý (tự động hỏi trạng thái)"


def backoff_seconds(retries: int, retry_after: float | None) -> float:
    base = get_settings().forwarding.retry_base_seconds
    # Capped, Retry-After included: a longer countdown would outlast the broker's redelivery timeouts.
    return min(max(retry_after or 0.0, base * (2**retries)), MAX_RETRY_COUNTDOWN_SECONDS)


def forward_dossier(dossier_id: uuid.UUID, scope: Scope, client: CityClient) -> ForwardOutcome:
    """Send one queued dossier to the city system, in `scope` (the dossier's partner). Safe to run any number of times.

    The city deduplicates by our dossier id (Idempotency-Key), and the state
    change is a compare-and-set from `queued`, so two concurrent runs file
    once and record once.
    """
    with read_only(scope) as session:
        prepared = forwarding.prepare_forward(session, dossier_id)
    if isinstance(prepared, ForwardOutcome):
        return prepared
    try:
        receipt = client.submit_dossier(prepared.payload, idempotency_key=str(dossier_id))
    except ExternalServiceError as exc:
        with unit_of_work(scope) as session:
            return forwarding.record_forward_failure(session, dossier_id, exc)
    with unit_of_work(scope) as session:
        return forwarding.record_forwarded(session, dossier_id, receipt)


def sync_status_from_city(dossier_id: uuid.UUID, scope: Scope, client: CityClient) -> int:
    """Poll the city for a dossier's history and apply what we have not seen. Returns the count applied."""
    with read_only(scope) as session:
        code = city_status.city_code_of(session, dossier_id)
    if not code:
        return 0
    applied = 0
    for report in client.dossier_history(code):
        with unit_of_work(scope) as session:  # one unit per report: each one stands on its own
            result = city_status.apply_city_update(session, report)
        applied += result is not ReportOutcome.duplicate
    return applied


def send_city_request(request_id: uuid.UUID, scope: Scope, client: CityClient) -> float | None:
    """Send one operation we owe the city (supplement, withdrawal) if it is ours to send; safe to run any number of
    times. Returns the seconds until its next attempt, None when there is none."""
    with unit_of_work(scope) as session:
        claimed = city_requests.claim(session, request_id)
    if claimed is None:
        return None
    outcome: city_requests.Outcome
    try:
        if claimed.kind is CityRequestKind.supplement:
            status = client.supplement(claimed.city_dossier_code, claimed.note)
        else:
            status = client.withdraw(claimed.city_dossier_code, claimed.note)
        outcome = city_requests.Taken(status)
    except CityStateConflict as exc:
        outcome = city_requests.interpret_state_conflict(claimed.kind, exc.status, exc.message)
    except ExternalServiceError as exc:
        outcome = (
            city_requests.TryLater(exc.message, exc.retry_after)
            if exc.retryable
            else city_requests.Refused(exc.message)
        )
    with unit_of_work(scope) as session:
        return city_requests.record_outcome(session, request_id, outcome)


@celery_app.task(name="dossiers.send_city_request", bind=True, max_retries=None)
def send_request(self: ScopedTask, request_id: str, partner_id: str) -> str:
    scope = self.work_scope(uuid.UUID(partner_id), label=city_requests.SENDER)
    again = send_city_request(uuid.UUID(request_id), scope, city_client())
    if again is None:
        return "done"
    if again > MAX_RETRY_COUNTDOWN_SECONDS:
        return "left_for_sweeper"
    raise self.retry(countdown=again)


@celery_app.task(name="dossiers.sweep_city_requests")
def sweep_city_requests() -> int:
    origin = "worker:dossiers.sweep_city_requests"
    with read_only(Scope.network("sweeper: operations owed to the city", origin=origin)) as session:
        due = city_requests.due_for_sending(session)
    for request_id, partner_id in due:
        scope = Scope.partner(partner_id, actor_label=SWEEPER, origin=origin)
        enqueue("dossiers.send_city_request", [str(request_id), str(partner_id)], scope=scope)
    return len(due)


@celery_app.task(name="dossiers.forward", bind=True, max_retries=None)
def forward(self: ScopedTask, dossier_id: str, partner_id: str) -> str:
    scope = self.work_scope(uuid.UUID(partner_id), label=FORWARDER)
    outcome = forward_dossier(uuid.UUID(dossier_id), scope, city_client())
    if outcome.kind is ForwardResult.retry:
        if self.request.retries >= get_settings().forwarding.max_retries:
            # Not lost: the row stays queued and the sweeper tries again later.
            log.error(
                "ALERT dossier %s still not accepted by the city after %s tries: %s",
                dossier_id,
                self.request.retries + 1,
                outcome.detail,
            )
            return "left_for_sweeper"
        raise self.retry(countdown=backoff_seconds(self.request.retries, outcome.retry_after))
    return outcome.kind.value


@celery_app.task(name="dossiers.sync_status", bind=True)
def sync_status(self: ScopedTask, dossier_id: str, partner_id: str) -> int:
    scope = self.work_scope(uuid.UUID(partner_id), label=POLLER)
    return sync_status_from_city(uuid.UUID(dossier_id), scope, city_client())


@celery_app.task(name="dossiers.sweep_unforwarded")
def sweep_unforwarded() -> int:
    with unit_of_work(Scope.network(SWEEPER, origin="worker:dossiers.sweep_unforwarded")) as session:
        stuck = forwarding.claim_unforwarded_dossiers(
            session, timedelta(seconds=get_settings().forwarding.stuck_after_seconds)
        )
        for dossier_id, partner_id in stuck:
            again = Scope.partner(partner_id, actor_label=SWEEPER, origin="worker:dossiers.sweep_unforwarded")
            on_commit(session, partial(enqueue, "dossiers.forward", [str(dossier_id), str(partner_id)], scope=again))
    if stuck:
        log.warning("re-enqueued %d dossiers stuck before the city", len(stuck))
    return len(stuck)


@celery_app.task(name="dossiers.poll_silent")
def poll_silent() -> int:
    """Ask the city about dossiers it has been silent on, each at its own turn (city_status.claim_silent_dossiers)."""
    settings = get_settings()
    scope = Scope.network("poller: dossiers the city has not reported on", origin="worker:dossiers.poll_silent")
    with unit_of_work(scope) as session:
        silent = city_status.claim_silent_dossiers(
            session,
            silence=timedelta(seconds=settings.forwarding.stuck_after_seconds * 2),
            max_interval=timedelta(seconds=settings.city.poll_max_interval_seconds),
        )
        for dossier_id, partner_id in silent:
            on_commit(session, partial(_enqueue_sync, dossier_id, partner_id))
    return len(silent)


def _enqueue_sync(dossier_id: uuid.UUID, partner_id: uuid.UUID) -> None:
    poll = Scope.partner(partner_id, actor_label=POLLER, origin="worker:dossiers.poll_silent")
    enqueue("dossiers.sync_status", [str(dossier_id), str(partner_id)], scope=poll)
