"""Payment gateways: the wire protocols of the providers we collect fees through (VNPay today)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from portal.core.settings import get_settings

if TYPE_CHECKING:
    import httpx

    from .vnpay import VNPayClient

_shared: httpx.Client | None = None
_lock = threading.Lock()


def _http() -> httpx.Client:
    """One HTTP client per process for the gateway: building one costs hundreds of ms (its TLS context)."""
    global _shared
    with _lock:
        if _shared is None or _shared.is_closed:
            from portal.core.http import make_http_client

            _shared = make_http_client(timeout_seconds=get_settings().vnpay.timeout_seconds)
        return _shared


def vnpay_client() -> VNPayClient:
    """This deployment's VNPay terminal, from the `vnpay` settings section (closing it keeps the shared HTTP client)."""
    from .vnpay import VNPayClient

    return VNPayClient.from_settings(get_settings().vnpay, http=_http())


def vnpay_return_url() -> str:
    """Where VNPay sends the citizen back (the result page; it changes nothing)."""
    return f"{get_settings().web.public_url}/payments/vnpay/return"
