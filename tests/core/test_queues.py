"""The worker consumes exactly the queues the tasks are routed to, and is safe on Redis and RabbitMQ.

Both sides come from the code: the routes and the registered tasks from the
Celery app (after importing its task modules), the queues from the command the
launcher starts the worker with.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from celery import Celery

import agents
import payments
from portal.core import celery_app as kernel
from portal.core import fs_broker
from portal.core.settings import load_settings
from portal.launcher import child_env, worker_command


def _our_tasks(app: Celery) -> list[str]:
    for module in kernel.TASK_MODULES:
        importlib.import_module(module)
    # Only the application's tasks: a test may define tasks of its own on the app.
    return sorted(name for name, task in app.tasks.items() if task.__module__ in kernel.TASK_MODULES)


def _consumed(env: dict[str, str]) -> list[str]:
    command = worker_command(env)
    return command[command.index("--queues") + 1].split(",")


@pytest.fixture
def app_for():  # type: ignore[no-untyped-def]
    """Build the Celery app as a process with this environment would."""
    yield lambda env: kernel.create_celery(load_settings(env))
    kernel.celery_app.set_current()


def test_every_task_is_routed_to_a_queue_the_worker_consumes():
    routes = kernel.celery_app.conf.task_routes
    consumed = _consumed(child_env())
    tasks = _our_tasks(kernel.celery_app)
    assert tasks, "no task registered: the task modules did not load"
    unrouted = [name for name in tasks if name not in routes]
    assert unrouted == [], f"tasks without a route (they would land on the default queue): {unrouted}"
    unconsumed = {name: routes[name]["queue"] for name in tasks if routes[name]["queue"] not in consumed}
    assert unconsumed == {}, f"routed to queues no worker reads: {unconsumed}"


def test_every_module_that_defines_a_task_is_one_the_worker_loads():
    # A task in a module missing from TASK_MODULES would never be registered in the worker,
    # and the tests above, which start from that list, would not see it either.
    for package in (agents, payments):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            importlib.import_module(module.name)
    defining = {task.__module__ for task in kernel.celery_app.tasks.values()}
    ours = {module for module in defining if module.partition(".")[0] in ("agents", "payments", "portal")}
    assert ours and ours - set(kernel.TASK_MODULES) == set()


def test_every_queue_the_worker_consumes_has_a_task():
    routes = kernel.celery_app.conf.task_routes
    tasks = _our_tasks(kernel.celery_app)
    idle = [queue for queue in _consumed(child_env()) if not any(routes[t]["queue"] == queue for t in tasks)]
    assert idle == []


def test_every_periodic_task_exists():
    tasks = _our_tasks(kernel.celery_app)
    scheduled = [entry["task"] for entry in kernel.celery_app.conf.beat_schedule.values()]
    assert scheduled and [name for name in scheduled if name not in tasks] == []


def test_a_queue_prefix_reaches_the_routes_the_worker_and_the_control_exchange(app_for):
    env = child_env({"CELERY_QUEUE_PREFIX": "run-42."})
    app = app_for(env)
    queues = {route["queue"] for route in app.conf.task_routes.values()}
    assert queues == set(_consumed(env))
    assert all(queue.startswith("run-42.") for queue in queues)
    assert app.conf.task_default_queue.startswith("run-42.")
    assert app.conf.control_exchange == "run-42.celery"


def test_on_redis_every_key_is_prefixed_and_a_message_outlives_the_longest_retry(app_for):
    from agents.dossiers.tasks import backoff_seconds

    app = app_for(child_env({"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0", "CELERY_QUEUE_PREFIX": "x."}))
    options = app.conf.broker_transport_options
    assert options["global_keyprefix"] == "x."
    # A retry waits its countdown holding the message unacknowledged: Redis must not hand it
    # to another worker before the countdown and the task's own run are over.
    longest_wait = max(backoff_seconds(retries, retry_after=86400) for retries in range(20))
    assert longest_wait <= kernel.MAX_RETRY_COUNTDOWN_SECONDS
    assert options["visibility_timeout"] > longest_wait + app.conf.task_time_limit
    # The same wait must stay within RabbitMQ's delivery acknowledgement timeout (consumer_timeout).
    assert longest_wait + app.conf.task_time_limit < kernel.RABBITMQ_CONSUMER_TIMEOUT_SECONDS


@pytest.mark.parametrize("broker_url", ["filesystem://", "redis://127.0.0.1:6379/0", "amqp://guest@127.0.0.1//"])
def test_the_worker_acknowledges_late_takes_one_message_at_a_time_and_gives_back_a_lost_one(broker_url, app_for):
    conf = app_for(child_env({"CELERY_BROKER_URL": broker_url})).conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_connection_retry_on_startup and conf.broker_connection_max_retries is None


@pytest.mark.parametrize("given", [None, "filesystem://"])
def test_the_embedded_broker_is_the_atomic_one_however_it_is_named(given, app_for, monkeypatch):
    # Celery reads CELERY_BROKER_URL from the environment itself, over the app's configuration.
    if given:
        monkeypatch.setenv("CELERY_BROKER_URL", given)
    else:
        monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    with app_for(child_env()).connection() as conn:
        assert isinstance(conn.transport, fs_broker.Transport)
