"""The Celery application: all background work.

Broker: kombu's filesystem transport by default, with atomic writes
(portal/core/fs_broker.py; no server, for the demo and tests: web and worker
exchange messages through folders under PORTAL_VAR_DIR);
Redis or RabbitMQ in production via CELERY_BROKER_URL. No result backend:
outcomes are written to the database by the tasks themselves.
Task modules are listed by name so the kernel imports none of them.
"""

from __future__ import annotations

from celery import Celery

from portal.core import fs_broker, observability
from portal.core.settings import get_settings


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


def create_celery() -> Celery:
    settings = get_settings()
    broker_url, transport_options = _broker_options()
    app = Celery("portal", broker=broker_url, include=TASK_MODULES)
    observability.install()  # request ids in task headers, task metrics, JSON logs (docs/operations.md)
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
