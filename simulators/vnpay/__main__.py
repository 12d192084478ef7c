"""Run the VNPay sandbox simulator alone: `python -m simulators.vnpay --port 8300`."""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from .app import create_app
from .config import SimConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.vnpay",
        description="Simulator of VNPay's sandbox (payment page, IPN, querydr, refund). "
        "Merchants and knobs come from VNPAYSIM_* environment variables.",
    )
    parser.add_argument("--host", default=os.environ.get("VNPAYSIM_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("VNPAYSIM_PORT", "8320")))
    parser.add_argument("--log-level", default=os.environ.get("VNPAYSIM_LOG_LEVEL", "info"))
    args = parser.parse_args(argv)

    try:
        config = SimConfig.from_env()
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("simulators.vnpay")
    for merchant in config.merchants.values():
        log.info("merchant %s, IPN to %s", merchant.tmn_code, merchant.ipn_url or "(none)")
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level=args.log_level.lower())


if __name__ == "__main__":
    main()
