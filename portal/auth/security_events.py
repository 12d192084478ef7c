"""Refused requests that look like attacks go on the audit record: who (if known), what, from where."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from anyio import to_thread
from litestar.connection import ASGIConnection
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig

from portal.core import audit
from portal.core.tenancy import Scope

log = logging.getLogger(__name__)


def record_security_event(action: str, origin: str, detail: dict[str, Any], repeat_key: str | None = None) -> None:
    """Write one audit entry in its own transaction (the request itself is being refused).

    With `repeat_key`, the same refusal from the same source is written once per tally window and counted after.
    """
    try:
        audit.record_refusal(
            None,
            action,
            "request",
            scope=Scope.network("security event", actor_label="unauthenticated", origin=origin),
            detail=detail,
            repeat_key=None if repeat_key is None else f"{origin}|{repeat_key}",
        )
    except Exception:
        log.exception("could not record security event %s", action)


# The pending single sign-on (state, nonce, PKCE verifier) lives in Litestar's encrypted cookie this long.
SSO_FLOW_COOKIE = "portal_sso"
SSO_FLOW_SECONDS = 10 * 60


class AuditedCookieBackend(ClientSideSessionBackend):
    """Litestar's encrypted cookie; one that cannot be read (tampered, truncated, forged) is recorded, then ignored.

    Litestar parses the cookie's unauthenticated parts before it decrypts, so
    a tampered cookie can fail in many ways: every failure means "no data".
    """

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        if cookie_keys := self.get_cookie_keys(connection):
            data = [connection.cookies[key].encode("utf-8", errors="replace") for key in cookie_keys]
            try:
                return self.load_data(data)
            except Exception as exc:  # noqa: BLE001 - any unreadable cookie is no cookie
                origin = connection.client.host if connection.client else ""
                await to_thread.run_sync(
                    record_security_event,
                    "security.session_cookie_rejected",
                    origin,
                    {"path": connection.url.path, "error": type(exc).__name__, "cookie": self.config.key},
                    hashlib.sha256(b"".join(data)).hexdigest(),
                )
        return {}


class AuditedCookieBackendConfig(CookieBackendConfig):
    _backend_class = AuditedCookieBackend
