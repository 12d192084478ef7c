"""A local SMTP server that keeps every message in a Maildir (aiosmtpd), for the demo and the tests.

Two ways to run it, both listening on a loopback port:

* :class:`MailServerProcess` starts ``python -m aiosmtpd -n -l HOST:PORT -c
  aiosmtpd.handlers.Mailbox DIR`` as a child process (the demo), waits until
  it answers with its ``220`` greeting, and stops it by its pid;
* :class:`InProcessMailServer` runs aiosmtpd's ``Controller`` in a thread of the
  calling process (the tests: starts in milliseconds).  It accepts the keyword
  arguments of aiosmtpd's ``SMTP`` class (``tls_context``, ``require_starttls``,
  ``authenticator``, ``auth_required``...).

aiosmtpd's Controller cannot listen on port 0 (it connects to its own port to
check it is up), so a free port is picked first: :func:`free_port`.

:func:`read_maildir` reads the messages back, headers decoded.
"""

from __future__ import annotations

import email
import email.policy
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from typing import IO, Any

__all__ = ["InProcessMailServer", "MailServerProcess", "free_port", "make_maildir", "read_maildir"]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (it may be taken before it is used: callers retry)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _greets(host: str, port: int) -> bool:
    """Whether an SMTP server answers on host:port with its 220 greeting."""
    try:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            sock.settimeout(2.0)
            ready = sock.recv(3) == b"220"
            sock.sendall(b"QUIT\r\n")
            return ready
    except OSError:
        return False


def make_maildir(directory: str | Path) -> Path:
    """Create the Maildir's ``tmp``, ``new`` and ``cur`` (``mailbox.Maildir`` only does it for a missing folder)."""
    root = Path(directory)
    for sub in ("tmp", "new", "cur"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def read_maildir(directory: str | Path) -> list[EmailMessage]:
    """Every message in the Maildir, oldest first, parsed with the modern policy (decoded headers)."""
    root = Path(directory)
    files = [path for sub in ("new", "cur") if (root / sub).is_dir() for path in (root / sub).iterdir()]
    files.sort(key=lambda path: (path.stat().st_mtime_ns, path.name))
    return [email.message_from_bytes(path.read_bytes(), policy=email.policy.default) for path in files]


class MailServerProcess:
    """aiosmtpd as a child process writing a Maildir (what the demo starts)."""

    def __init__(self, maildir: str | Path, *, host: str = "127.0.0.1", port: int = 8025) -> None:
        self.maildir = Path(maildir)
        self.host = host
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self._errors: IO[bytes] | None = None

    def start(self, timeout_seconds: float = 15.0) -> MailServerProcess:
        make_maildir(self.maildir)
        if _greets(self.host, self.port):
            raise RuntimeError(f"something already listens on {self.host}:{self.port}")
        command = [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"{self.host}:{self.port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(self.maildir),
        ]
        # Its error output goes to a file, not a pipe: nobody reads a pipe while the demo runs, and a
        # full pipe would block the server.
        self._errors = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process; closed by stop()
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self._errors)
        deadline = time.monotonic() + timeout_seconds
        while not _greets(self.host, self.port):
            if self.process.poll() is not None:
                self._errors.seek(0)
                error = self._errors.read().decode("utf-8", "replace")
                self.stop()
                raise RuntimeError(f"the SMTP server exited at start: {error.strip()[-500:]}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the SMTP server did not answer on {self.host}:{self.port}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Stop the child process (by its pid), waiting for it to exit."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        errors, self._errors = self._errors, None
        if errors is not None:
            errors.close()

    def __enter__(self) -> MailServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class InProcessMailServer:
    """aiosmtpd's Controller in a thread, writing a Maildir (what the tests start)."""

    def __init__(
        self, maildir: str | Path, *, host: str = "127.0.0.1", handler: Any = None, **smtp_options: Any
    ) -> None:
        self.maildir = Path(maildir)
        self.host = host
        self.port = 0
        #: An aiosmtpd handler (default: ``Mailbox(maildir)``); a test may pass one that refuses some recipients.
        self.handler = handler
        self.smtp_options = smtp_options
        self._controller: Any = None

    def start(self) -> InProcessMailServer:
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Mailbox

        make_maildir(self.maildir)
        handler = self.handler if self.handler is not None else Mailbox(self.maildir)
        for _ in range(5):  # the free port may be taken between picking and binding it
            port = free_port(self.host)
            controller = Controller(
                handler, hostname=self.host, port=port, server_hostname="localhost", **self.smtp_options
            )
            try:
                controller.start()
            except OSError:
                continue
            self._controller, self.port = controller, port
            return self
        raise RuntimeError("no free port for the SMTP server")

    def stop(self) -> None:
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    def messages(self) -> list[EmailMessage]:
        return read_maildir(self.maildir)

    def __enter__(self) -> InProcessMailServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
