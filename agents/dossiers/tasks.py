"""Celery tasks for dossiers: thin shells over agents.dossiers.service."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from agents.city.client import city_client
from agents.dossiers import service
from portal.core.celery_app import MAX_RETRY_COUNTDOWN_SECONDS, celery_app
from portal.core.settings import get_settings

log = logging.getLogger(__name__)


def backoff_seconds(retries: int, retry_after: float | None) -> float:
    base = get_settings().forward_retry_base_seconds
    # Capped, Retry-After included: a longer countdown would outlast the broker's redelivery timeouts.
    return min(max(retry_after or 0.0, base * (2**retries)), MAX_RETRY_COUNTDOWN_SECONDS)


@celery_app.task(name="dossiers.forward", bind=True, max_retries=None)
def forward(self, dossier_id: str, partner_id: str) -> str:  # type: ignore[no-untyped-def]
    outcome = service.forward_dossier(uuid.UUID(dossier_id), uuid.UUID(partner_id), city_client())
    if outcome.kind == "retry":
        if self.request.retries >= get_settings().forward_max_retries:
            # Not lost: the row stays queued and the sweeper tries again later.
            log.error(
                "ALERT dossier %s still not accepted by the city after %s tries: %s",
                dossier_id,
                self.request.retries + 1,
                outcome.detail,
            )
            return "left_for_sweeper"
        raise self.retry(countdown=backoff_seconds(self.request.retries, outcome.retry_after))
    return outcome.kind


@celery_app.task(name="dossiers.sync_status")
def sync_status(dossier_id: str, partner_id: str) -> int:
    return service.sync_status_from_city(uuid.UUID(dossier_id), uuid.UUID(partner_id), city_client())


@celery_app.task(name="dossiers.sweep_unforwarded")
def sweep_unforwarded() -> int:
    stuck = service.unforwarded_dossiers(timedelta(seconds=get_settings().stuck_after_seconds))
    for dossier_id, partner_id in stuck:
        forward.delay(str(dossier_id), str(partner_id))
    if stuck:
        log.warning("re-enqueued %d dossiers stuck before the city", len(stuck))
    return len(stuck)


@celery_app.task(name="dossiers.poll_silent")
def poll_silent() -> int:
    silent = service.silent_dossiers(timedelta(seconds=get_settings().stuck_after_seconds * 2))
    for dossier_id, partner_id in silent:
        sync_status.delay(str(dossier_id), str(partner_id))
    return len(silent)
