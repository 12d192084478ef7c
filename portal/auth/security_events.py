"""Refused requests that look like attacks go on the audit record: who (if known), what, from where."""

from __future__ import annotations

import binascii
import logging
from typing import Any

from anyio import to_thread
from cryptography.exceptions import InvalidTag
from litestar.connection import ASGIConnection
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig

from portal.core import audit
from portal.core.tenancy import Scope

log = logging.getLogger(__name__)


def record_security_event(action: str, origin: str, detail: dict[str, Any]) -> None:
    """Write one audit entry in its own transaction (the request itself is being refused)."""
    try:
        audit.record_refusal(
            None,
            action,
            "request",
            scope=Scope.network("security event", actor_label="unauthenticated", origin=origin),
            detail=detail,
        )
    except Exception:
        log.exception("could not record security event %s", action)


class AuditedCookieBackend(ClientSideSessionBackend):
    """Litestar's encrypted cookie sessions; a cookie that fails authentication is recorded, then ignored."""

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        if cookie_keys := self.get_cookie_keys(connection):
            data = [connection.cookies[key].encode("utf-8") for key in cookie_keys]
            try:
                return self.load_data(data)
            except (InvalidTag, binascii.Error, ValueError) as exc:
                origin = connection.client.host if connection.client else ""
                await to_thread.run_sync(
                    record_security_event,
                    "security.session_cookie_rejected",
                    origin,
                    {"path": connection.url.path, "error": type(exc).__name__},
                )
        return {}


class AuditedCookieBackendConfig(CookieBackendConfig):
    _backend_class = AuditedCookieBackend
