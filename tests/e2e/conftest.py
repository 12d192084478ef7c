"""The whole system as processes, started the way `portal demo` starts it, on each broker we support.

Web (uvicorn), a real Celery worker with beat (prefork) and the city simulator
progressing dossiers on its own. They share the test database; each stack gets
its own ports, broker folder and, on Redis and RabbitMQ, its own queue prefix,
so runs sharing one server never see each other's messages; the stack deletes
its queues and keys when it stops.

`TEST_BROKERS` (default `filesystem,redis,rabbitmq`) chooses the brokers;
`TEST_REDIS_URL` and `TEST_RABBITMQ_URL` name the servers. A broker that is not
reachable skips its tests, except in CI (`CI=true`), where it fails them.
"""

from __future__ import annotations

import os
import re
import socket
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest
from celery import Celery
from playwright.sync_api import Page, expect

from portal.core.celery_app import celery_app, consumed_queues, create_celery
from portal.core.settings import load_settings
from portal.launcher import (
    Stack,
    child_env,
    kill_group,
    start_city_simulator,
    start_mail_server,
    start_sms_gateway,
    start_web,
    start_worker,
    wait_for_http,
    wait_for_smtp,
)

BROKER_URLS = {
    "filesystem": "filesystem://",
    "redis": os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/0",
    "rabbitmq": os.environ.get("TEST_RABBITMQ_URL") or "amqp://guest:guest@127.0.0.1:5672//",
}
BROKERS = [name.strip() for name in os.environ.get("TEST_BROKERS", ",".join(BROKER_URLS)).split(",") if name.strip()]
if unknown := [name for name in BROKERS if name not in BROKER_URLS]:
    raise pytest.UsageError(f"TEST_BROKERS: unknown broker(s) {unknown}; choose from {list(BROKER_URLS)}")

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
CHROMIUM = "/usr/bin/chromium"
# A request to a stack process may queue behind a busy machine; an answer that never comes is
# still caught, just not mistaken for one that is slow.
REQUEST_TIMEOUT_SECONDS = 60
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reachable(url: str) -> str | None:
    """None when the broker answers, else why not."""
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable here"
        return f"{type(exc).__name__}: {exc}"
    return None


def _delete_broker_state(url: str, prefix: str) -> None:
    """Delete this run's queues, exchanges and keys (only those: the servers are shared)."""
    if url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*", count=500))
            if keys:
                client.delete(*keys)
        finally:
            client.close()
    elif url.startswith("amqp"):
        from kombu import Connection

        queues = consumed_queues(prefix)
        exchanges = [*queues, f"{prefix}celery.pidbox", f"reply.{prefix}celery.pidbox", f"{prefix}celeryev"]
        with Connection(url, connect_timeout=5) as conn:
            for name in queues:
                conn.channel().queue_delete(name)
            for name in exchanges:
                conn.channel().exchange_delete(name)


class RunningStack:
    def __init__(
        self,
        broker: str,
        env: dict[str, str],
        web_url: str,
        city_url: str,
        logs: Path,
        stack: Stack,
        worker_metrics_url: str = "",
        sms_url: str = "",
    ) -> None:
        self.broker = broker
        self.env = env
        self.stack = stack
        self.web_url = web_url
        self.city_url = city_url
        self.logs = logs  # web.log and worker.log hold JSON lines (docs/operations.md)
        self.worker_metrics_url = worker_metrics_url
        self.city = httpx.Client(base_url=city_url, timeout=REQUEST_TIMEOUT_SECONDS)
        self.sms = httpx.Client(base_url=sms_url, timeout=REQUEST_TIMEOUT_SECONDS)
        self.maildir = logs / "mail"  # what the stack's SMTP server received

    def configure_sms(self, **knobs: object) -> None:
        self.sms.put("/_sim/config", json=knobs).raise_for_status()

    def configure_city(self, **knobs: object) -> None:
        self.city.put("/_sim/config", json=knobs).raise_for_status()

    def city_dossiers(self, partner_code: str) -> list[dict[str, object]]:
        """The city simulator's own records of the dossiers filed under this partner code."""
        items = self.city.get("/_sim/dossiers").json()["items"]
        return [item for item in items if item["MaHoSoDoiTac"] == partner_code]

    def settled_callbacks(self, city_code: str, at_least: int) -> list[dict[str, object]]:
        """The simulator's callback deliveries for a dossier, once there are `at_least` and none is pending."""

        def settled() -> list[dict[str, object]] | None:
            items = self.city.get("/_sim/callbacks", params={"MaHoSo": city_code}).json()["items"]
            done = len(items) >= at_least and all(d["state"] in ("delivered", "failed") for d in items)
            return items if done else None

        return self.wait_for(settled, what=f"the city to finish delivering {at_least} callbacks")

    def browser_client(self) -> httpx.Client:
        return httpx.Client(base_url=self.web_url, timeout=REQUEST_TIMEOUT_SECONDS, follow_redirects=False)

    def sign_in(self, client: httpx.Client, email: str, password: str) -> None:
        client.get("/login")
        response = client.post(
            "/login", data={"email": email, "password": password, "_csrf_token": client.cookies["csrftoken"]}
        )
        assert response.status_code in (302, 303), response.text

    def wait_for(self, predicate, timeout: float = 180.0, what: str = "condition"):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [name for name, proc in self.stack.processes.items() if proc.poll() is not None]
            if dead:
                raise AssertionError(f"{', '.join(dead)} stopped while waiting for {what}; logs in {self.logs}")
            result = predicate()
            if result:
                return result
            time.sleep(0.2)  # poll interval
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; logs in {self.logs}")

    def control(self) -> Celery:
        """A Celery app on the stack's broker, to ask its worker what it is doing."""
        app = create_celery(load_settings(self.env))
        celery_app.set_current()  # this process keeps publishing through its own app
        return app

    def wait_until_idle(self) -> None:
        """Wait until no message waits in the stack's queues (so a new one is taken at once)."""
        app = self.control()
        queues = consumed_queues(self.env["CELERY_QUEUE_PREFIX"])

        def waiting(conn, queue: str) -> int:  # type: ignore[no-untyped-def]
            channel = conn.channel()
            try:
                return int(channel.queue_declare(queue=queue, passive=True).message_count)
            except conn.channel_errors:
                return 0  # Redis drops the key of an empty queue
            finally:
                channel.close()

        try:
            with app.connection_for_write() as conn:
                self.wait_for(lambda: all(waiting(conn, q) == 0 for q in queues), what="the worker to empty its queues")
        finally:
            app.close()

    def kill_worker(self) -> None:
        """SIGKILL the worker and every process it started: nothing gets to clean up."""
        kill_group(self.stack.processes["worker"])

    def start_worker(self) -> None:
        self.stack.processes["worker"] = start_worker(self.env, self.logs / "worker.log", concurrency=2)


@pytest.fixture(scope="package", params=BROKERS)
def stack(request, settings):  # type: ignore[no-untyped-def]
    broker = request.param
    url = BROKER_URLS[broker]
    if broker != "filesystem" and (why := _reachable(url)):
        message = f"{broker} broker not reachable at {url} ({why})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: CI must run the stack tests on every broker", pytrace=False)
        pytest.skip(message)
    web_port, city_port, worker_metrics_port = _free_port(), _free_port(), _free_port()
    sms_port, smtp_port = _free_port(), _free_port()
    var = Path(tempfile.mkdtemp(prefix=f"portal-stack-{broker}-"))
    from tests.documents import ensure_portal_clamd

    clamd = ensure_portal_clamd()
    prefix = f"portal-test-{uuid.uuid4().hex[:12]}."
    env = child_env(
        {
            "PORTAL_VAR_DIR": str(var),
            "CLAMD_SOCKET": str(clamd.socket_path),
            "DATABASE_URL": settings.database.url,
            "DATABASE_MIGRATION_URL": settings.database.migration_url,
            "CELERY_BROKER_URL": url,
            "CELERY_QUEUE_PREFIX": prefix,
            "CITY_API_URL": f"http://127.0.0.1:{city_port}",
            "PORTAL_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
            "CITY_TIMEOUT_SECONDS": "60",  # longer than the slow city of the worker-loss tests
            # The stack's worker also sweeps and polls the dossiers other tests left in the shared
            # database; every 5 s is often enough for the tests of the sweeper, and little noise.
            "FORWARD_SWEEP_INTERVAL_SECONDS": "5",
            # A queued dossier is sent again 15 s after it was last moved (not 2 s, the in-process
            # tests' value): behind a busy worker its message may simply be waiting its turn.
            "FORWARD_STUCK_AFTER_SECONDS": "15",
            # The stack retries fast (every sweep re-enqueues with its own retries), so its outages and
            # error bursts must not end dossiers forward_failed; giving up is tested in-process
            # (tests/agents/dossiers/test_attention.py).
            "FORWARD_GIVE_UP_AFTER_ATTEMPTS": "50",
            "CITYSIM_STEP_SECONDS": "0.4",
            "CITYSIM_SUPPLEMENT_RATE": "0",
            "CITYSIM_REFUSE_RATE": "0",
            "CITYSIM_CALLBACK_RETRY_BASE": "0.3",
            "CITYSIM_CLIENTS": f"{settings.city.client_id}:{settings.city.client_secret}",
            "CITYSIM_WEBHOOK_SECRET": settings.city.webhook_secret,
            "LOG_FORMAT": "json",
            "WORKER_METRICS_PORT": str(worker_metrics_port),
            "SMS_API_URL": f"http://127.0.0.1:{sms_port}",
            "SMSSIM_DELIVERY_DELAY_SECONDS": "0.2",
            # A killed worker's outbox rows (messages, operations owed to the city) are taken back
            # by the sweepers this soon, so the worker-loss tests need not wait five minutes.
            "WORKER_LEASE_SECONDS": "8",
            "SMTP_PORT": str(smtp_port),
            # A dashboard export of more rows than this is built by the worker (its page shows the progress):
            # small, so the browser tests see that path with a handful of points.
            "REPORTING_EXPORT_INLINE_ROWS": "3",
        }
    )
    running = Stack()
    try:
        running.processes["city"] = start_city_simulator(city_port, env, var / "city.log")
        running.processes["sms"] = start_sms_gateway(sms_port, env, var / "sms.log")
        running.processes["mail"] = start_mail_server(smtp_port, var / "mail", env, var / "mail.log")
        running.processes["worker"] = start_worker(env, var / "worker.log", concurrency=2)
        running.processes["web"] = start_web(web_port, env, var / "web.log")
        wait_for_http(f"http://127.0.0.1:{city_port}/healthz", process=running.processes["city"])
        # The web process imports the whole portal and builds the back office before it answers: over a minute
        # on a loaded machine (load 14 on 2 cores measured). A crash still fails at once (the process is watched).
        wait_for_http(f"http://127.0.0.1:{web_port}/healthz", timeout=180.0, process=running.processes["web"])
        wait_for_http(f"http://127.0.0.1:{sms_port}/healthz", process=running.processes["sms"])
        wait_for_smtp(smtp_port, process=running.processes["mail"])
        yield RunningStack(
            broker,
            env,
            f"http://127.0.0.1:{web_port}",
            f"http://127.0.0.1:{city_port}",
            var,
            running,
            worker_metrics_url=f"http://127.0.0.1:{worker_metrics_port}/metrics",
            sms_url=f"http://127.0.0.1:{sms_port}",
        )
    finally:
        running.stop()
        if broker != "filesystem":
            _delete_broker_state(url, prefix)


def _found(pattern: str, text: str, flags: int = 0) -> str:
    match = re.search(pattern, text, flags)
    assert match, f"{pattern!r} not on the page"
    return match.group(1)


def open_filing(client: httpx.Client, url: str) -> dict[str, str]:
    """Pick the procedure (a new draft), put a scan into each mandatory document: the form's hidden values."""
    from tests.documents import a_pdf, mandatory_slots

    response = client.get(url, follow_redirects=True)
    for slot in mandatory_slots(response.text):
        uploaded = client.post(
            f"{response.url.path}/documents/{slot}",
            data={"_csrf_token": client.cookies["csrftoken"]},
            files=[("file", ("scan.pdf", a_pdf(), "application/pdf"))],
        )
        assert uploaded.status_code == 303, uploaded.text[:500]
    return form_defaults(response.text)


def attach_scans(page: Page) -> None:
    """In the browser: upload a one-page PDF into each mandatory document of the open draft."""
    from tests.documents import a_pdf

    for slot in page.locator("[data-mandatory]").evaluate_all("els => els.map(e => e.dataset.slot)"):
        page.set_input_files(
            f"[id='file-{slot}']", files=[{"name": f"{slot}.pdf", "mimeType": "application/pdf", "buffer": a_pdf()}]
        )
        with page.expect_navigation():
            page.click(f"[id='upload-{slot}']")
        expect(page.locator(f"[data-testid='stored-{slot}']").first).to_be_visible()


def form_defaults(page: str) -> dict[str, str]:
    return {
        "idempotency_key": _found(r'name="idempotency_key" value="([^"]+)"', page),
        "agent_point_id": _found(r'name="agent_point_id".*?value="([^"]+)"', page, re.S),
    }


def file_at_the_counter(stack: RunningStack, staff, **overrides: str) -> tuple[httpx.Client, str, str]:  # type: ignore[no-untyped-def]
    """Staff file a birth registration through the web portal: (their client, dossier id, tracking code)."""
    from tests.factories import BIRTH_FORM, PASSWORD, citizen

    client = stack.browser_client()
    stack.sign_in(client, staff.email, PASSWORD)
    defaults = open_filing(client, "/dossiers/new/1.001193")
    data = {
        **defaults,
        **citizen(),
        **{f"form.{k}": v for k, v in BIRTH_FORM.items()},
        "_csrf_token": client.cookies["csrftoken"],
        **overrides,
    }
    response = client.post("/dossiers/new/1.001193", data=data)
    assert response.status_code == 303, response.text
    dossier_id = response.headers["location"].split("/")[2]
    receipt = client.get(response.headers["location"]).text
    code = _found(r'data-testid="tracking-code">([^<]+)<', receipt)
    return client, dossier_id, code


# Chromium's own stand-ins for a camera: a generated test pattern, and "allow" answered for the user.
CAMERA_FLAGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


@pytest.fixture(scope="package")
def playwright_driver():  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    # Waits on a page's state get as long as its actions (Playwright's 30 s), not expect's 5 s:
    # on a loaded 2-core machine a page can take longer than 5 s to show what it will show.
    expect.set_options(timeout=30_000)
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: ./run test installs it")
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright_driver):  # type: ignore[no-untyped-def]
    """Debian's chromium, headless, driven by Playwright; screenshots go to screenshots/."""
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
    yield launched
    launched.close()


@pytest.fixture(scope="package")
def camera_browser(playwright_driver):  # type: ignore[no-untyped-def]
    """The same chromium with a fake camera (getUserMedia answers with Chromium's test pattern)."""
    launched = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS + CAMERA_FLAGS)
    yield launched
    launched.close()
