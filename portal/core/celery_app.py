"""The Celery application: all background work.

Broker: kombu's filesystem transport by default, with atomic writes
(portal/core/fs_broker.py; no server, for the demo and tests: web and worker
exchange messages through folders under PORTAL_VAR_DIR);
Redis or RabbitMQ in production via CELERY_BROKER_URL. No result backend:
outcomes are written to the database by the tasks themselves.
Task modules are listed by name so the kernel imports none of them.

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

from portal.core import fs_broker
from portal.core.errors import TenancyError
from portal.core.settings import get_settings
from portal.core.tenancy import Scope

log = logging.getLogger(__name__)
SCOPE_HEADER = "portal_scope"


class QueueNames:
    CITY = "city"  # forwarding dossiers and syncing their status with the city system
    PERIODIC = "periodic"  # sweepers


TASK_MODULES = ["agents.dossiers.tasks"]


def _broker_options() -> tuple[str, dict[str, object]]:
    settings = get_settings()
    if not settings.broker_url.startswith("filesystem"):
        return settings.broker_url, {}
    folder = settings.broker_folder
    for sub in ("queue", "processed", "staging"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return f"{fs_broker.ALIAS}://", {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        "polling_interval": 0.1,
    }


class ScopedTask(Task):  # type: ignore[misc]
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


def create_celery() -> Celery:
    settings = get_settings()
    broker_url, transport_options = _broker_options()
    app = Celery("portal", broker=broker_url, include=TASK_MODULES, task_cls=ScopedTask)
    app.conf.update(
        broker_transport_options=transport_options,
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=QueueNames.CITY,
        task_routes={
            "dossiers.forward": {"queue": QueueNames.CITY},
            "dossiers.sync_status": {"queue": QueueNames.CITY},
            "dossiers.sweep_unforwarded": {"queue": QueueNames.PERIODIC},
            "dossiers.poll_silent": {"queue": QueueNames.PERIODIC},
        },
        beat_schedule={
            "sweep-unforwarded-dossiers": {
                "task": "dossiers.sweep_unforwarded",
                "schedule": settings.sweep_interval_seconds,
            },
            "poll-silent-dossiers": {
                "task": "dossiers.poll_silent",
                "schedule": settings.sweep_interval_seconds * 2,
            },
        },
        beat_schedule_filename=str(settings.var_dir / "celerybeat-schedule"),
        timezone="Asia/Ho_Chi_Minh",
        enable_utc=True,
    )
    return app


celery_app = create_celery()
