"""How the web application is served: uvicorn, one process or several sharing one listening socket.

Several processes (`portal serve --workers N`) are uvicorn's own supervisor (it restarts a worker
that dies and passes signals on), with one difference: the listening socket is bound here, with
its protocol named (`IPPROTO_TCP`). uvicorn's own `bind_socket` leaves the protocol at 0; accepted
connections inherit it, and asyncio switches Nagle's algorithm off (`TCP_NODELAY`) only on sockets
that say they are TCP. Without it every keep-alive request after the first waits about 40 ms for
the client's delayed ACK (see docs/decisions/0031-serving-processes.md). One process binds through
asyncio itself, which names the protocol already.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess


def tcp_listener(host: str, port: int) -> socket.socket:
    """A listening TCP socket that accepted connections know to be TCP (so they get TCP_NODELAY)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(app: str, *, host: str, port: int, workers: int = 1, factory: bool = True, log_level: str = "info") -> None:
    """Serve the ASGI application `app` ("module:attribute") until stopped."""
    config = uvicorn.Config(
        app,
        factory=factory,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        log_config=None,  # uvicorn's own lines in our format too (the caller configured logging)
        access_log=False,  # the portal writes its own access line, with the request id
    )
    if workers > 1:
        Multiprocess(config, sockets=[tcp_listener(host, port)]).run()
    else:
        uvicorn.Server(config).run()
