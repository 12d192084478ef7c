"""What the HTTP benchmarks share: the servers under test, the load generator (wrk), the machine's load."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

PYTHON = sys.executable
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def portal_env(
    work: Path, database: dict[str, str], *, broker: str, city_url: str = "https://city.bench.invalid"
) -> dict[str, str]:
    """Production settings (PORTAL_ENV=production) pointed at local parts; filled in for what a run does not use."""
    return {
        "PORTAL_ENV": "production",
        **database,
        "CELERY_BROKER_URL": broker,
        "PORTAL_VAR_DIR": str(work / "var"),
        "PORTAL_SECRET_KEY": "benchmark-secret-" + "s" * 40,
        "PORTAL_DATA_KEY": "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=",
        "PORTAL_PUBLIC_URL": "https://portal.bench.invalid",
        "CITY_API_URL": city_url,
        "CITY_CLIENT_ID": "bench",
        "CITY_CLIENT_SECRET": "bench-secret",
        "CITY_WEBHOOK_SECRET": "bench-webhook",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_FROM": "Cổng Dịch vụ công <thongbao@bench.invalid>",
        "SMS_API_URL": "https://sms.bench.invalid",
        "SMS_API_KEY": "bench",
        "SMS_BRAND": "DVC-BENCH",
        "SMS_WEBHOOK_SECRET": "bench",
        "VNPAY_TMN_CODE": "BENCH001",
        "VNPAY_HASH_SECRET": "bench",
        "VNPAY_PAYMENT_URL": "https://pay.bench.invalid/paymentv2/vpcpay.html",
        "VNPAY_API_URL": "https://pay.bench.invalid/merchant_webapi/api/transaction",
        "LOG_LEVEL": "WARNING",
    }


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            todo.extend(int(c) for c in children)
    return found


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a process and all its descendants (Linux /proc).

    Throughput on a shared machine moves with everyone else's load; the CPU a request costs the
    server does not, which makes it the steadier number to compare two versions by.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for each in _descendants(pid):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


class Server:
    """A server process under test, started the way production starts it, stopped with SIGTERM."""

    def __init__(self, command: list[str], port: int, env: dict[str, str], log: Path) -> None:
        self.command, self.port, self.env, self.log = command, port, env, log
        self.url = f"http://127.0.0.1:{port}"
        self.host = "portal.bench.invalid"
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def portal(cls, port: int, workers: int, env: dict[str, str], log: Path) -> Server:
        command = [str(Path(PYTHON).parent / "portal"), "serve", "--port", str(port), "--workers", str(workers)]
        return cls(command, port, env, log)

    @classmethod
    def floor(cls, port: int, workers: int, env: dict[str, str], log: Path) -> Server:
        code = (
            "from portal.serving import serve; "
            f"serve('bench.floor_app:create_app', host='127.0.0.1', port={port}, workers={workers}, log_level='warning')"
        )
        return cls([PYTHON, "-c", code], port, env, log)

    def __enter__(self) -> Server:
        env = {**os.environ, **self.env, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            self.command, env=env, cwd=ROOT, stdout=self.log.open("wb"), stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command[0]} exited: see {self.log}")
            try:
                httpx.get(self.url + "/", headers={"Host": self.host}, timeout=1)
                return self
            except httpx.TransportError:
                time.sleep(0.2)  # a process starting up: nothing to wait on but the port
        raise RuntimeError(f"{self.url} did not answer within 60 s: see {self.log}")

    def __exit__(self, *_: object) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


_LUA = r"""
local template = [==[@BODY@]==]
local threads = {}
counter, wrong, prefix = 0, 0, ""  -- globals: done() reads each thread's `wrong`

function setup(thread)
  table.insert(threads, thread)
  thread:set("number", #threads)
end

function init(args)
  prefix = args[1] .. "-" .. number
end

function request()
  counter = counter + 1
  local body = template:gsub("@KEY@", prefix .. "-" .. counter)
  return wrk.format("POST", nil, nil, body)
end

function response(status, headers, body)
  if status ~= @EXPECT@ then
    wrong = wrong + 1
    if wrong == 1 then io.write("WRONG " .. status .. " " .. body:sub(1, 300) .. "\n") end
  end
end

function done(summary, latency, requests)
  local total_wrong = 0
  for _, thread in ipairs(threads) do total_wrong = total_wrong + thread:get("wrong") end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "socket_errors": %d, "wrong": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    e.connect + e.read + e.write + e.timeout, total_wrong))
end
"""


def run_wrk(
    url: str,
    body: str,
    headers: dict[str, str],
    *,
    connections: int,
    seconds: int,
    expect: int,
    work: Path,
    host: str = "portal.bench.invalid",
    server_pid: int | None = None,
) -> dict[str, float]:
    """One wrk run of POSTs with `body` (its "@KEY@" replaced by a fresh key per request)."""
    script = work / f"wrk-{uuid.uuid4().hex[:8]}.lua"
    script.write_text(_LUA.replace("@BODY@", body).replace("@EXPECT@", str(expect)), encoding="utf-8")
    command = ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s"]
    command += ["-s", str(script), "-H", f"Host: {host}", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command += [url, "--", uuid.uuid4().hex[:12]]
    cpu_before = cpu_seconds(server_pid) if server_pid else 0.0
    done = subprocess.run(command, capture_output=True, text=True)
    cpu_used = cpu_seconds(server_pid) - cpu_before if server_pid else 0.0
    if done.returncode != 0 or "RESULT " not in done.stdout:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    out = done.stdout
    for line in out.splitlines():
        if line.startswith("WRONG "):
            print(f"  first wrong answer from {url}: {line.removeprefix('WRONG ')}", file=sys.stderr)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    raw: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    return {
        "rate": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "wrong": raw["wrong"] + raw["socket_errors"],
        "cpu_ms": cpu_used * 1000 / max(raw["requests"], 1),
    }
