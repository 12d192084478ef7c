"""Virus scanning of uploaded bytes by a clamd daemon (ClamAV), over its INSTREAM command.

Why the kernel: this is a client of an outside daemon with no domain knowledge, like
`http.py`; the documents domain scans uploads with it, `/healthz` pings it, and the
scripts that start clamd (`portal/scanner_daemon.py`) wait on its `ping()`.

Why our own client: the protocol is three documented commands (clamd(8): `zPING`,
`zVERSION`, `zINSTREAM` with 4-byte big-endian length-prefixed chunks, replies ending in
NUL), and the mapping of clamd's failure modes to our verdicts is the part that matters:

- `stream: OK` → `Clean`; `stream: <name> FOUND` → `Infected(name)`, except clamd's own
  "limits exceeded" heuristics (`AlertExceedsMax`), which mean "not scanned completely"
  → `Unscannable(LIMITS_EXCEEDED)`.
- Past clamd's `StreamMaxLength` clamd answers `INSTREAM size limit exceeded` and closes
  the socket; the client usually sees `BrokenPipeError`/`ConnectionResetError` while still
  sending → `Unscannable(TOO_LARGE)`. Callers cap uploads below that limit anyway.
- clamd not reachable (no socket, refused, timeout) → `ScannerUnavailable` is *raised*:
  a caller that cannot scan must refuse the upload, never store it unscanned.

Sync on purpose: the portal's services are sync (web handlers run in a thread pool).
"""

from __future__ import annotations

import enum
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

from portal.core.errors import ExternalServiceError
from portal.core.settings import ScannerSettings

_CHUNK = 64 * 1024
_LIMITS_PREFIX = "Heuristics.Limits.Exceeded"


class ScannerUnavailable(ExternalServiceError):
    """clamd could not be reached or broke off mid-answer: the file was NOT scanned."""

    code = "scanner_unavailable"

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


@dataclass(frozen=True)
class Clean:
    pass


@dataclass(frozen=True)
class Infected:
    signature: str


class UnscannableReason(str, enum.Enum):
    TOO_LARGE = "too_large"  # over clamd's StreamMaxLength
    LIMITS_EXCEEDED = "limits_exceeded"  # archive/recursion/size limits hit inside the file
    SCAN_ERROR = "scan_error"  # clamd answered with an error about this file


@dataclass(frozen=True)
class Unscannable:
    reason: UnscannableReason
    detail: str


ScanVerdict = Clean | Infected | Unscannable


@dataclass(frozen=True)
class ClamdScanner:
    """A clamd at a Unix socket (`socket_path`) or at `host`:`port` (TCP)."""

    socket_path: Path | None = None
    host: str | None = None
    port: int | None = None
    timeout_seconds: float = 30.0

    def __post_init__(self) -> None:
        if (self.socket_path is None) == (self.host is None or self.port is None):
            raise ValueError("give clamd either socket_path, or host and port (not both, not neither)")

    @classmethod
    def from_settings(cls, scanner: ScannerSettings) -> ClamdScanner:
        return cls(
            socket_path=scanner.socket_path,
            host=scanner.host,
            port=scanner.port,
            timeout_seconds=scanner.timeout_seconds,
        )

    @property
    def address(self) -> str:
        return f"unix:{self.socket_path}" if self.socket_path is not None else f"tcp:{self.host}:{self.port}"

    def _connect(self) -> socket.socket:
        try:
            if self.socket_path is not None:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.timeout_seconds)
                try:
                    sock.connect(str(self.socket_path))
                except BaseException:
                    sock.close()
                    raise
                return sock
            assert self.host is not None and self.port is not None
            return socket.create_connection((self.host, self.port), timeout=self.timeout_seconds)
        except OSError as exc:
            raise ScannerUnavailable(f"clamd at {self.address} is not reachable: {exc}") from exc

    def _command(self, command: bytes) -> str:
        with self._connect() as sock:
            try:
                sock.sendall(b"z" + command + b"\0")
                return _read_reply(sock)
            except OSError as exc:
                raise ScannerUnavailable(f"clamd at {self.address} broke off: {exc}") from exc

    def ping(self) -> bool:
        """True when clamd answers PONG; False when it cannot be reached or answers anything else."""
        try:
            return self._command(b"PING") == "PONG"
        except ScannerUnavailable:
            return False

    def version(self) -> str:
        return self._command(b"VERSION")

    def scan(self, data: bytes) -> ScanVerdict:
        """Scan `data`; raise `ScannerUnavailable` when clamd cannot give a verdict at all."""
        with self._connect() as sock:
            try:
                sock.sendall(b"zINSTREAM\0")
                view = memoryview(data)
                for start in range(0, len(view), _CHUNK):
                    chunk = view[start : start + _CHUNK]
                    sock.sendall(struct.pack(">I", len(chunk)) + chunk)
                sock.sendall(struct.pack(">I", 0))
            except (BrokenPipeError, ConnectionResetError) as exc:
                # clamd hung up while we were still sending: it refuses streams past StreamMaxLength.
                reply = _read_reply_quietly(sock)
                if not reply or "size limit exceeded" in reply:
                    return Unscannable(UnscannableReason.TOO_LARGE, reply or f"clamd closed the stream: {exc}")
                return _verdict(reply)
            except OSError as exc:
                raise ScannerUnavailable(f"clamd at {self.address} broke off while receiving the file: {exc}") from exc
            try:
                reply = _read_reply(sock)
            except OSError as exc:
                raise ScannerUnavailable(f"clamd at {self.address} gave no verdict: {exc}") from exc
        return _verdict(reply)


def _read_reply(sock: socket.socket) -> str:
    buffer = bytearray()
    while not buffer.endswith(b"\0"):
        part = sock.recv(4096)
        if not part:
            if buffer:
                break
            raise ConnectionResetError("clamd closed the connection without an answer")
        buffer += part
    return buffer.rstrip(b"\0").decode("utf-8", "replace").strip()


def _read_reply_quietly(sock: socket.socket) -> str:
    try:
        return _read_reply(sock)
    except OSError:
        return ""


def _verdict(reply: str) -> ScanVerdict:
    if "size limit exceeded" in reply:
        return Unscannable(UnscannableReason.TOO_LARGE, reply)
    body = reply.removeprefix("stream:").strip()
    if body == "OK":
        return Clean()
    if body.endswith(" FOUND"):
        name = body.removesuffix(" FOUND").strip()
        if name.startswith(_LIMITS_PREFIX):
            return Unscannable(UnscannableReason.LIMITS_EXCEEDED, name)
        return Infected(name)
    if body.endswith(" ERROR"):
        return Unscannable(UnscannableReason.SCAN_ERROR, body.removesuffix(" ERROR").strip())
    raise ScannerUnavailable(f"clamd gave an answer this client does not understand: {reply!r}")
