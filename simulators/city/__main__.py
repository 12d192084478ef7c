"""Run the city system simulator alone: ``python -m simulators.city --port 8100``."""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from .app import create_app
from .config import SimConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.city",
        description="Simulator of the city one-stop system (DVCQG-style API). "
        "Behaviour knobs come from CITYSIM_* environment variables.",
    )
    parser.add_argument("--host", default=os.environ.get("CITYSIM_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("CITYSIM_PORT", "8100")))
    parser.add_argument("--log-level", default=os.environ.get("CITYSIM_LOG_LEVEL", "info"))
    args = parser.parse_args(argv)

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = SimConfig.from_env()
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level=args.log_level.lower())


if __name__ == "__main__":
    main()
