"""Simulator of a Vietnamese brand-name SMS gateway (tin nhắn thương hiệu).

It plays the outside system our portal sends citizens' SMS notifications
through: API key, registered brand names, segment counting (GSM-7 / UCS-2),
idempotent sends by RequestId, signed delivery reports by callback, and knobs
for errors and latency.  It is deliberately independent of the portal's own
packages.  See ``docs/sms-simulator.md`` for the HTTP contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .config import SmsSimConfig

if TYPE_CHECKING:
    from litestar import Litestar

__all__ = ["SmsSimConfig", "create_app"]


def create_app(config: SmsSimConfig | None = None) -> Litestar:
    """Build the simulator ASGI app (see :func:`simulators.sms.app.create_app`).

    Imported lazily so that ``import simulators.sms`` does not build the
    module-level ``simulators.sms.app:app`` from the environment.
    """
    from .app import create_app as _create_app

    return _create_app(config)
