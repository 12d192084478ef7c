"""Starting the pieces as processes: web, worker (with beat), city simulator.

Used by `portal demo` and by the end-to-end tests, so the tests start the
system exactly the way a user does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PYTHON = sys.executable


@dataclass
class Stack:
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 10
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _spawn(args: list[str], env: dict[str, str], log: Path | None) -> subprocess.Popen[bytes]:
    out = open(log, "ab") if log else None  # noqa: SIM115 - owned by the child for its lifetime
    return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT if out else None)


def start_city_simulator(port: int, env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    return _spawn([PYTHON, "-m", "simulators.city", "--host", "127.0.0.1", "--port", str(port)], env, log)


def start_identity_provider(port: int, env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    return _spawn([PYTHON, "-m", "simulators.idp", "--host", "127.0.0.1", "--port", str(port)], env, log)


def start_worker(env: dict[str, str], log: Path | None = None, concurrency: int = 2) -> subprocess.Popen[bytes]:
    return _spawn(
        [
            PYTHON,
            "-m",
            "celery",
            "-A",
            "portal.core.celery_app:celery_app",
            "worker",
            "--beat",
            "--queues",
            "city,periodic",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        env,
        log,
    )


def start_web(port: int, env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    return _spawn(
        [
            PYTHON,
            "-m",
            "uvicorn",
            "--factory",
            "portal.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env,
        log,
    )


def wait_for_http(url: str, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


def child_env(overrides: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(overrides or {})
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
