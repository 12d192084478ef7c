"""Celery tasks for payments: thin shells that build the VNPay client and call the services.

`payments.reconcile` (beat): querydr for pending payments older than a few minutes, settle
or expire them, and propose refunds for paid dossiers the city refused or stopped.
`payments.send_refund`: send one approved refund to VNPay; retried while VNPay is unreachable.
`payments.compare_settlement` (beat, daily): yesterday's records against the gateway's; every
difference is logged as an ALERT and the comparison goes on the audit record.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta

import payments.models  # noqa: F401 - every mapper: flushes order rows by their foreign keys
from payments import reconciliation, refunds, settlement
from payments.gateways import vnpay_client
from payments.gateways.vnpay import GatewayUnavailable
from portal.core import audit
from portal.core.celery_app import MAX_RETRY_COUNTDOWN_SECONDS, ScopedTask, celery_app
from portal.core.db import read_only, unit_of_work
from portal.core.settings import get_settings

log = logging.getLogger(__name__)


def run_reconciliation() -> dict[str, str]:
    settings = get_settings().vnpay
    with vnpay_client() as client:
        outcomes = reconciliation.reconcile_due(client, older_than=timedelta(seconds=settings.reconcile_after_seconds))
    with unit_of_work(reconciliation.reconciler_scope()) as session:
        proposed = refunds.propose_refunds(session)
    if proposed:
        log.info("reconciliation proposed %d refund(s) for refused or stopped dossiers", len(proposed))
    return {ref: outcome.value for ref, outcome in outcomes.items()}


@celery_app.task(name="payments.reconcile", bind=True)
def reconcile(self: ScopedTask) -> dict[str, str]:
    return run_reconciliation()


@celery_app.task(name="payments.send_refund", bind=True, max_retries=20)
def send_refund(self: ScopedTask, refund_id: str, partner_id: str) -> str:
    scope = self.work_scope(uuid.UUID(partner_id), label=refunds.AUTOMATIC)
    try:
        with vnpay_client() as client:
            return refunds.send_refund(uuid.UUID(refund_id), client, scope=scope).value
    except GatewayUnavailable as exc:
        countdown = min(max(exc.retry_after or 0.0, 5.0 * (2**self.request.retries)), MAX_RETRY_COUNTDOWN_SECONDS)
        raise self.retry(countdown=countdown) from exc


def run_comparison(day: date) -> list[settlement.Difference]:
    """Compare our payments of `day` with the gateway's records of it; the differences, also on the record."""
    vnpay = get_settings().vnpay
    if not vnpay.ledger_url:
        log.info("settlement comparison skipped: VNPAY_LEDGER_URL is not set")
        return []
    theirs = settlement.gateway_records(vnpay.ledger_url, vnpay.tmn_code, day, timeout_seconds=vnpay.timeout_seconds)
    scope = reconciliation.reconciler_scope()
    with read_only(scope) as session:
        differences = settlement.compare(settlement.ours_for_day(session, day), theirs)
    for d in differences:
        log.error("ALERT settlement %s: %s %s (ours %r, gateway %r)", day, d.txn_ref, d.problem, d.ours, d.gateway)
    with unit_of_work(scope) as session:
        audit.record(
            session,
            "settlement.compared",
            "settlement",
            day.isoformat(),
            detail={
                "gateway_transactions": len(theirs),
                "differences": len(differences),
                "first": [vars(d) for d in differences[:50]],
            },
        )
    return differences


@celery_app.task(name="payments.compare_settlement", bind=True)
def compare_settlement(self: ScopedTask) -> int:
    yesterday = datetime.now(settlement.VN).date() - timedelta(days=1)
    return len(run_comparison(yesterday))
