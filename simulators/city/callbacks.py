"""Signed status callbacks, delivered in the background with retries.

Delivery model:

* Every event is turned into one delivery record (two when the
  ``duplicate_callbacks`` knob is on) and appended to the *lane* of its
  dossier.  A lane is drained by a short-lived task, one delivery at a time, so
  the callbacks of one dossier arrive in ``seq`` order; a delivery that is
  being retried holds back the later ones of the same dossier.  Different
  dossiers are delivered independently.
* With the ``out_of_order`` knob on, deliveries are first *held* per dossier
  for a window and then put into the lane newest first.
* A delivery is retried on a network error or a non-2xx answer, waiting
  ``base``, ``2*base``, ``4*base``... seconds, up to ``max_attempts`` attempts.
  Every attempt is signed again with a fresh timestamp; the body never changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from .clock import iso, now_vn
from .config import SimConfig

log = logging.getLogger("citysim.callbacks")

USER_AGENT = "CitySim/1.0 (DVCQG one-stop simulator)"
MAX_CONCURRENT_REQUESTS = 32


def encode_event(event: dict[str, Any]) -> bytes:
    """The exact bytes POSTed for an event (UTF-8 JSON, no extra spaces)."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Value of ``X-City-Signature``: ``sha256=`` + hex HMAC of ``"{timestamp}.{body}"``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    delivery_id: int
    lane: str
    url: str
    event: dict[str, Any]
    body: bytes
    duplicate: bool
    queued_at: datetime
    state: str = "queued"  # held, queued, in_flight, retrying, delivered, failed
    attempts: int = 0
    last_response_code: int | None = None
    last_error: str | None = None
    last_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    next_attempt_at: datetime | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def as_log_entry(self) -> dict[str, Any]:
        return {
            "delivery_id": self.delivery_id,
            "event_id": self.event["event_id"],
            "MaHoSo": self.event["MaHoSo"],
            "seq": self.event["seq"],
            "TrangThaiHoSo": self.event["TrangThaiHoSo"],
            "url": self.url,
            "duplicate": self.duplicate,
            "state": self.state,
            "attempts": self.attempts,
            "last_response_code": self.last_response_code,
            "last_error": self.last_error,
            "queued_at": iso(self.queued_at),
            "last_attempt_at": iso(self.last_attempt_at) if self.last_attempt_at else None,
            "next_attempt_at": iso(self.next_attempt_at) if self.next_attempt_at else None,
            "delivered_at": iso(self.delivered_at) if self.delivered_at else None,
            "event": self.event,
            "attempt_log": list(self.history),
        }


class CallbackDispatcher:
    """Queues, signs, sends and retries callbacks; keeps a delivery log."""

    def __init__(self, config: Callable[[], SimConfig]) -> None:
        self._config = config
        self._ids = itertools.count(1)
        self.log: list[Delivery] = []
        self._lanes: dict[str, deque[Delivery]] = {}
        self._lane_tasks: dict[str, asyncio.Task[None]] = {}
        self._held: dict[str, list[Delivery]] = {}
        self._hold_tasks: dict[str, asyncio.Task[None]] = {}
        self._client: httpx.AsyncClient | None = None
        self._semaphore: asyncio.Semaphore | None = None

    # -- life cycle -------------------------------------------------------

    async def start(self) -> None:
        self._client = httpx.AsyncClient(headers={"User-Agent": USER_AGENT}, follow_redirects=False)
        self._semaphore = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)

    async def stop(self) -> None:
        await self.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def clear(self) -> None:
        """Drop every pending delivery and the log (used by ``/_sim/reset``)."""
        tasks = [*self._lane_tasks.values(), *self._hold_tasks.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._lane_tasks.clear()
        self._hold_tasks.clear()
        self._lanes.clear()
        self._held.clear()
        self.log.clear()
        self._ids = itertools.count(1)

    # -- queueing -----------------------------------------------------------

    def enqueue(self, lane: str, url: str, event: dict[str, Any]) -> None:
        """Schedule delivery of ``event`` to ``url``.  Never sends anything itself."""
        config = self._config()
        body = encode_event(event)
        copies = 2 if config.duplicate_callbacks else 1
        deliveries = [
            Delivery(
                delivery_id=next(self._ids),
                lane=lane,
                url=url,
                event=event,
                body=body,
                duplicate=copy > 0,
                queued_at=now_vn(),
            )
            for copy in range(copies)
        ]
        self.log.extend(deliveries)
        if config.out_of_order:
            for delivery in deliveries:
                delivery.state = "held"
            self._held.setdefault(lane, []).extend(deliveries)
            if lane not in self._hold_tasks:
                delay = config.out_of_order_delay
                if delay is None:
                    delay = max(1.0, 2.5 * config.step_seconds)
                self._hold_tasks[lane] = asyncio.get_running_loop().create_task(
                    self._release_held(lane, delay), name=f"citysim-hold-{lane}"
                )
        else:
            self._push(lane, deliveries)

    def _push(self, lane: str, deliveries: list[Delivery]) -> None:
        queue = self._lanes.setdefault(lane, deque())
        for delivery in deliveries:
            delivery.state = "queued"
            queue.append(delivery)
        if lane not in self._lane_tasks:
            self._lane_tasks[lane] = asyncio.get_running_loop().create_task(
                self._drain(lane), name=f"citysim-lane-{lane}"
            )

    async def _release_held(self, lane: str, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
        finally:
            self._hold_tasks.pop(lane, None)
        held = self._held.pop(lane, [])
        held.reverse()  # newest first
        if held:
            self._push(lane, held)

    async def _drain(self, lane: str) -> None:
        queue = self._lanes[lane]
        try:
            while queue:
                await self._deliver(queue.popleft())
        finally:
            # No await between the emptiness check above and this point, so an
            # enqueue cannot slip in and find a task that is about to vanish.
            self._lane_tasks.pop(lane, None)
            if not queue:
                self._lanes.pop(lane, None)

    # -- sending ------------------------------------------------------------

    async def _deliver(self, delivery: Delivery) -> None:
        max_attempts = self._config().callback_max_attempts
        while True:
            ok = await self._attempt(delivery)
            if ok:
                delivery.state = "delivered"
                delivery.delivered_at = now_vn()
                delivery.next_attempt_at = None
                return
            if delivery.attempts >= max_attempts:
                delivery.state = "failed"
                delivery.next_attempt_at = None
                log.warning(
                    "callback %s for %s given up after %d attempts",
                    delivery.event["event_id"],
                    delivery.event["MaHoSo"],
                    delivery.attempts,
                )
                return
            wait = self._config().callback_retry_base * (2 ** (delivery.attempts - 1))
            delivery.state = "retrying"
            delivery.next_attempt_at = datetime.fromtimestamp(time.time() + wait, tz=now_vn().tzinfo)
            await asyncio.sleep(wait)

    async def _attempt(self, delivery: Delivery) -> bool:
        assert self._client is not None and self._semaphore is not None, "dispatcher not started"
        config = self._config()
        delivery.state = "in_flight"
        delivery.attempts += 1
        delivery.last_attempt_at = now_vn()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-City-Timestamp": str(timestamp),
            "X-City-Signature": sign(config.webhook_secret, timestamp, delivery.body),
            "X-City-Event-Id": delivery.event["event_id"],
            "X-City-Delivery-Attempt": str(delivery.attempts),
        }
        record: dict[str, Any] = {"attempt": delivery.attempts, "at": iso(delivery.last_attempt_at)}
        try:
            async with self._semaphore:
                response = await self._client.post(
                    delivery.url, content=delivery.body, headers=headers, timeout=config.callback_timeout
                )
        except httpx.HTTPError as exc:
            delivery.last_response_code = None
            delivery.last_error = f"{type(exc).__name__}: {exc}".rstrip(": ")
            record["error"] = delivery.last_error
            delivery.history.append(record)
            return False
        delivery.last_response_code = response.status_code
        record["status_code"] = response.status_code
        delivery.history.append(record)
        if 200 <= response.status_code < 300:
            delivery.last_error = None
            return True
        delivery.last_error = f"HTTP {response.status_code}"
        return False

    # -- inspection -----------------------------------------------------------

    def entries(self, ma_ho_so: str | None = None, event_id: str | None = None) -> list[dict[str, Any]]:
        return [
            d.as_log_entry()
            for d in self.log
            if (ma_ho_so is None or d.event["MaHoSo"] == ma_ho_so)
            and (event_id is None or d.event["event_id"] == event_id)
        ]
