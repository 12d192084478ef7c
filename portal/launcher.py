"""Starting the pieces as processes: web, worker (with beat), city simulator.

Used by `portal demo` and by the end-to-end tests, so the tests start the
system exactly the way a user does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

PYTHON = sys.executable
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's multiprocess folder


@dataclass
class Stack:
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def stop(self) -> None:
        """Ask every process to stop, then kill whatever is left of its process group."""
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 10
        for proc in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            kill_group(proc)


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process started here and everything it started (pool processes, beat)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def _spawn(args: list[str], env: dict[str, str], log: Path | None) -> subprocess.Popen[bytes]:
    out = open(log, "ab") if log else None  # noqa: SIM115 - owned by the child for its lifetime
    # Each in its own process group, so stopping it reaches its children too.
    return subprocess.Popen(
        args, env=env, stdout=out, stderr=subprocess.STDOUT if out else None, start_new_session=True
    )


def start_city_simulator(port: int, env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    return _spawn([PYTHON, "-m", "simulators.city", "--host", "127.0.0.1", "--port", str(port)], env, log)


def start_vnpay_simulator(port: int, env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    return _spawn([PYTHON, "-m", "simulators.vnpay", "--host", "127.0.0.1", "--port", str(port)], env, log)


def start_identity_provider(port: int, env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    return _spawn([PYTHON, "-m", "simulators.idp", "--host", "127.0.0.1", "--port", str(port)], env, log)


def start_sms_gateway(port: int, env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    """The brand-name SMS gateway simulator (docs/sms-simulator.md); its demo account is the portal's default."""
    return _spawn([PYTHON, "-m", "simulators.sms", "--host", "127.0.0.1", "--port", str(port)], env, log)


def start_mail_server(
    port: int, maildir: Path, env: dict[str, str], log: Path | None = None
) -> subprocess.Popen[bytes]:
    """A local SMTP server (aiosmtpd) that keeps every message in a Maildir, to read what citizens were sent."""
    for part in ("tmp", "new", "cur"):  # a Maildir, made whole: aiosmtpd creates none of it in a folder that exists
        (maildir / part).mkdir(parents=True, exist_ok=True)
    command = [
        PYTHON,
        "-m",
        "aiosmtpd",
        "-n",
        "-l",
        f"127.0.0.1:{port}",
        "-c",
        "aiosmtpd.handlers.Mailbox",
        str(maildir),
    ]
    return _spawn(command, env, log)


def prepare_metrics(env: MutableMapping[str, str], service: str) -> Path:
    """Give a service an empty metrics folder before its processes start (docs/operations.md).

    PROMETHEUS_MULTIPROC_DIR, if `env` names one, else `<PORTAL_VAR_DIR>/metrics/<service>`.
    No prometheus_client import here: it picks its mode from the environment when imported.
    """
    from portal.core.settings import SettingsError, load_settings

    folder = env.get(MULTIPROC_ENV)
    if not folder:
        try:
            var_dir = load_settings(dict(env)).var_dir
        except SettingsError:
            var_dir = Path(env.get("PORTAL_VAR_DIR") or Path.cwd() / "var")
        folder = str(var_dir / "metrics" / service)
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    env[MULTIPROC_ENV] = str(path)
    return path


def _log_format(env: MutableMapping[str, str]) -> str:
    from portal.core.settings import SettingsError, load_settings

    try:
        return load_settings(dict(env)).observability.log_format
    except SettingsError:
        return "text"


def worker_command(env: MutableMapping[str, str], concurrency: int = 2, beat: bool = True) -> list[str]:
    """The Celery worker (prefork, with beat unless told) on every queue the tasks are routed to."""
    from portal.core.celery_app import consumed_queues
    from portal.core.settings import load_settings

    quiet = ["--quiet"] if _log_format(env) == "json" else []  # no start-up banner among JSON lines
    return [
        PYTHON,
        "-m",
        "celery",
        "-A",
        "portal.core.celery_app:celery_app",
        *quiet,
        "worker",
        *(["--beat"] if beat else []),  # the periodic sweepers: in exactly one worker (docs/operations.md)
        "--queues",
        ",".join(consumed_queues(load_settings(dict(env)).broker.queue_prefix)),
        "--concurrency",
        str(concurrency),
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def start_worker(
    env: dict[str, str], log: Path | None = None, concurrency: int = 2, beat: bool = True
) -> subprocess.Popen[bytes]:
    env = dict(env)
    prepare_metrics(env, "worker")
    return _spawn(worker_command(env, concurrency, beat), env, log)


def start_web(port: int, env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    env = dict(env)
    prepare_metrics(env, "web")
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


# How long a process that is alive may take to start answering. A dead one is reported at once;
# a live one on a loaded 2-core machine took over 30 s to import the web app (a clean-clone CI
# with both cores busy lost every stack test to a 30 s limit).
START_TIMEOUT_SECONDS = 180.0


def wait_for_http(
    url: str, timeout: float = START_TIMEOUT_SECONDS, process: subprocess.Popen[bytes] | None = None
) -> None:
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


def wait_for_smtp(
    port: int, timeout: float = START_TIMEOUT_SECONDS, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Until the server on `port` greets with 220."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"SMTP server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as conn:
                if conn.recv(3) == b"220":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"SMTP server on port {port} did not greet within {timeout:.0f}s")


def child_env(overrides: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(overrides or {})
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env
