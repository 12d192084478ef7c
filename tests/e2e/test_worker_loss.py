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

# Far longer than it takes to find and kill the process, even on a loaded machine where asking the
# worker what it runs takes seconds (and shorter than the stack's city timeout): the forward is
# still waiting for the city when it dies. Reset right after the kill, so it costs no time.
SLOW_CITY_MS = 40_000
# The SMS gateway as slow as that for the notification test (below the stack's SMS timeout, 10 s,
# so a live worker's send would succeed).
SLOW_SMS_MS = 6_000


@pytest.fixture(scope="module")
def counter():
    return create_counter(point_name="Bưu điện Mất Điện")


def _forward_running(stack: RunningStack, dossier_id: str) -> tuple[int, str]:
    """(pid of the pool process, task id) of a forward of this dossier, asked of the worker itself."""
    control = stack.control()

    def running() -> tuple[int, str] | None:
        replies = control.control.inspect(timeout=3.0, limit=1).active() or {}
        for tasks in replies.values():
            for task in tasks:
                if task["name"] == "dossiers.forward" and task["args"][0] == dossier_id:
                    return int(task["worker_pid"]), str(task["id"])
        return None

    try:
        # The stack's poller asks the city about every silent dossier other tests left in the shared
        # database (hundreds by the time the later brokers run), on the same queue; only submissions are
        # slowed, so those look-ups stay quick, but on a busy machine they can still take a minute.
        return stack.wait_for(running, timeout=180, what="the worker to start forwarding the dossier")
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
    stack.configure_city(submit_latency_ms=SLOW_CITY_MS)
    try:
        _, dossier_id, tracking_code = file_at_the_counter(stack, staff)
        pid, task_id = _forward_running(stack, dossier_id)
        os.kill(pid, signal.SIGKILL)
    finally:
        stack.configure_city(submit_latency_ms=0)
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
    stack.configure_city(submit_latency_ms=SLOW_CITY_MS)
    try:
        _, dossier_id, tracking_code = file_at_the_counter(stack, staff)
        _, task_id = _forward_running(stack, dossier_id)
        stack.kill_worker()
    finally:
        stack.configure_city(submit_latency_ms=0)
    assert reload_dossier(uuid.UUID(dossier_id)).state is DossierState.queued
    stack.start_worker()
    _forwarded_once(stack, dossier_id, tracking_code)
    if stack.broker == "rabbitmq":
        stack.wait_for(lambda: _deliveries(stack, task_id) >= 2, what=f"RabbitMQ to hand back task {task_id}")


def _sending_notification(stack: RunningStack, ours: set[str]) -> str:
    """The id of one of `ours` a worker is sending right now (asked of the worker itself)."""
    control = stack.control()

    def running() -> str | None:
        replies = control.control.inspect(timeout=3.0, limit=1).active() or {}
        for tasks in replies.values():
            for task in tasks:
                if task["name"] == "notifications.send" and task["args"][0] in ours:
                    return str(task["args"][0])
        return None

    try:
        return stack.wait_for(running, what="the worker to start sending the citizen's SMS")
    finally:
        control.close()


def _notifications(dossier_id: uuid.UUID) -> list:  # type: ignore[type-arg]
    from sqlalchemy import select

    from agents.notifications.models import Notification
    from portal.core.db import read_only
    from tests.factories import setup_scope

    with read_only(setup_scope()) as session:
        rows = list(session.scalars(select(Notification).where(Notification.dossier_id == dossier_id)))
        session.expunge_all()
        return rows


def test_a_worker_killed_mid_notification_and_restarted_sends_each_message_once(stack, counter):
    # The SMS gateway answers slowly, so the first message ("received") is still being sent when the
    # whole worker dies. The row stays `sending` under its lease; the restarted worker's sweeper takes
    # it back when the lease ends and sends it again under the same RequestId: the gateway, which may
    # have accepted it meanwhile, answers with the message it has. The city goes on to 10 meanwhile.
    from agents.notifications.models import Channel, DeliveryState

    _partner, _point, staff = counter
    stack.wait_until_idle()
    stack.configure_sms(latency_ms=SLOW_SMS_MS)
    try:
        _, dossier_id, tracking_code = file_at_the_counter(stack, staff, notify_sms="on")
        ours = stack.wait_for(
            lambda: {str(n.id) for n in _notifications(uuid.UUID(dossier_id))}, what="the first message written"
        )
        sending = _sending_notification(stack, ours)
        stack.wait_for(  # claimed (committed), now waiting on the slow gateway
            lambda: any(
                str(n.id) == sending and n.state is DeliveryState.sending for n in _notifications(uuid.UUID(dossier_id))
            ),
            what="the message claimed for sending",
        )
        stack.kill_worker()
    finally:
        stack.configure_sms(latency_ms=0)
    [held] = [n for n in _notifications(uuid.UUID(dossier_id)) if str(n.id) == sending]
    assert held.state is DeliveryState.sending, "killed before the gateway answered"
    stack.start_worker()

    def all_sent():  # type: ignore[no-untyped-def]
        rows = _notifications(uuid.UUID(dossier_id))
        done = [r for r in rows if r.state in (DeliveryState.accepted, DeliveryState.delivered)]
        return rows if len(rows) == 3 and len(done) == 3 else None

    rows = stack.wait_for(all_sent, timeout=90, what="the three messages sent after the restart")
    assert sorted(r.city_status for r in rows) == [2, 9, 10] and {r.channel for r in rows} == {Channel.sms}
    texts = [m for m in stack.sms.get("/_sim/messages").json()["items"] if tracking_code in m["Content"]]
    assert len(texts) == 3, "one text per news: the one being sent when the worker died went once"
    [again] = [r for r in rows if str(r.id) == sending]
    assert again.attempts >= 2  # sent again by the restarted worker, under the same RequestId
