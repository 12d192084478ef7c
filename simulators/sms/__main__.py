"""Run the SMS gateway simulator alone: ``python -m simulators.sms --port 8300``."""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from .app import create_app
from .config import SmsSimConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.sms",
        description="Simulator of a Vietnamese brand-name SMS gateway. "
        "Behaviour knobs come from SMSSIM_* environment variables.",
    )
    parser.add_argument("--host", default=os.environ.get("SMSSIM_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SMSSIM_PORT", "8310")))
    parser.add_argument("--log-level", default=os.environ.get("SMSSIM_LOG_LEVEL", "info"))
    args = parser.parse_args(argv)

    try:
        config = SmsSimConfig.from_env()
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level=args.log_level.lower())


if __name__ == "__main__":
    main()
