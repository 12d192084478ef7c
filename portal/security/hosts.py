"""The portal's one address: every absolute link starts with `PORTAL_PUBLIC_URL`, never the request's Host.

A link built from the `Host` header (an invitation, a rating link, a receipt's
tracking address, a QR code, an email) points wherever the sender of the
request wants: `Host: evil.example` made the invitation page show
`http://evil.example/invitations/<token>`. So links come from `public_link`,
and in production a request for any other host is refused (400) before
anything reads it. `/healthz` and `/metrics` are exempt: load balancers and
scrapers reach processes by their own addresses, and neither builds a link.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from litestar.types import ASGIApp, Receive, Scope, Send

from portal.core.errors import DomainError
from portal.core.settings import get_settings

EXEMPT_PATHS = frozenset({"/healthz", "/metrics"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}


class UnknownHost(DomainError):
    status_code = 400
    code = "unknown_host"


def public_link(path: str) -> str:
    """The absolute address of one of the portal's paths (`/invitations/…`), from PORTAL_PUBLIC_URL."""
    return get_settings().web.public_url.rstrip("/") + "/" + path.lstrip("/")


def _normalised(host: str, scheme: str) -> str:
    host = host.strip().lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default and host.endswith(":" + default):
        host = host[: -len(default) - 1]
    return host


def expected_host(public_url: str) -> str:
    parts = urlsplit(public_url)
    return _normalised(parts.netloc, parts.scheme)


class HostGuardMiddleware:
    """ASGI middleware: with `enforce` (production), a Host other than the public URL's answers 400."""

    def __init__(self, app: ASGIApp, public_url: str, enforce: bool) -> None:
        self.app = app
        self.enforce = enforce
        self.scheme = urlsplit(public_url).scheme
        self.host = expected_host(public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.enforce and scope["type"] == "http" and scope.get("path") not in EXEMPT_PATHS:
            given = next((value for name, value in scope.get("headers", []) if name == b"host"), b"")
            if _normalised(given.decode("latin-1"), self.scheme) != self.host:
                raise UnknownHost("Yêu cầu gửi tới một địa chỉ không phải của cổng")
        await self.app(scope, receive, send)
