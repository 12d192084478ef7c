"""Celery shells for the rollups: one (point, day) refreshed as its events arrive; everything rebuilt nightly."""

from __future__ import annotations

import logging
import uuid
from datetime import date

import agents.models  # noqa: F401 - every mapper
from agents.reporting import export_jobs, rollups
from portal.core.celery_app import EXPORT_TIME_LIMIT_SECONDS, ScopedTask, celery_app
from portal.core.db import unit_of_work
from portal.core.tenancy import Scope

log = logging.getLogger(__name__)


@celery_app.task(bind=True, name="reporting.refresh", max_retries=5)
def refresh(self: ScopedTask, kind: str, point_id: str, day: str) -> str:
    """Recompute one point's figures for one local day (idempotent: any number of runs, in any order)."""
    scope = Scope.network(rollups.ROLLUP_SCOPE, actor_label="rollups", origin="worker:reporting.refresh")
    try:
        with unit_of_work(scope) as session:
            if kind == "ratings":
                rollups.refresh_rating_day(session, uuid.UUID(point_id), date.fromisoformat(day))
            else:
                rollups.refresh_dossier_day(session, uuid.UUID(point_id), date.fromisoformat(day))
    except Exception as exc:  # a lock timeout or a lost connection: the same refresh again later
        raise self.retry(exc=exc, countdown=5 * (self.request.retries + 1)) from exc
    return "refreshed"


@celery_app.task(name="reporting.rebuild")
def rebuild() -> dict[str, int]:
    """Every rollup from scratch (nightly; the same queries the refreshes run)."""
    scope = Scope.network(rollups.ROLLUP_SCOPE, actor_label="rollups", origin="worker:reporting.rebuild")
    with unit_of_work(scope) as session:
        written = rollups.rebuild(session)
    log.info("rollups rebuilt: %s", written)
    return written


@celery_app.task(bind=True, name="reporting.export", time_limit=EXPORT_TIME_LIMIT_SECONDS)
def export(self: ScopedTask, job_id: str) -> str:
    """Build a large export in the scope it was asked in (the requester's: only their tenant's rows)."""
    return export_jobs.build(self.work_scope(label="export"), uuid.UUID(job_id))
