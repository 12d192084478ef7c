"""Prometheus metrics: what the portal measures, and how a scrape is answered.

Every metric is declared here (docs/operations.md lists them with their
labels and what to alert on). Processes that run several children — uvicorn
with `--workers`, Celery's prefork pool — use prometheus_client's multiprocess
mode: with `PROMETHEUS_MULTIPROC_DIR` set before the process starts, each
process writes its samples to files in that folder and a scrape adds them up.
portal.launcher.prepare_metrics empties the folder when a service starts,
so counters begin at zero with the service.

Scrapes are answered by the web app at `/metrics` and by the worker's own
small exporter (`start_worker_exporter`); both demand `METRICS_TOKEN` as a
bearer token when one is set, and refuse everyone in production when none is.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

if TYPE_CHECKING:
    from portal.core.settings import Settings

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# No `*_created` series: they double the output and nothing here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

# -- what is measured ---------------------------------------------------------------

HTTP_REQUEST_DURATION = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer a web request, by route template (not raw path), method and status code.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

TASKS = Counter(
    "portal_tasks",
    "Celery task runs by task name and outcome: success, failure (raised), retry (re-scheduled).",
    ["task", "outcome"],
)

TASK_RESULTS = Counter(
    "portal_task_results",
    "What tasks that return a word reported (dossiers.forward: forwarded, rejected, left_for_sweeper...).",
    ["task", "result"],
)

TASK_DURATION = Histogram(
    "portal_task_duration_seconds",
    "Time one task run took, by task name.",
    ["task"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0),
)

FORWARDING_LAG = Histogram(
    "portal_dossier_forwarding_lag_seconds",
    "Time from filing a dossier at the counter to the city system accepting it.",
    buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400),
)

CALLBACK_REFUSAL_REASONS = ("bad_signature", "malformed", "unknown_dossier")
CALLBACKS_REFUSED = Counter(
    "portal_city_callbacks_refused",
    "Status callbacks from the city system the portal refused, by reason.",
    ["reason"],
)
for _reason in CALLBACK_REFUSAL_REASONS:  # every reason shows from the start, at 0
    CALLBACKS_REFUSED.labels(reason=_reason)

# Only short words count as results (forwarded, rejected...): numbers and free text
# are left out, so a task cannot create series without bound.
_MAX_RESULT_LENGTH = 40


def observe_forwarding_lag(filed_at: datetime) -> None:
    """The dossier filed at `filed_at` was accepted by the city just now."""
    FORWARDING_LAG.observe(max(0.0, (datetime.now(UTC) - filed_at).total_seconds()))


def count_task_result(task: str, result: object) -> None:
    if isinstance(result, str) and 0 < len(result) <= _MAX_RESULT_LENGTH and result.replace("_", "").isalnum():
        TASK_RESULTS.labels(task=task, result=result).inc()


# -- queue depth, measured at scrape time ---------------------------------------------------


class QueueDepthCollector:
    """`portal_queue_depth{queue}` and `portal_broker_up`, asked of the broker when scraped.

    `measure` returns messages waiting per queue. It runs in one background
    thread and is given `timeout` seconds: a broker that does not answer makes
    `portal_broker_up` 0 and the depths absent, never a hanging scrape. While a
    slow measurement is still running, later scrapes do not start another.
    """

    def __init__(self, measure: Callable[[], dict[str, int]], timeout: float = 2.0) -> None:
        self._measure = measure
        self._timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="queue-depth")
        self._running: Future[dict[str, int]] | None = None
        self._lock = threading.Lock()

    def _depths(self) -> dict[str, int] | None:
        with self._lock:
            if self._running is not None and not self._running.done():
                return None  # the previous measurement is still stuck on the broker
            self._running = future = self._executor.submit(self._measure)
        try:
            return future.result(timeout=self._timeout)
        except FutureTimeout:
            log.warning("the broker did not report queue depths within %.1fs", self._timeout)
        except Exception as exc:  # noqa: BLE001 - a scrape reports the broker as down, it does not fail
            log.warning("could not read queue depths from the broker: %s: %s", type(exc).__name__, exc)
        return None

    def collect(self) -> Iterator[Metric]:
        depths = self._depths()
        up = GaugeMetricFamily("portal_broker_up", "1 when the broker reported queue depths in time for this scrape.")
        up.add_metric([], 0 if depths is None else 1)
        yield up
        if depths is not None:
            gauge = GaugeMetricFamily(
                "portal_queue_depth",
                "Messages waiting in a broker queue (not yet taken by a worker).",
                labels=["queue"],
            )
            for queue, count in sorted(depths.items()):
                gauge.add_metric([queue], count)
            yield gauge


# -- answering a scrape -------------------------------------------------------------------


class _Together:
    def __init__(self, collectors: Iterable[Any]) -> None:
        self._collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self._collectors:
            yield from collector.collect()


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def render(accept: str | None, extra_collectors: Iterable[Any] = ()) -> tuple[bytes, str]:
    """(body, content type) for a scrape with this Accept header: this service's processes
    (all of them in multiprocess mode) plus `extra_collectors`."""
    if multiprocess_dir():
        base = CollectorRegistry()
        MultiProcessCollector(base)  # type: ignore[no-untyped-call]
    else:
        base = REGISTRY
    encode, content_type = choose_encoder(accept or "")
    return encode(_Together([base, *extra_collectors])), content_type


def scrape_refusal(settings: Settings, authorization: str | None) -> tuple[int, str] | None:
    """None when a scrape may proceed, else (HTTP status, reason)."""
    token = settings.observability.metrics_token
    if token is None:
        if settings.is_production:
            return 403, "metrics are disabled: set METRICS_TOKEN and scrape with it as a bearer token"
        return None
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return 401, "a valid bearer token is required"
    return None


# -- the worker's exporter ---------------------------------------------------------------


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass


def metrics_wsgi_app(settings: Settings, extra_collectors: Iterable[Any] = ()) -> Callable[..., Iterable[bytes]]:
    collectors = list(extra_collectors)

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"not found: scrape /metrics\n"]
        refusal = scrape_refusal(settings, environ.get("HTTP_AUTHORIZATION"))
        if refusal is not None:
            status, reason = refusal
            headers = [("Content-Type", "text/plain; charset=utf-8")]
            if status == 401:
                headers.append(("WWW-Authenticate", "Bearer"))
            start_response(f"{status} {'Unauthorized' if status == 401 else 'Forbidden'}", headers)
            return [reason.encode() + b"\n"]
        body, content_type = render(environ.get("HTTP_ACCEPT"), collectors)
        start_response("200 OK", [("Content-Type", content_type)])
        return [body]

    return app


def start_worker_exporter(settings: Settings) -> WSGIServer | None:
    """Serve the worker's metrics (all prefork children) on WORKER_METRICS_HOST:WORKER_METRICS_PORT."""
    options = settings.observability
    if options.worker_metrics_port is None:
        return None
    if not multiprocess_dir():
        log.warning(
            "worker metrics exporter not started: %s is not set, so the pool's samples are not shared", MULTIPROC_ENV
        )
        return None
    server = make_server(
        options.worker_metrics_host,
        options.worker_metrics_port,
        metrics_wsgi_app(settings),
        server_class=_ThreadingServer,
        handler_class=_QuietHandler,
    )
    threading.Thread(target=server.serve_forever, name="metrics-exporter", daemon=True).start()
    log.info("worker metrics on http://%s:%s/metrics", options.worker_metrics_host, options.worker_metrics_port)
    return server
