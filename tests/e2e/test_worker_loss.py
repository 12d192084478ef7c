"""A worker killed while it forwards a dossier loses nothing and files nothing twice, on every broker.

The city answers slowly (latency knob), so the forward is still waiting for the
city's answer when its process is SIGKILLed: the city may or may not have
received the dossier, and the portal has recorded nothing.
"""

import os
import signal
import uuid

import pytest

from agents.dossiers.models import DossierState
from tests.e2e.conftest import RunningStack, file_at_the_counter
from tests.factories import create_counter, reload_dossier

pytestmark = pytest.mark.stack

# Far longer than it takes to find and kill the process (and shorter than the stack's city timeout):
# the forward is still waiting for the city when it dies. Reset right after the kill.
SLOW_CITY_MS = 10_000


@pytest.fixture(scope="module")
def counter():
    return create_counter(point_name="Bưu điện Mất Điện")


def _forward_running(stack: RunningStack, dossier_id: str) -> tuple[int, str]:
    """(pid of the pool process, task id) of a forward of this dossier, asked of the worker itself."""
    control = stack.control()

    def running() -> tuple[int, str] | None:
        replies = control.control.inspect(timeout=1.0, limit=1).active() or {}
        for tasks in replies.values():
            for task in tasks:
                if task["name"] == "dossiers.forward" and task["args"][0] == dossier_id:
                    return int(task["worker_pid"]), str(task["id"])
        return None

    try:
        return stack.wait_for(running, what="the worker to start forwarding the dossier")
    finally:
        control.close()


def _deliveries(stack: RunningStack, task_id: str) -> int:
    """How often the worker's log says it received this task (the worker's own record)."""
    return (stack.logs / "worker.log").read_text(errors="replace").count(f"dossiers.forward[{task_id}] received")


def _forwarded_once(stack: RunningStack, dossier_id: str, tracking_code: str) -> None:
    forwarded = stack.wait_for(
        lambda: (d := reload_dossier(uuid.UUID(dossier_id))).state is DossierState.forwarded and d,
        what="the dossier to be forwarded after the worker was lost",
    )
    copies = stack.city_dossiers(tracking_code)
    assert [c["MaHoSo"] for c in copies] == [forwarded.city_dossier_code], "the city must hold the dossier once"
    assert [e.state for e in forwarded.events if e.source == "portal"] == ["queued", "forwarded"]


def test_a_pool_process_killed_mid_forward_is_replaced_and_its_dossier_is_filed_once(stack, counter):
    # Late acknowledgement + reject on worker lost: the message goes back to the queue at once.
    _partner, _point, staff = counter
    stack.wait_until_idle()  # the forward is taken at once, not after other work slowed by the city
    stack.configure_city(latency_ms=SLOW_CITY_MS)
    try:
        _, dossier_id, tracking_code = file_at_the_counter(stack, staff)
        pid, task_id = _forward_running(stack, dossier_id)
        os.kill(pid, signal.SIGKILL)
    finally:
        stack.configure_city(latency_ms=0)
    assert reload_dossier(uuid.UUID(dossier_id)).state is DossierState.queued, "killed before the city answered"
    _forwarded_once(stack, dossier_id, tracking_code)
    # The same task again (not a retry: its only try never ended), so the broker gave the message back.
    stack.wait_for(
        lambda: _deliveries(stack, task_id) >= 2, what=f"the broker to deliver the lost task {task_id} again"
    )
    assert stack.stack.processes["worker"].poll() is None, "the worker outlives one of its pool processes"


def test_a_worker_killed_mid_forward_and_restarted_files_its_dossier_once(stack, counter):
    # The whole worker (main process, pool, beat) dies without a word. RabbitMQ hands the unacknowledged
    # message back when the connection drops; Redis only after its visibility timeout and the filesystem
    # broker never: there the restarted worker's sweeper re-enqueues the dossier left queued.
    _partner, _point, staff = counter
    stack.wait_until_idle()
    stack.configure_city(latency_ms=SLOW_CITY_MS)
    try:
        _, dossier_id, tracking_code = file_at_the_counter(stack, staff)
        _, task_id = _forward_running(stack, dossier_id)
        stack.kill_worker()
    finally:
        stack.configure_city(latency_ms=0)
    assert reload_dossier(uuid.UUID(dossier_id)).state is DossierState.queued
    stack.start_worker()
    _forwarded_once(stack, dossier_id, tracking_code)
    if stack.broker == "rabbitmq":
        stack.wait_for(lambda: _deliveries(stack, task_id) >= 2, what=f"RabbitMQ to hand back task {task_id}")
