"""The web side of logs and metrics: a request id per request, latency per route, refused callbacks.

`observe_requests(app)` puts `RequestObserver` outermost, around Litestar's
exception handling, so it sees every response with its final status (a
`DomainError` turned into a 404 included) and every log line of the request
(the error handlers' too) carries the request id.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from litestar.enums import ScopeType
from litestar.exceptions import HTTPException

from portal.core import metrics
from portal.core.errors import AuthenticationFailed, NotFound, ValidationFailed
from portal.core.logging import (
    REQUEST_ID_HEADER,
    accept_request_id,
    close_context,
    new_request_id,
    open_context,
)

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("portal.access")
refusals_log = logging.getLogger("portal.city_callbacks")

_HEADER = REQUEST_ID_HEADER.lower().encode()
UNMATCHED_ROUTE = "<unmatched>"  # no route matched the path: one label for all of them
_QUIET_ROUTES = frozenset({"/healthz", "/metrics"})  # probes and scrapes: access lines at DEBUG

#: `opt` key of a route handler whose refusals count in portal_city_callbacks_refused_total.
COUNTS_CITY_CALLBACK_REFUSALS = "counts_city_callback_refusals"


class RequestObserver:
    """ASGI wrapper: request id in, request id out, latency by route template, one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")  # before routing rewrites it for mounted apps
        given = next((value for name, value in scope["headers"] if name == _HEADER), None)
        request_id = accept_request_id(given.decode("latin-1") if given is not None else None) or new_request_id()
        status = 500  # if nothing is ever sent, the client saw a failure

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (_HEADER, request_id.encode())]
            await send(message)

        token = open_context(request_id=request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or UNMATCHED_ROUTE
            method = scope.get("method", "")
            metrics.HTTP_REQUEST_DURATION.labels(method=method, route=route, status=str(status)).observe(elapsed)
            log.log(
                logging.DEBUG if route in _QUIET_ROUTES else logging.INFO,
                "%s %s %s",
                method,
                path,
                status,
                extra={"method": method, "route": route, "status": status, "duration_ms": round(elapsed * 1000, 1)},
            )
            close_context(token)


def callback_refusal_reason(exc: Exception) -> str | None:
    """Why the city's callback was refused, from what its handler raised (None: not a refusal)."""
    if isinstance(exc, AuthenticationFailed):
        return "bad_signature"
    if isinstance(exc, NotFound):
        return "unknown_dossier"
    if isinstance(exc, ValidationFailed) or (isinstance(exc, HTTPException) and exc.status_code in (400, 413, 415)):
        return "malformed"
    return None


async def count_refused_callbacks(exc: Exception, scope: Scope) -> None:
    """`after_exception` hook: a refusal by a handler marked with COUNTS_CITY_CALLBACK_REFUSALS is counted."""
    handler: Any = scope.get("route_handler")
    if handler is None or not handler.opt.get(COUNTS_CITY_CALLBACK_REFUSALS):
        return
    reason = callback_refusal_reason(exc)
    if reason is not None:
        metrics.CALLBACKS_REFUSED.labels(reason=reason).inc()
        refusals_log.warning("city callback refused (%s): %s", reason, exc, extra={"reason": reason})


def observe_requests(app: Litestar) -> Litestar:
    """Wrap the app's request handling (outside its exception handlers) in a RequestObserver."""
    app.asgi_handler = RequestObserver(app.asgi_handler)
    return app
