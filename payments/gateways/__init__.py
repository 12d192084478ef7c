"""Payment gateways: the wire protocols of the providers we collect fees through (VNPay today)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.core.settings import get_settings

if TYPE_CHECKING:
    from .vnpay import VNPayClient


def vnpay_client() -> VNPayClient:
    """This deployment's VNPay terminal, from the `vnpay` settings section. Close it after use."""
    from .vnpay import VNPayClient

    return VNPayClient.from_settings(get_settings().vnpay)


def vnpay_return_url() -> str:
    """Where VNPay sends the citizen back (the result page; it changes nothing)."""
    return f"{get_settings().web.public_url}/payments/vnpay/return"
