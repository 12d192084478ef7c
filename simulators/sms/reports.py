"""Signed delivery reports (DLR), POSTed to the sender's callback URL with retries.

Each report is one delivery record (two with the ``duplicate_reports`` knob,
both carrying the same ``report_id``), sent by its own task: reports of
different messages are independent.  A delivery is retried on a network error
or a non-2xx answer, after ``base``, ``2*base``, ``4*base``… seconds, up to
``report_max_attempts`` attempts.  Every attempt is signed again with a fresh
timestamp; the body never changes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from .clock import iso, now_vn
from .config import SmsSimConfig

log = logging.getLogger("smssim.reports")

USER_AGENT = "SmsSim/1.0 (brand-name SMS gateway simulator)"
MAX_CONCURRENT_REQUESTS = 32


def encode_report(report: dict[str, Any]) -> bytes:
    """The exact bytes POSTed for a report (UTF-8 JSON, no extra spaces)."""
    return json.dumps(report, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Value of ``X-Sms-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``"{timestamp}.{body}"``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return "sha256=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


@dataclass
class ReportDelivery:
    delivery_id: int
    url: str
    secret: str
    report: dict[str, Any]
    body: bytes
    duplicate: bool
    queued_at: datetime
    state: str = "queued"  # queued, in_flight, retrying, delivered, failed
    attempts: int = 0
    last_response_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    def as_log_entry(self) -> dict[str, Any]:
        return {
            "delivery_id": self.delivery_id,
            "report_id": self.report["report_id"],
            "SMSID": self.report["SMSID"],
            "Status": self.report["Status"],
            "url": self.url,
            "duplicate": self.duplicate,
            "state": self.state,
            "attempts": self.attempts,
            "last_response_code": self.last_response_code,
            "last_error": self.last_error,
            "queued_at": iso(self.queued_at),
            "delivered_at": iso(self.delivered_at) if self.delivered_at else None,
            "report": self.report,
            "attempt_log": list(self.history),
        }


class ReportDispatcher:
    """Queues, signs, sends and retries delivery reports; keeps a log of every delivery."""

    def __init__(self, config: Callable[[], SmsSimConfig]) -> None:
        self._config = config
        self._ids = itertools.count(1)
        self.log: list[ReportDelivery] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._semaphore: asyncio.Semaphore | None = None

    async def start(self) -> None:
        self._client = httpx.AsyncClient(headers={"User-Agent": USER_AGENT}, follow_redirects=False)
        self._semaphore = asyncio.Semaphore(MAX_CONCURRENT_REQUESTS)

    async def stop(self) -> None:
        await self.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def clear(self) -> None:
        """Drop every pending delivery and the log (``/_sim/reset``)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        self.log.clear()
        self._ids = itertools.count(1)

    def enqueue(self, url: str, secret: str, report: dict[str, Any]) -> None:
        """Schedule the report's delivery to ``url``.  Never sends anything itself."""
        body = encode_report(report)
        copies = 2 if self._config().duplicate_reports else 1
        for copy in range(copies):
            delivery = ReportDelivery(
                delivery_id=next(self._ids),
                url=url,
                secret=secret,
                report=report,
                body=body,
                duplicate=copy > 0,
                queued_at=now_vn(),
            )
            self.log.append(delivery)
            task = asyncio.get_running_loop().create_task(
                self._deliver(delivery), name=f"smssim-report-{report['SMSID']}"
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: ReportDelivery) -> None:
        while True:
            if await self._attempt(delivery):
                delivery.state = "delivered"
                delivery.delivered_at = now_vn()
                return
            if delivery.attempts >= self._config().report_max_attempts:
                delivery.state = "failed"
                log.warning("report %s given up after %d attempts", delivery.report["report_id"], delivery.attempts)
                return
            delivery.state = "retrying"
            await asyncio.sleep(self._config().report_retry_base * (2 ** (delivery.attempts - 1)))

    async def _attempt(self, delivery: ReportDelivery) -> bool:
        assert self._client is not None and self._semaphore is not None, "dispatcher not started"
        delivery.state = "in_flight"
        delivery.attempts += 1
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Sms-Timestamp": str(timestamp),
            "X-Sms-Signature": sign(delivery.secret, timestamp, delivery.body),
            "X-Sms-Report-Id": delivery.report["report_id"],
            "X-Sms-Delivery-Attempt": str(delivery.attempts),
        }
        record: dict[str, Any] = {"attempt": delivery.attempts, "at": iso(now_vn())}
        try:
            async with self._semaphore:
                response = await self._client.post(
                    delivery.url, content=delivery.body, headers=headers, timeout=self._config().report_timeout
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

    def entries(self, sms_id: str | None = None) -> list[dict[str, Any]]:
        return [d.as_log_entry() for d in self.log if sms_id is None or d.report["SMSID"] == sms_id]
