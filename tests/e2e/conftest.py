"""The whole system as processes, started the way `portal demo` starts it.

Web (uvicorn), a real Celery worker with beat (prefork, filesystem broker),
and the city simulator progressing dossiers on its own. They share the test
database; the stack gets its own broker folder and ports.
"""

from __future__ import annotations

import re
import socket
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from portal.launcher import Stack, child_env, start_city_simulator, start_web, start_worker, wait_for_http

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
CHROMIUM = "/usr/bin/chromium"
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


class RunningStack:
    def __init__(self, web_url: str, city_url: str, logs: Path, stack: Stack) -> None:
        self.stack = stack
        self.web_url = web_url
        self.city_url = city_url
        self.logs = logs
        self.city = httpx.Client(base_url=city_url, timeout=10)

    def configure_city(self, **knobs: object) -> None:
        self.city.put("/_sim/config", json=knobs).raise_for_status()

    def browser_client(self) -> httpx.Client:
        return httpx.Client(base_url=self.web_url, timeout=15, follow_redirects=False)

    def sign_in(self, client: httpx.Client, email: str, password: str) -> None:
        client.get("/login")
        response = client.post(
            "/login", data={"email": email, "password": password, "_csrf_token": client.cookies["csrftoken"]}
        )
        assert response.status_code in (302, 303), response.text

    def wait_for(self, predicate, timeout: float = 60.0, what: str = "condition"):  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [name for name, proc in self.stack.processes.items() if proc.poll() is not None]
            if dead:
                raise AssertionError(f"{', '.join(dead)} stopped while waiting for {what}; logs in {self.logs}")
            result = predicate()
            if result:
                return result
            time.sleep(0.3)
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; logs in {self.logs}")


@pytest.fixture(scope="package")
def stack(settings):  # type: ignore[no-untyped-def]
    web_port, city_port = _free_port(), _free_port()
    var = Path(tempfile.mkdtemp(prefix="portal-stack-"))
    env = child_env(
        {
            "PORTAL_VAR_DIR": str(var),
            "DATABASE_URL": settings.database_url,
            "DATABASE_MIGRATION_URL": settings.database_migration_url,
            "CITY_API_URL": f"http://127.0.0.1:{city_port}",
            "PORTAL_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
            "CITYSIM_STEP_SECONDS": "0.4",
            "CITYSIM_SUPPLEMENT_RATE": "0",
            "CITYSIM_REFUSE_RATE": "0",
            "CITYSIM_CALLBACK_RETRY_BASE": "0.3",
            "CITYSIM_CLIENTS": f"{settings.city_client_id}:{settings.city_client_secret}",
            "CITYSIM_WEBHOOK_SECRET": settings.city_webhook_secret,
        }
    )
    running = Stack()
    running.processes["city"] = start_city_simulator(city_port, env, var / "city.log")
    running.processes["worker"] = start_worker(env, var / "worker.log", concurrency=2)
    running.processes["web"] = start_web(web_port, env, var / "web.log")
    try:
        wait_for_http(f"http://127.0.0.1:{city_port}/healthz", process=running.processes["city"])
        wait_for_http(f"http://127.0.0.1:{web_port}/healthz", process=running.processes["web"])
        yield RunningStack(f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{city_port}", var, running)
    finally:
        running.stop()


def form_defaults(page: str) -> dict[str, str]:
    return {
        "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1),
        "agent_point_id": re.search(r'name="agent_point_id".*?value="([^"]+)"', page, re.S).group(1),
    }


@pytest.fixture(scope="package")
def browser():  # type: ignore[no-untyped-def]
    """Debian's chromium, headless, driven by Playwright; screenshots go to screenshots/."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: ./run test installs it")
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield launched
        launched.close()
