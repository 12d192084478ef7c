"""``python -m simulators.idp --host 127.0.0.1 --port 8200``"""

from __future__ import annotations

import argparse
import logging
import os

import uvicorn

from .app import create_app
from .config import ConfigError, IdpConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.idp",
        description="OpenID Connect identity-provider simulator (one issuer per tenant).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    env = dict(os.environ)
    # Issuer URLs must match where the simulator really listens: without an
    # explicit IDP_PUBLIC_URL, derive it from --host/--port.
    env.setdefault("IDP_PUBLIC_URL", f"http://{args.host}:{args.port}")
    try:
        config = IdpConfig.from_env(env)
    except ConfigError as exc:
        parser.error(str(exc))

    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("simulators.idp")
    for tenant in config.tenants:
        log.info("issuer %s", config.issuer(tenant))
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
