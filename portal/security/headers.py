"""Security headers on every response the portal sends: pages, the JSON API, errors, static files.

Set by one `before_send` hook, so they also reach answers no handler wrote
(the router's 404/405, the exception handlers' pages). A header a handler has
set itself is left as it is.

- `Content-Security-Policy`: everything from the portal itself, no inline
  script or style, no plugins, forms post only to the portal, and
  `frame-ancestors 'none'`; the API reference under /schema too (the portal
  serves Swagger UI itself, with no inline code).
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

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from litestar.datastructures import MutableScopeHeaders

if TYPE_CHECKING:
    from litestar.types import Message, Scope

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
# The API reference (/schema) needs no entry: the portal serves Swagger UI itself, with no inline
# script or style (portal/api_reference.py), so it runs under the base policy like every page.
POLICY_BY_PATH: dict[str, Mapping[str, str]] = {
    # The back office (piccolo-admin's single-page app, decision 0027): its icons and Vue's bindings set
    # inline styles; scripts stay 'self' only, like every page.
    "/admin": {"style-src": "'self' 'unsafe-inline'"},
}

STATIC_PREFIX = "/static/"
HSTS = "max-age=31536000"
REFERRER_POLICY = "same-origin"


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def policy_for(path: str) -> dict[str, str]:
    policy = dict(BASE_POLICY)
    matches = sorted((p for p in POLICY_BY_PATH if _under(path, p)), key=len)
    for prefix in matches:
        policy.update(POLICY_BY_PATH[prefix])
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
