"""Simulator of VNPay's sandbox (vnp_Version 2.1.0): payment page, return URL, IPN, querydr, refund.

It computes every checksum with its own code (`checksum.py`) and imports nothing from the
portal's packages, so a signing mistake in our client cannot hide behind a shared helper.
See `docs/vnpay-simulator.md`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .config import Merchant, SimConfig

if TYPE_CHECKING:
    from litestar import Litestar

__all__ = ["Merchant", "SimConfig", "create_app"]


def create_app(config: SimConfig | None = None) -> Litestar:
    """Build the simulator ASGI app (imported lazily: `simulators.vnpay.app:app` reads the environment)."""
    from .app import create_app as _create_app

    return _create_app(config)
