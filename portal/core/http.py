"""The one factory for outbound HTTP clients (city system, VNPay, identity providers)."""

from __future__ import annotations

import logging
import time
from typing import Any
from weakref import WeakKeyDictionary

import httpx

from portal.core.logging import REQUEST_ID_HEADER, current_request_id

USER_AGENT = "agent-network-portal/0.1"

log = logging.getLogger("portal.http.outbound")
_started: WeakKeyDictionary[httpx.Request, float] = WeakKeyDictionary()


def _send_request_id(request: httpx.Request) -> None:
    """The request id of the work in hand travels with every outbound call (docs/operations.md)."""
    request_id = current_request_id()
    if request_id and REQUEST_ID_HEADER not in request.headers:
        request.headers[REQUEST_ID_HEADER] = request_id
    _started[request] = time.perf_counter()


def _log_response(response: httpx.Response) -> None:
    request = response.request
    started = _started.pop(request, None)
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    log.info(
        "%s %s%s -> %s",
        request.method,
        request.url.host,
        request.url.path,
        response.status_code,
        extra={"status": response.status_code, "duration_ms": elapsed_ms},
    )


def event_hooks() -> dict[str, list[Any]]:
    """httpx event hooks every outbound client uses: request id header, one log line per answer."""
    return {"request": [_send_request_id], "response": [_log_response]}


def make_http_client(base_url: str = "", *, timeout_seconds: float = 10.0) -> httpx.Client:
    """A client with explicit timeouts; connect is kept short so outages fail fast."""
    timeout = httpx.Timeout(timeout_seconds, connect=min(3.0, timeout_seconds))
    return httpx.Client(
        base_url=base_url, timeout=timeout, headers={"User-Agent": USER_AGENT}, event_hooks=event_hooks()
    )
