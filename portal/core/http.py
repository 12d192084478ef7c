"""The one factory for outbound HTTP clients (city system, VNPay, identity providers)."""

from __future__ import annotations

import httpx

USER_AGENT = "agent-network-portal/0.1"


def make_http_client(base_url: str = "", *, timeout_seconds: float = 10.0) -> httpx.Client:
    """A client with explicit timeouts; connect is kept short so outages fail fast."""
    timeout = httpx.Timeout(timeout_seconds, connect=min(3.0, timeout_seconds))
    return httpx.Client(base_url=base_url, timeout=timeout, headers={"User-Agent": USER_AGENT})
