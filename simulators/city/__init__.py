"""Simulator of the city's one-stop administrative-procedure system.

It plays the outside system our portal forwards dossiers to (modelled on the
DVCQG synchronisation operations) and is deliberately independent of the
portal's own packages.  See ``docs/city-api.md`` for the HTTP contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .config import SimConfig

if TYPE_CHECKING:
    from litestar import Litestar

__all__ = ["SimConfig", "create_app"]


def create_app(config: SimConfig | None = None) -> Litestar:
    """Build the simulator ASGI app (see :func:`simulators.city.app.create_app`).

    Imported lazily so that ``import simulators.city`` does not build the
    module-level ``simulators.city.app:app`` from the environment.
    """
    from .app import create_app as _create_app

    return _create_app(config)
