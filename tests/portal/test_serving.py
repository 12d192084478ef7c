"""Serving several web processes: the connections they accept switch Nagle's algorithm off.

uvicorn's own listener for `--workers N` leaves the socket's protocol at 0, so asyncio does not set
TCP_NODELAY on accepted connections and each keep-alive request waits ~40 ms for a delayed ACK.
`portal serve --workers N` binds the listener itself (portal/serving.py).
"""

from __future__ import annotations

import asyncio
import socket

from portal.serving import tcp_listener


async def _nodelay_of_accepted_connection(listener: socket.socket) -> int:
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
    port = listener.getsockname()[1]
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        return await asyncio.wait_for(accepted, timeout=10)
    finally:
        writer.close()
        server.close()
        await server.wait_closed()


def test_the_shared_listener_says_it_is_tcp_so_accepted_connections_get_tcp_nodelay():
    listener = tcp_listener("127.0.0.1", 0)
    assert listener.proto == socket.IPPROTO_TCP
    assert listener.get_inheritable()  # handed to the worker processes
    assert asyncio.run(_nodelay_of_accepted_connection(listener)) != 0


def test_a_listener_without_its_protocol_named_is_what_loses_tcp_nodelay():
    """The failure the listener above avoids, shown on the same probe (so the probe can fail)."""
    plain = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, like uvicorn's bind_socket
    plain.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    plain.bind(("127.0.0.1", 0))
    assert asyncio.run(_nodelay_of_accepted_connection(plain)) == 0
