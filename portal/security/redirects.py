"""Where the portal may send a browser back to: its own paths, never another site."""

from __future__ import annotations

from urllib.parse import urlsplit

from portal.auth.session import safe_next


def same_origin_return_path(referer: str | None, own_netloc: str) -> str:
    """The path and query of a Referer from the portal's own host, else "/".

    Only a path is ever returned (no scheme, no host), so the answer cannot lead
    elsewhere even if the host comparison were fooled; the comparison keeps
    another site's paths from being echoed. The scheme is not compared: behind a
    TLS-terminating proxy the request may look like http while the page was https.
    """
    if not referer:
        return "/"
    try:
        parts = urlsplit(referer)
    except ValueError:
        return "/"
    if not parts.scheme or parts.netloc.lower() != own_netloc.lower():
        return "/"
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return safe_next(target) or "/"
