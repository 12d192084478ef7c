"""Security headers on every response the portal sends: pages, the JSON API, errors, static files.

Set by one `before_send` hook, so they also reach answers no handler wrote
(the router's 404/405, the exception handlers' pages). A header a handler has
set itself is left as it is.

- `Content-Security-Policy`: everything from the portal itself, no inline
  script or style, no plugins, forms post only to the portal, and
  `frame-ancestors 'none'`. Third-party HTML the portal serves but does not
  write (the OpenAPI viewer under /schema) gets the hashes of its own inline
  scripts added, never `'unsafe-inline'` for scripts (`InlineBlockHashesMiddleware`);
  its styles may be inline (see POLICY_BY_PATH).
- `X-Frame-Options: DENY` for browsers without CSP level 2 (clickjacking).
- `X-Content-Type-Options: nosniff`.
- `Referrer-Policy: same-origin`: tracking codes, rating tokens and invitation
  tokens travel in URLs; no other site needs to learn any of them, nor that
  its visitor came from the portal. Same-origin referrers stay (the language
  switch uses them).
- `Cache-Control: no-store` on every dynamic answer (all but /static/): pages
  and API answers showing a citizen's ID number or phone are many (receipt,
  dossier detail and list, track results, API reads), and counter PCs are
  shared, so the rule does not depend on knowing which.
- `Strict-Transport-Security` in production only (`PORTAL_ENV=production`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from litestar.datastructures import MutableScopeHeaders

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

BASE_POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
}

# Per-path changes to the policy, by path prefix (the longest matching prefix wins).
# A back office that frames its own pages registers e.g. {"frame-ancestors": "'self'"} here;
# X-Frame-Options follows frame-ancestors ('none' -> DENY, 'self' -> SAMEORIGIN, else omitted).
POLICY_BY_PATH: dict[str, Mapping[str, str]] = {
    # The OpenAPI viewers, checked in Chromium with their assets served from /static (docs/security.md):
    # Redoc and Scalar insert <style> elements and style attributes at run time (Redoc does not render
    # without them); Redoc searches in a worker made from a blob: URL. Scripts stay 'self' plus the
    # hashes of the page's own inline blocks: no 'unsafe-inline', no 'unsafe-eval'.
    "/schema": {"style-src": "'self' 'unsafe-inline'", "worker-src": "'self' blob:"},
}

# Paths whose HTML has inline <script>/<style> blocks the portal does not write itself.
INLINE_HASH_PATHS = ("/schema",)

STATIC_PREFIX = "/static/"
HSTS = "max-age=31536000"
REFERRER_POLICY = "same-origin"


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def policy_for(path: str, *, script_hashes: tuple[str, ...] = (), style_hashes: tuple[str, ...] = ()) -> dict[str, str]:
    policy = dict(BASE_POLICY)
    matches = sorted((p for p in POLICY_BY_PATH if _under(path, p)), key=len)
    for prefix in matches:
        policy.update(POLICY_BY_PATH[prefix])
    if script_hashes:
        policy["script-src"] += "".join(f" '{h}'" for h in script_hashes)
    if style_hashes and "'unsafe-inline'" not in policy["style-src"]:
        # (A hash next to 'unsafe-inline' would switch 'unsafe-inline' off in CSP level 2 browsers.)
        policy["style-src"] += "".join(f" '{h}'" for h in style_hashes)
    return policy


def render_policy(policy: Mapping[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def frame_options_for(policy: Mapping[str, str]) -> str | None:
    ancestors = policy.get("frame-ancestors", "'none'").strip()
    return {"'none'": "DENY", "'self'": "SAMEORIGIN"}.get(ancestors)


def security_headers(*, production: bool) -> Any:
    """The `before_send` hook for `Litestar(before_send=[...])`."""

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        path = scope.get("path", "")
        policy = policy_for(path)
        if "content-security-policy" not in headers:
            headers["Content-Security-Policy"] = render_policy(policy)
        frame_options = frame_options_for(policy)
        if frame_options and "x-frame-options" not in headers:
            headers["X-Frame-Options"] = frame_options
        headers["X-Content-Type-Options"] = "nosniff"
        if "referrer-policy" not in headers:
            headers["Referrer-Policy"] = REFERRER_POLICY
        if not path.startswith(STATIC_PREFIX) and "cache-control" not in headers:
            headers["Cache-Control"] = "no-store"
        if production:
            headers["Strict-Transport-Security"] = HSTS

    return add_security_headers


_INLINE_BLOCK = re.compile(rb"<(script|style)\b([^>]*)>(.*?)</\1\s*>", re.S | re.I)


def inline_block_hashes(html: bytes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """CSP hashes ('sha256-…') of the inline <script> and <style> blocks of a page."""
    scripts: list[str] = []
    styles: list[str] = []
    for match in _INLINE_BLOCK.finditer(html):
        tag, attributes, content = match.group(1).lower(), match.group(2), match.group(3)
        if tag == b"script" and re.search(rb"\bsrc\s*=", attributes):
            continue  # an external script: allowed by 'self' or not at all
        digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
        (scripts if tag == b"script" else styles).append(f"sha256-{digest}")
    return tuple(dict.fromkeys(scripts)), tuple(dict.fromkeys(styles))


class InlineBlockHashesMiddleware:
    """For HTML the portal serves but does not write (INLINE_HASH_PATHS): allow exactly its inline blocks.

    Buffers such a response, hashes its inline <script>/<style> blocks and sends
    a Content-Security-Policy naming those hashes; the `before_send` hook then
    leaves that policy alone. Other responses pass through untouched.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not any(_under(path, prefix) for prefix in INLINE_HASH_PATHS):
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body: list[bytes] = []

        async def buffered_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            html = b"".join(body)
            headers = MutableScopeHeaders.from_message(start)
            if headers.get("content-type", "").startswith("text/html"):
                scripts, styles = inline_block_hashes(html)
                headers["Content-Security-Policy"] = render_policy(
                    policy_for(path, script_hashes=scripts, style_hashes=styles)
                )
            await send(start)
            await send({"type": "http.response.body", "body": html, "more_body": False})

        await self.app(scope, receive, buffered_send)
