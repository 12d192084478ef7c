"""The Celery application: all background work.

Broker: kombu's filesystem transport by default, with atomic writes
(portal/core/fs_broker.py; no server, for the demo and tests: web and worker
exchange messages through folders under PORTAL_VAR_DIR);
Redis or RabbitMQ in production via CELERY_BROKER_URL. No result backend:
outcomes are written to the database by the tasks themselves.
Task modules are listed by name so the kernel imports none of them.

Safe on every broker: a message is acknowledged only after its task ran
(late ack), a worker takes one message per pool process (prefetch of one), and
a message whose pool process died is put back (reject on worker lost); every
task is idempotent, so a redelivery files nothing twice. Redis redelivers a
message not acknowledged within its visibility timeout, and RabbitMQ closes a
channel holding a message unacknowledged longer than its consumer_timeout
(30 min by default): a retry's countdown keeps the message unacknowledged in
the worker, so the longest countdown plus the longest run stays below both.
CELERY_QUEUE_PREFIX is put before every queue and exchange name (and, on
Redis, every key), so several deployments or test runs can share one broker.

Tasks run in the scope they were enqueued with: `enqueue(name, args, scope=...)`
(used by the services' on_commit hooks) puts the scope in the message's
headers, and `ScopedTask`, the base of every task, re-enters it in the worker
(`self.work_scope(...)`), so a dossier forwarded for a member of staff is on
the record as their work, done by the worker, and a cross-partner task keeps
the reason it was opened with.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from celery import Celery, Task
from celery.schedules import crontab

from portal.core import fs_broker, observability
from portal.core.errors import TenancyError
from portal.core.settings import Settings, get_settings
from portal.core.tenancy import Scope

log = logging.getLogger(__name__)
SCOPE_HEADER = "portal_scope"


class QueueNames:
    CITY = "city"  # forwarding dossiers and syncing their status with the city system
    NOTIFY = "notify"  # messages to citizens (SMS, email): a slow gateway must not hold up the city's work
    PERIODIC = "periodic"  # sweepers
    PAYMENTS = "payments"  # VNPay: reconciliation (querydr) and refunds
    REPORTS = "reports"  # large exports: minutes of work that must not hold up anything else


TASK_MODULES = ["agents.dossiers.tasks", "agents.notifications.tasks", "agents.reporting.tasks", "payments.tasks"]

TASK_TIME_LIMIT_SECONDS = 300  # a task still running then is killed; its dossier stays queued for the sweeper
MAX_RETRY_COUNTDOWN_SECONDS = 600  # the longest a task may wait before its next try
REDIS_VISIBILITY_TIMEOUT_SECONDS = 3600  # > MAX_RETRY_COUNTDOWN_SECONDS + TASK_TIME_LIMIT_SECONDS
RABBITMQ_CONSUMER_TIMEOUT_SECONDS = 1800  # the server's default; ours must not be set lower
EXPORT_TIME_LIMIT_SECONDS = 1500  # a million-row XLSX on a loaded 2-core machine; < the consumer timeout


def consumed_queues(prefix: str) -> list[str]:
    """The queues a worker consumes (QueueNames), with the deployment's prefix."""
    return [prefix + name for key, name in vars(QueueNames).items() if key.isupper()]


def _broker_options(settings: Settings) -> tuple[str, dict[str, object]]:
    if settings.broker.url.startswith(("redis", "rediss", "sentinel")):
        return settings.broker.url, {
            "visibility_timeout": REDIS_VISIBILITY_TIMEOUT_SECONDS,
            "global_keyprefix": settings.broker.queue_prefix,
            "socket_connect_timeout": 5,
            "socket_timeout": 10,  # a publish never hangs on a half-open connection
        }
    if not settings.broker.url.startswith("filesystem"):
        return settings.broker.url, {"confirm_publish": True}  # RabbitMQ: a publish returns once the broker has it
    folder = settings.broker.folder
    for sub in ("queue", "processed", "staging", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return f"{fs_broker.ALIAS}://", {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),  # broadcasts (remote control), not the current directory
        "store_processed": False,
        "polling_interval": 0.1,
    }


class ScopedTask(Task[Any, Any]):
    """The base of every task: it knows the scope it was enqueued with."""

    def enqueued_scope(self) -> Scope | None:
        """The scope carried by this task's message, re-entered for the worker; None if it carries none."""
        request = self.request
        header = (getattr(request, "headers", None) or {}).get(SCOPE_HEADER) or getattr(request, SCOPE_HEADER, None)
        if header is None:
            return None
        return Scope.from_header(header, origin=f"worker:{self.name}")

    def work_scope(self, partner_id: uuid.UUID | None = None, *, label: str) -> Scope:
        """The scope to do this task's work in.

        The one it was enqueued with when it has one (its partner must be
        `partner_id` when the task names a partner in its arguments);
        otherwise (beat, a message from before scopes travelled) `partner_id`'s
        own scope, labelled `label`.
        """
        scope = self.enqueued_scope()
        if scope is not None:
            if partner_id is not None and (scope.all_partners or scope.partner_id != partner_id):
                raise TenancyError(f"task {self.name} for partner {partner_id} carries another scope")
            return scope
        if partner_id is None:
            raise TenancyError(f"task {self.name} carries no scope and names no partner")
        return Scope.partner(partner_id, actor_label=label, origin=f"worker:{self.name}")


def enqueue(task_name: str, args: list[Any], *, scope: Scope) -> None:
    """Send a task by name, carrying `scope` in its headers (ScopedTask re-enters it in the worker)."""
    celery_app.send_task(task_name, args=args, headers={SCOPE_HEADER: scope.as_header()})


def create_celery(settings: Settings | None = None) -> Celery[ScopedTask]:
    settings = settings or get_settings()
    prefix = settings.broker.queue_prefix
    broker_url, transport_options = _broker_options(settings)
    settings.var_dir.mkdir(parents=True, exist_ok=True)  # beat keeps its schedule there, whatever the broker
    app = Celery("portal", broker=broker_url, include=TASK_MODULES, task_cls=ScopedTask)
    observability.install()  # request ids in task headers, task metrics, JSON logs (docs/operations.md)
    app.conf.update(
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a worker waits out a broker restart instead of exiting
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_time_limit=TASK_TIME_LIMIT_SECONDS,
        worker_prefetch_multiplier=1,
        worker_cancel_long_running_tasks_on_connection_loss=True,  # the broker redelivers them anyway
        control_exchange=f"{prefix}celery",
        event_exchange=f"{prefix}celeryev",
        task_default_queue=prefix + QueueNames.CITY,
        task_routes={
            "dossiers.forward": {"queue": prefix + QueueNames.CITY},
            "dossiers.sync_status": {"queue": prefix + QueueNames.CITY},
            "dossiers.sweep_unforwarded": {"queue": prefix + QueueNames.PERIODIC},
            "dossiers.poll_silent": {"queue": prefix + QueueNames.PERIODIC},
            "dossiers.send_city_request": {"queue": prefix + QueueNames.CITY},
            "dossiers.sweep_city_requests": {"queue": prefix + QueueNames.PERIODIC},
            "payments.reconcile": {"queue": prefix + QueueNames.PAYMENTS},
            "payments.send_refund": {"queue": prefix + QueueNames.PAYMENTS},
            "payments.compare_settlement": {"queue": prefix + QueueNames.PAYMENTS},
            "notifications.send": {"queue": prefix + QueueNames.NOTIFY},
            "notifications.sweep": {"queue": prefix + QueueNames.PERIODIC},
            "reporting.refresh": {"queue": prefix + QueueNames.PERIODIC},
            "reporting.rebuild": {"queue": prefix + QueueNames.PERIODIC},
            "reporting.export": {"queue": prefix + QueueNames.REPORTS},
        },
        beat_schedule={
            "sweep-unforwarded-dossiers": {
                "task": "dossiers.sweep_unforwarded",
                "schedule": settings.forwarding.sweep_interval_seconds,
            },
            "poll-silent-dossiers": {
                "task": "dossiers.poll_silent",
                "schedule": settings.forwarding.sweep_interval_seconds * 2,
            },
            "sweep-city-requests": {
                "task": "dossiers.sweep_city_requests",
                "schedule": settings.forwarding.sweep_interval_seconds,
            },
            "reconcile-vnpay-payments": {
                "task": "payments.reconcile",
                "schedule": settings.vnpay.reconcile_interval_seconds,
            },
            "compare-vnpay-settlement": {"task": "payments.compare_settlement", "schedule": 24 * 3600},
            "rebuild-rollups-nightly": {"task": "reporting.rebuild", "schedule": crontab(hour=2, minute=30)},
            "sweep-notifications": {
                "task": "notifications.sweep",
                "schedule": settings.forwarding.sweep_interval_seconds,
            },
        },
        beat_schedule_filename=str(settings.var_dir / "celerybeat-schedule"),
        timezone="Asia/Ho_Chi_Minh",
        enable_utc=True,
    )
    return app


celery_app = create_celery()
