"""IPN delivery: server-to-server GETs to the merchant's IPN URL, retried as VNPay does.

* A delivery ends when the merchant answers HTTP 200 with JSON `RspCode` `00` or `02`.
  Any other answer (`01`, `04`, `97`, `99`, a non-JSON body, an HTTP error, a timeout) makes
  it wait `ipn_retry_seconds` and try again, up to `ipn_max_attempts` attempts in all.
* Knobs (read when the customer decides): `ipn_delay_seconds` before the first attempt;
  `ipn_duplicate` sends two identical copies at once; `ipn_bad_signature` spoils the checksum;
  `ipn_drop` records the IPN and never sends it; `ipn_reorder` holds IPNs for
  `ipn_reorder_window_seconds` (or until `release_held()`) and then makes their first
  attempts one after another, newest first.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from .clock import iso_ms, now_vn
from .config import SimConfig

log = logging.getLogger("simulators.vnpay.ipn")

USER_AGENT = "VNPaySim/1.0 (sandbox simulator)"
ENDING_CODES = ("00", "02")

HELD, WAITING, IN_FLIGHT, RETRYING, DELIVERED, FAILED, DROPPED = (
    "held",
    "waiting",
    "in_flight",
    "retrying",
    "delivered",
    "failed",
    "dropped",
)


@dataclass
class IpnDelivery:
    delivery_id: int
    tmn_code: str
    txn_ref: str
    url: str
    query: str
    duplicate: bool
    bad_signature: bool
    queued_at: datetime
    due_at: datetime
    state: str = WAITING
    #: Order in which first attempts were made, across all deliveries (1, 2, ...).
    first_attempt_order: int | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)

    def as_log_entry(self) -> dict[str, Any]:
        return {
            "delivery_id": self.delivery_id,
            "tmn_code": self.tmn_code,
            "txn_ref": self.txn_ref,
            "url": self.url,
            "query": self.query,
            "duplicate": self.duplicate,
            "bad_signature": self.bad_signature,
            "state": self.state,
            "queued_at": iso_ms(self.queued_at),
            "due_at": iso_ms(self.due_at),
            "first_attempt_order": self.first_attempt_order,
            "attempts": list(self.attempts),
        }


class IpnDispatcher:
    def __init__(self, config: Callable[[], SimConfig]) -> None:
        self._config = config
        self._ids = itertools.count(1)
        self._first_attempts = itertools.count(1)
        self.log: list[IpnDelivery] = []
        self._held: list[IpnDelivery] = []
        self._hold_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(headers={"User-Agent": USER_AGENT}, follow_redirects=False)

    async def stop(self) -> None:
        await self.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def clear(self) -> None:
        tasks = [*self._tasks, *([self._hold_task] if self._hold_task else [])]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self._hold_task = None
        self._held.clear()
        self.log.clear()
        self._ids = itertools.count(1)
        self._first_attempts = itertools.count(1)

    # -- queueing ----------------------------------------------------------------

    def enqueue(self, tmn_code: str, txn_ref: str, url: str, good_query: str, bad_query: str) -> list[IpnDelivery]:
        """Schedule the IPN of a decided payment (both query forms given; the knob picks one)."""
        config = self._config()
        now = now_vn()
        copies = 2 if config.ipn_duplicate else 1
        deliveries = [
            IpnDelivery(
                delivery_id=next(self._ids),
                tmn_code=tmn_code,
                txn_ref=txn_ref,
                url=url,
                query=bad_query if config.ipn_bad_signature else good_query,
                duplicate=copy > 0,
                bad_signature=config.ipn_bad_signature,
                queued_at=now,
                due_at=now + timedelta(seconds=config.ipn_delay_seconds),
            )
            for copy in range(copies)
        ]
        self.log.extend(deliveries)
        if config.ipn_drop:
            for delivery in deliveries:
                delivery.state = DROPPED
        elif config.ipn_reorder:
            for delivery in deliveries:
                delivery.state = HELD
            self._held.extend(deliveries)
            if self._hold_task is None:
                self._hold_task = self._spawn(self._release_after(config.ipn_reorder_window_seconds))
        else:
            for delivery in deliveries:
                self._spawn(self._deliver(delivery))
        return deliveries

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _release_after(self, window: float) -> None:
        await asyncio.sleep(window)
        self._hold_task = None
        await self._release()

    def release_held(self) -> int:
        """Send the held IPNs now (newest first); returns how many."""
        if self._hold_task is not None:
            self._hold_task.cancel()
            self._hold_task = None
        count = len(self._held)
        self._spawn(self._release())
        return count

    async def _release(self) -> None:
        held, self._held = self._held, []
        for delivery in reversed(held):
            delivery.state = WAITING
        for delivery in reversed(held):  # first attempts strictly one after another
            if not await self._attempt(delivery):
                self._spawn(self._deliver(delivery, first_done=True))

    # -- sending -------------------------------------------------------------------

    async def _deliver(self, delivery: IpnDelivery, *, first_done: bool = False) -> None:
        if not first_done:
            wait = (delivery.due_at - now_vn()).total_seconds()
            if wait > 0:
                await asyncio.sleep(wait)
            if await self._attempt(delivery):
                return
        while len(delivery.attempts) < self._config().ipn_max_attempts:
            delivery.state = RETRYING
            await asyncio.sleep(self._config().ipn_retry_seconds)
            if await self._attempt(delivery):
                return
        delivery.state = FAILED
        log.warning("IPN for %s given up after %d attempts", delivery.txn_ref, len(delivery.attempts))

    async def _attempt(self, delivery: IpnDelivery) -> bool:
        """One GET; True when the merchant's answer ends the delivery."""
        assert self._client is not None, "dispatcher not started"
        if delivery.first_attempt_order is None:
            delivery.first_attempt_order = next(self._first_attempts)
        delivery.state = IN_FLIGHT
        record: dict[str, Any] = {"attempt": len(delivery.attempts) + 1, "at": iso_ms(now_vn())}
        delivery.attempts.append(record)
        separator = "&" if "?" in delivery.url else "?"
        try:
            response = await self._client.get(
                delivery.url + separator + delivery.query, timeout=self._config().ipn_timeout_seconds
            )
        except httpx.HTTPError as exc:
            record["error"] = type(exc).__name__
            delivery.state = RETRYING
            return False
        record["status_code"] = response.status_code
        rsp_code = None
        try:
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("RspCode"), str):
                rsp_code = body["RspCode"]
                record["message"] = body.get("Message")
        except ValueError:
            record["error"] = "answer is not JSON"
        record["rsp_code"] = rsp_code
        if response.status_code == 200 and rsp_code in ENDING_CODES:
            delivery.state = DELIVERED
            return True
        delivery.state = RETRYING
        return False

    def entries(self, txn_ref: str | None = None) -> list[dict[str, Any]]:
        return [d.as_log_entry() for d in self.log if txn_ref is None or d.txn_ref == txn_ref]
