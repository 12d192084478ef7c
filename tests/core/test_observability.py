"""The request id travels with the work (task messages, outbound HTTP); tasks and queues are measured."""

import json
import socket
import threading
import time
import uuid
from urllib.parse import urlparse

import pytest
from celery import Celery
from prometheus_client import REGISTRY
from sqlalchemy import text

from portal.core import fs_broker, metrics, observability
from portal.core.db import read_only
from portal.core.http import make_http_client
from portal.core.logging import bound, log_context
from portal.core.tenancy import Scope
from tests.factories import create_partner
from tests.servers import serve_in_thread

observability.install()


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def memory_app():
    app = Celery("tests-observability", broker="memory://")
    app.conf.task_default_queue = f"obs-{uuid.uuid4().hex[:10]}"
    return app


# -- task messages ----------------------------------------------------------------------


def test_a_task_published_during_a_request_carries_its_request_id_in_the_message_headers(memory_app):
    with bound(request_id="req-publish-1"):
        memory_app.send_task("dossiers.forward", args=["d-1", "p-1"])
    memory_app.send_task("dossiers.forward", args=["d-2", "p-1"])  # outside any request: no header
    with memory_app.connection_for_read() as conn, conn.SimpleQueue(memory_app.conf.task_default_queue) as queue:
        first, second = queue.get(timeout=5), queue.get(timeout=5)
        first.ack()
        second.ack()
    assert first.headers["request_id"] == "req-publish-1"
    assert "request_id" not in second.headers


def test_a_running_task_logs_with_the_request_id_it_was_sent_with_and_the_ids_among_its_arguments(memory_app):
    @memory_app.task(shared=False, name="tests.context_of", bind=True)
    def context_of(self, dossier_id, partner_id=None, note=""):  # type: ignore[no-untyped-def]
        return log_context()

    result = context_of.apply(args=["d-7"], kwargs={"partner_id": "p-7", "note": "x"}, headers={"request_id": "req-9"})
    assert result.get() == {
        "request_id": "req-9",
        "task_name": "tests.context_of",
        "task_id": result.id,
        "dossier_id": "d-7",
        "partner_id": "p-7",
    }
    assert log_context() == {}  # the task's context ended with it


def test_a_task_sent_without_a_request_id_gets_a_fresh_one_and_a_forged_one_is_replaced(memory_app):
    @memory_app.task(shared=False, name="tests.request_id_of")
    def request_id_of():  # type: ignore[no-untyped-def]
        return log_context()["request_id"]

    fresh = request_id_of.apply().get()
    forged = request_id_of.apply(headers={"request_id": "bad\nline"}).get()
    assert len(fresh) == 32 and len(forged) == 32 and fresh != forged


def test_task_outcomes_retries_and_reported_results_are_counted_by_task_name(memory_app):
    @memory_app.task(shared=False, name="tests.flaky", bind=True, max_retries=5)
    def flaky(self):  # type: ignore[no-untyped-def]
        if self.request.retries < 2:
            raise self.retry(countdown=0)
        return "forwarded"

    @memory_app.task(shared=False, name="tests.broken")
    def broken():  # type: ignore[no-untyped-def]
        raise RuntimeError("the city changed its API")

    before = {
        outcome: _value("portal_tasks_total", task=name, outcome=outcome)
        for name, outcome in [("tests.flaky", "retry"), ("tests.flaky", "success"), ("tests.broken", "failure")]
    }
    runs_before = _value("portal_task_duration_seconds_count", task="tests.flaky")
    assert flaky.apply().get() == "forwarded"
    broken.apply(throw=False)
    assert _value("portal_tasks_total", task="tests.flaky", outcome="retry") == before["retry"] + 2
    assert _value("portal_tasks_total", task="tests.flaky", outcome="success") == before["success"] + 1
    assert _value("portal_tasks_total", task="tests.broken", outcome="failure") == before["failure"] + 1
    assert _value("portal_task_results_total", task="tests.flaky", result="forwarded") >= 1
    assert _value("portal_task_duration_seconds_count", task="tests.flaky") == runs_before + 3


def test_only_short_words_count_as_task_results():
    metrics.count_task_result("tests.words", "left_for_sweeper")
    metrics.count_task_result("tests.words", 12)
    metrics.count_task_result("tests.words", "free text with spaces")
    reported = {
        s.labels["result"]
        for family in REGISTRY.collect()
        if family.name == "portal_task_results"
        for s in family.samples
        if s.labels.get("task") == "tests.words"
    }
    assert reported == {"left_for_sweeper"}


# -- outbound HTTP and tenancy --------------------------------------------------------------


def _echo_headers_app(_base_url: str):  # type: ignore[no-untyped-def]
    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = json.dumps({k.decode(): v.decode() for k, v in scope["headers"]}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    return app


def test_every_outbound_call_carries_the_request_id_of_the_work_in_hand():
    with serve_in_thread(_echo_headers_app) as (base_url, _), make_http_client(base_url) as client:
        with bound(request_id="req-outbound-3"):
            inside = client.get("/").json()
        outside = client.get("/").json()
    assert inside["x-request-id"] == "req-outbound-3"
    assert "x-request-id" not in outside


def test_work_in_a_partners_scope_names_the_partner_in_its_log_lines():
    partner = create_partner()
    with bound(request_id="req-scope"):
        with read_only(Scope.network("read the catalogue")) as session:
            session.execute(text("SELECT 1"))
        assert "partner_id" not in log_context()
        with read_only(Scope.partner(partner.id)) as session:
            session.execute(text("SELECT 1"))
        assert log_context()["partner_id"] == str(partner.id)
    assert "partner_id" not in log_context()


# -- queue depth -------------------------------------------------------------------------


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port), timeout=1).close()
        return True
    except OSError:
        return False


def _broker_app(kind: str, tmp_path) -> Celery:  # type: ignore[no-untyped-def]
    if kind == "filesystem":
        for sub in ("queue", "processed", "control"):
            (tmp_path / sub).mkdir()
        app = Celery("tests-depth", broker=f"{fs_broker.ALIAS}://")
        folder = str(tmp_path / "queue")
        app.conf.broker_transport_options = {
            "data_folder_in": folder,
            "data_folder_out": folder,
            "processed_folder": str(tmp_path / "processed"),
            "control_folder": str(tmp_path / "control"),  # else kombu writes ./control/*.exchange
        }
        return app
    url = {"redis": "redis://127.0.0.1:6379/0", "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//"}[kind]
    if not _reachable(url):
        pytest.skip(f"{kind} is not running at {url}")
    return Celery("tests-depth", broker=url)


@pytest.mark.parametrize("kind", ["filesystem", "redis", "rabbitmq"])
def test_queue_depth_counts_the_messages_waiting_in_each_queue(kind, tmp_path):
    app = _broker_app(kind, tmp_path)
    busy, idle = f"obs-busy-{uuid.uuid4().hex[:10]}", f"obs-idle-{uuid.uuid4().hex[:10]}"
    app.conf.task_default_queue = busy
    app.conf.task_routes = {"tests.idle": {"queue": idle}}
    try:
        for n in range(3):
            app.send_task("dossiers.forward", args=[f"d-{n}", "p"])
        assert observability.worker_queues(app) == sorted([busy, idle])
        assert observability.broker_queue_depths(app) == {busy: 3, idle: 0}
    finally:
        with app.connection_for_write() as conn:
            channel = conn.channel()
            channel.queue_purge(busy)
            channel.queue_delete(busy)
            if kind == "rabbitmq":
                channel.exchange_delete(busy)


def test_a_broker_that_does_not_answer_makes_the_scrape_say_so_instead_of_hanging():
    release = threading.Event()

    def stuck_broker() -> dict[str, int]:
        release.wait(30)
        return {"city": 4}

    collector = metrics.QueueDepthCollector(stuck_broker, timeout=0.2)
    try:
        for _ in range(2):  # the second scrape does not even wait: the first measurement is still stuck
            started = time.monotonic()
            families = {family.name: family for family in collector.collect()}
            assert time.monotonic() - started < 5
            assert families["portal_broker_up"].samples[0].value == 0
            assert "portal_queue_depth" not in families
    finally:
        release.set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        families = {family.name: family for family in collector.collect()}
        if families["portal_broker_up"].samples[0].value == 1:
            break
    assert families["portal_queue_depth"].samples[0].labels == {"queue": "city"}
    assert families["portal_queue_depth"].samples[0].value == 4


# -- the worker's exporter ------------------------------------------------------------------


def _scrape(app, path: str = "/metrics", authorization: str | None = None):  # type: ignore[no-untyped-def]
    answer: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)

    answer["body"] = b"".join(
        app({"PATH_INFO": path, **({"HTTP_AUTHORIZATION": authorization} if authorization else {})}, start_response)
    )
    return answer


def test_the_worker_exporter_wants_the_metrics_token_and_serves_only_metrics(settings):
    import dataclasses

    token = "scrape-token-0123456789"
    guarded = dataclasses.replace(
        settings, observability=dataclasses.replace(settings.observability, metrics_token=token)
    )
    app = metrics.metrics_wsgi_app(guarded)
    assert _scrape(app)["status"] == 401
    assert _scrape(app, authorization="Bearer wrong-token-0123456789")["status"] == 401
    ok = _scrape(app, authorization=f"Bearer {token}")
    assert ok["status"] == 200 and b"portal_tasks_total" in ok["body"]
    assert _scrape(app, path="/", authorization=f"Bearer {token}")["status"] == 404

    production = dataclasses.replace(settings, env="production")
    assert _scrape(metrics.metrics_wsgi_app(production))["status"] == 403


def test_metrics_settings_refuse_a_short_token_and_a_port_out_of_range():
    from portal.core.settings import SettingsError, load_settings

    options = load_settings({"METRICS_TOKEN": "t" * 16, "WORKER_METRICS_PORT": "9540"}).observability
    assert (options.metrics_token, options.worker_metrics_port, options.worker_metrics_host) == (
        "t" * 16,
        9540,
        "127.0.0.1",
    )
    assert load_settings({}).observability.worker_metrics_port is None
    with pytest.raises(SettingsError) as error:
        load_settings({"METRICS_TOKEN": "short", "WORKER_METRICS_PORT": "70000"})
    assert "METRICS_TOKEN" in str(error.value) and "WORKER_METRICS_PORT" in str(error.value)
