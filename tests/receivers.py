"""A tiny ASGI endpoint that receives a simulator's callbacks, and waiting on a condition with a deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    #: What the receiver answered.
    status: int


class CallbackReceiver:
    """Records every request; answers 500 while ``failures_left`` lasts, else ``answer(path, headers, body)`` (204)."""

    def __init__(self, answer: Callable[[str, dict[str, str], bytes], int] | None = None) -> None:
        self._lock = threading.Lock()
        self._received: list[Received] = []
        self.failures_left = 0
        self.answer = answer

    def reset(self) -> None:
        with self._lock:
            self._received.clear()
            self.failures_left = 0

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        with self._lock:
            if self.failures_left > 0:
                self.failures_left -= 1
                status = 500
            else:
                status = self.answer(scope["path"], headers, body) if self.answer else 204
            self._received.append(Received(scope["path"], headers, body, status))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy (returned), or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        time.sleep(0.02)
