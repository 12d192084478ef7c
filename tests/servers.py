"""Serving an ASGI app (a simulator) with uvicorn on a free loopback port, in a thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn


def bound_socket(port: int = 0) -> socket.socket:
    # IPPROTO_TCP so asyncio enables TCP_NODELAY (else each keep-alive request stalls ~40 ms).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


@contextmanager
def serve_in_thread(make_app: Callable[[str], Any], *, port: int = 0) -> Iterator[tuple[str, Any]]:
    """Yield (base URL, app). The app is built once the port is known (issuer URLs must name it).

    `port` 0: any free port; else that one (a service whose address the settings name)."""
    sock = bound_socket(port)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = make_app(base_url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield base_url, app
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
