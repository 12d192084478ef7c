"""The request id and the log context across processes, and the worker's metrics.

- Publishing a task (web, worker, beat): the current request id goes into the
  message's headers (`before_task_publish`).
- Running a task (worker): a fresh log context with that request id (or a new
  one for beat's own tasks), the task's name and id, and the `dossier_id` /
  `partner_id` found among its arguments (`task_prerun`), closed again when
  the task ends (`task_postrun`). Its outcome and duration are counted.
- Any transaction opened in a partner's scope names that partner in the log
  context (SQLAlchemy `after_begin`).
- The worker configures logging through portal.core.logging (`setup_logging`)
  and, when WORKER_METRICS_PORT is set, serves its metrics (`worker_ready`).

Outbound HTTP carries the request id too: see portal.core.http.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import time
from collections.abc import Iterable
from contextvars import Token
from typing import TYPE_CHECKING, Any

from celery import signals
from kombu.exceptions import ChannelError
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.core import metrics
from portal.core.logging import (
    accept_request_id,
    bind,
    close_context,
    configure_logging,
    current_request_id,
    new_request_id,
    open_context,
)
from portal.core.settings import get_settings
from portal.core.tenancy import Scope

if TYPE_CHECKING:
    from celery import Celery, Task

log = logging.getLogger(__name__)

#: Name of the task message header that carries the request id.
TASK_HEADER = "request_id"

# Task arguments copied into the log context when a task's signature names them.
_ID_ARGUMENTS = ("dossier_id", "partner_id")
_running: dict[str, tuple[Token[Any], float]] = {}
_signatures: dict[str, inspect.Signature | None] = {}


def _ids_in_arguments(
    task: Task[Any, Any], args: Iterable[Any] | None, kwargs: dict[str, Any] | None
) -> dict[str, Any]:
    if task.name not in _signatures:
        try:
            _signatures[task.name] = inspect.signature(task.run)
        except (TypeError, ValueError):
            _signatures[task.name] = None
    signature = _signatures[task.name]
    if signature is None:
        return {}
    try:
        arguments = signature.bind_partial(*(args or ()), **(kwargs or {})).arguments
    except TypeError:
        return {}
    return {name: arguments[name] for name in _ID_ARGUMENTS if arguments.get(name)}


def _request_id_of(task: Task[Any, Any]) -> str | None:
    request = task.request
    raw = (request.headers or {}).get(TASK_HEADER) or getattr(request, TASK_HEADER, None)
    return accept_request_id(raw) if isinstance(raw, str) else None


# -- signal handlers -------------------------------------------------------------------


def _put_request_id_in_headers(headers: dict[str, Any] | None = None, **_: Any) -> None:
    request_id = current_request_id()
    if request_id and headers is not None and not headers.get(TASK_HEADER):
        headers[TASK_HEADER] = request_id


def _open_task_context(
    task_id: str | None = None,
    task: Task[Any, Any] | None = None,
    args: Iterable[Any] | None = None,
    kwargs: dict[str, Any] | None = None,
    **_: Any,
) -> None:
    if task is None or task_id is None:
        return
    token = open_context(
        request_id=_request_id_of(task) or new_request_id(),
        task_name=task.name,
        task_id=task_id,
        **_ids_in_arguments(task, args, kwargs),
    )
    _running[task_id] = (token, time.perf_counter())


def _close_task_context(task_id: str | None = None, task: Task[Any, Any] | None = None, **_: Any) -> None:
    opened = _running.pop(task_id or "", None)
    if opened is None:
        return
    token, started = opened
    if task is not None:
        metrics.TASK_DURATION.labels(task=task.name).observe(time.perf_counter() - started)
    close_context(token)


def _count_success(sender: Task[Any, Any] | None = None, result: Any = None, **_: Any) -> None:
    if sender is not None:
        metrics.TASKS.labels(task=sender.name, outcome="success").inc()
        metrics.count_task_result(sender.name, result)


def _count_failure(sender: Task[Any, Any] | None = None, **_: Any) -> None:
    if sender is not None:
        metrics.TASKS.labels(task=sender.name, outcome="failure").inc()


def _count_retry(sender: Task[Any, Any] | None = None, **_: Any) -> None:
    if sender is not None:
        metrics.TASKS.labels(task=sender.name, outcome="retry").inc()


def _configure_worker_logging(**_: Any) -> None:
    # Connected, so Celery leaves logging alone: every line goes through our formatter.
    configure_logging(get_settings(), service="worker")


def _start_exporter(**_: Any) -> None:
    metrics.start_worker_exporter(get_settings())


def _name_the_partner(session: Session, _transaction: object, _connection: object) -> None:
    scope = session.info.get("scope")
    if isinstance(scope, Scope) and scope.partner_id is not None:
        bind(partner_id=scope.partner_id)


_HANDLERS = (
    (signals.before_task_publish, _put_request_id_in_headers),
    (signals.task_prerun, _open_task_context),
    (signals.task_postrun, _close_task_context),
    (signals.task_success, _count_success),
    (signals.task_failure, _count_failure),
    (signals.task_retry, _count_retry),
    (signals.setup_logging, _configure_worker_logging),
    (signals.worker_ready, _start_exporter),
)


def install() -> None:
    """Connect the handlers above (once per process, however often it is called)."""
    for signal, handler in _HANDLERS:
        signal.connect(handler, weak=False, dispatch_uid=f"portal.observability.{handler.__name__}")
    if not event.contains(Session, "after_begin", _name_the_partner):
        event.listen(Session, "after_begin", _name_the_partner)


# -- queue depth ---------------------------------------------------------------------------


def worker_queues(app: Celery[Any]) -> list[str]:
    """The queues tasks are routed to (the ones workers consume)."""
    routes = app.conf.task_routes
    queues = {app.conf.task_default_queue}
    if isinstance(routes, dict):
        queues |= {route["queue"] for route in routes.values() if isinstance(route, dict) and "queue" in route}
    return sorted(q for q in queues if q)


def _timeout_options(broker_url: str, timeout: float) -> dict[str, float]:
    scheme = broker_url.split("://", 1)[0].split("+")[-1]
    if scheme in ("redis", "rediss", "sentinel"):
        return {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    if scheme in ("amqp", "amqps", "pyamqp"):
        return {"read_timeout": timeout, "write_timeout": timeout}
    return {}


def broker_queue_depths(app: Celery[Any], timeout: float = 1.5) -> dict[str, int]:
    """Messages waiting per queue, by a passive declare (Redis: LLEN; RabbitMQ: message_count; folder: files).

    A queue the broker does not know (Redis drops empty lists) counts 0. Queues are
    labelled by their name in the code (`city`, `periodic`), without the deployment's
    CELERY_QUEUE_PREFIX, so dashboards read the same for every deployment.
    """
    prefix = get_settings().broker.queue_prefix
    depths: dict[str, int] = {}
    options = _timeout_options(str(app.conf.broker_url or ""), timeout)
    with app.connection_for_read(connect_timeout=timeout, transport_options=options) as conn:
        # kombu takes the timeout in seconds as a float; celery-types' stub says int.
        conn.ensure_connection(max_retries=1, timeout=timeout)  # type: ignore[arg-type]
        unknown_queue: tuple[type[BaseException], ...] = (ChannelError, *conn.channel_errors)
        for queue in worker_queues(app):
            # The transport's own channel (kombu's virtual one or py-amqp's): the stub's StdChannel
            # is the abstract base, without queue_declare or close.
            channel: Any = conn.channel()
            try:
                depths[queue.removeprefix(prefix)] = int(channel.queue_declare(queue=queue, passive=True).message_count)
            except unknown_queue:
                depths[queue.removeprefix(prefix)] = 0
            finally:
                with contextlib.suppress(Exception):  # a channel the broker already closed
                    channel.close()
    return depths
