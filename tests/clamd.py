"""A real clamd for the tests, started by the project's own `portal.scanner_daemon` (local EICAR database).

A test folder that scans registers the fixture in its conftest: `from tests.clamd import clamd  # noqa: F401`.
"""

from __future__ import annotations

import io
import socket
import zipfile
from collections.abc import Iterator

import pytest

from portal.scanner_daemon import ClamdDaemon, start_clamd


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def zipped(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClamdDaemon]:
    daemon = start_clamd(tmp_path_factory.mktemp("clamd"), tcp_port=free_port())
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture(scope="session")
def portal_clamd() -> ClamdDaemon:
    """The clamd the portal under test reaches by its settings (stopped at the end of the run)."""
    from tests.documents import ensure_portal_clamd

    return ensure_portal_clamd()
