"""GET /healthz: is the database reachable, is the broker reachable, does clamd answer.

clamd down makes the portal refuse uploads (never store unscanned) but not stop serving:
`scanner` says so, and only the database and the broker decide the status code.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, Response, get
from litestar.openapi.datastructures import ResponseSpec

from portal.core.celery_app import celery_app
from portal.core.db import check_database
from portal.core.scanner import ClamdScanner
from portal.core.settings import get_settings


def _check_broker() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {type(exc).__name__}"


class HealthOut(msgspec.Struct):
    status: str  # "ok" or "degraded"
    checks: dict[str, str]  # what was checked → "ok" or "error: <kind>"


class HealthController(Controller):
    path = "/"

    @get(
        "/healthz",
        sync_to_thread=True,
        responses={503: ResponseSpec(HealthOut, description="Degraded: a check failed", generate_examples=False)},
    )
    def healthz(self) -> Response[HealthOut]:
        checks = {"database": check_database(), "broker": _check_broker()}
        healthy = all(v == "ok" for v in checks.values())
        scanner = ClamdScanner.from_settings(get_settings().scanner)
        checks["scanner"] = "ok" if scanner.ping() else f"unreachable at {scanner.address}: uploads are refused"
        status = "ok" if healthy and checks["scanner"] == "ok" else "degraded"
        return Response(HealthOut(status, checks), status_code=200 if healthy else 503)
