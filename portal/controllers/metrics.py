"""GET /metrics: Prometheus scrapes the web processes here (docs/operations.md).

With several web processes (uvicorn --workers) the answer adds up all of them
(prometheus_client's multiprocess mode); queue depths are read from the broker
at scrape time. A bearer token (METRICS_TOKEN) is required when configured;
production without one refuses every scrape.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Controller, Request, Response, get

from portal.auth.session import client_ip
from portal.core import metrics
from portal.core.celery_app import celery_app
from portal.core.observability import broker_queue_depths
from portal.core.settings import get_settings

log = logging.getLogger(__name__)

QUEUE_DEPTHS = metrics.QueueDepthCollector(lambda: broker_queue_depths(celery_app, timeout=1.5), timeout=2.0)


class MetricsController(Controller):
    path = "/metrics"
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def scrape(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        refusal = metrics.scrape_refusal(get_settings(), request.headers.get("authorization"))
        if refusal is not None:
            status, reason = refusal
            log.warning("metrics scrape refused (%s) from %s", status, client_ip(request))
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
            return Response(reason.encode(), status_code=status, media_type="text/plain", headers=headers)
        body, content_type = metrics.render(request.headers.get("accept"), [QUEUE_DEPTHS])
        return Response(body, headers={"Content-Type": content_type})
