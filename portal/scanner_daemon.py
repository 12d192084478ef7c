"""clamd (ClamAV's scanning daemon) started and stopped by the project itself.

Used by the demo and by the tests, the way `portal/launcher.py` starts the portal's own
processes; also a command:

    python -m portal.scanner_daemon start  DIR [--tcp-port N] [--stream-max-bytes N] [--database-dir D]
    python -m portal.scanner_daemon status DIR
    python -m portal.scanner_daemon stop   DIR

`start` installs Debian's `clamav-daemon` when `clamd` is missing (as root, with apt-get),
writes `DIR/clamd.conf` (Foreground, a Unix socket `DIR/clamd.sock`, optionally TCP on
127.0.0.1:N, `StreamMaxLength` above the upload cap), starts clamd as a plain process
(`DIR/clamd.pid`, log in `DIR/clamd.log`) and returns once clamd answers PING with PONG.
`stop` sends SIGTERM to that pid and waits until the process is gone.

Signatures, demo and tests: unless `--database-dir` is given, the database is a LOCAL one
generated here into `DIR/db` (no download): `local.ndb` matches the EICAR test string
anywhere in a file, so also inside a zip; `local.hdb` matches the EICAR test file by MD5.
clamd refuses to start on an empty database folder, and the official database is not
reachable without internet. Reported names get `.UNOFFICIAL` appended by clamd.

Production: do not use this generated database. Install `clamav-daemon` and
`clamav-freshclam`, let freshclam keep the official database in `/var/lib/clamav` up to
date, run Debian's clamd service (socket `/run/clamav/clamd.ctl`) or this module with
`--database-dir /var/lib/clamav`, and point the portal at it with `CLAMD_SOCKET` (or
`CLAMD_HOST` + `CLAMD_PORT`). The official database needs far more memory (GBs) and
start-up time (tens of seconds) than the local one. See docs/documents.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from portal.core.scanner import ClamdScanner

DEFAULT_STREAM_MAX_BYTES = 25 * 1024 * 1024
_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux, keep a margin
_CLAMD_CANDIDATES = ("/usr/sbin/clamd", "/usr/local/sbin/clamd")

# The EICAR anti-virus test string, assembled so that this source file is not itself
# flagged by a scanner looking at the repository.
_EICAR_BODY = "EICAR-STANDARD-" + "ANTIVIRUS-TEST-FILE"
EICAR = ("X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + _EICAR_BODY + "!$H+H*").encode()


class ClamdError(RuntimeError):
    """clamd could not be installed, configured, started or stopped; the message says why."""


@dataclass
class ClamdDaemon:
    """A running clamd of ours, described by its folder."""

    var_dir: Path
    pid: int
    tcp_port: int | None
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket_path(self) -> Path:
        return socket_path(self.var_dir)

    def scanner(self, *, over_tcp: bool = False, timeout_seconds: float = 30.0) -> ClamdScanner:
        if over_tcp:
            if self.tcp_port is None:
                raise ClamdError("this clamd was started without a TCP port")
            return ClamdScanner(host="127.0.0.1", port=self.tcp_port, timeout_seconds=timeout_seconds)
        return ClamdScanner(socket_path=self.socket_path, timeout_seconds=timeout_seconds)

    def stop(self, timeout: float = 15.0) -> None:
        _terminate(self.pid, self.process, timeout)
        _pid_file(self.var_dir).unlink(missing_ok=True)


def socket_path(var_dir: Path) -> Path:
    return Path(var_dir).resolve() / "clamd.sock"


def _config_file(var_dir: Path) -> Path:
    return Path(var_dir).resolve() / "clamd.conf"


def _pid_file(var_dir: Path) -> Path:
    return Path(var_dir).resolve() / "clamd.pid"


def _log_file(var_dir: Path) -> Path:
    return Path(var_dir).resolve() / "clamd.log"


# --- installation -----------------------------------------------------------------------


def find_clamd() -> Path | None:
    for candidate in _CLAMD_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return Path(candidate)
    found = shutil.which("clamd")
    return Path(found) if found else None


def ensure_clamd_installed() -> Path:
    """The clamd binary; installs Debian's `clamav-daemon` first when it is missing."""
    found = find_clamd()
    if found:
        return found
    if os.geteuid() != 0:
        raise ClamdError(
            "clamd is not installed; as root run: apt-get install -y --no-install-recommends clamav-daemon"
        )
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=600"]
    print("==> installing Debian's clamav-daemon", file=sys.stderr)
    if subprocess.run([*install, "clamav-daemon"], env=env, capture_output=True).returncode != 0:
        # Most often the package lists are missing or stale: refresh once and retry.
        subprocess.run(["apt-get", "update", "-qq", "-o", "DPkg::Lock::Timeout=600"], env=env, check=False)
        result = subprocess.run([*install, "clamav-daemon"], env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise ClamdError(f"apt-get could not install clamav-daemon: {result.stderr.strip()[-2000:]}")
    found = find_clamd()
    if not found:
        raise ClamdError("clamav-daemon was installed but no clamd binary was found")
    return found


# --- configuration ----------------------------------------------------------------------


def write_local_signatures(database_dir: Path) -> None:
    """A hand-made signature database that knows only the EICAR test file (demo and tests)."""
    database_dir.mkdir(parents=True, exist_ok=True)
    # Extended signature: name:target type (0 = any file):offset (* = anywhere):hex body
    (database_dir / "local.ndb").write_text(f"Portal.Test.EICAR.Body:0:*:{_EICAR_BODY.encode().hex()}\n")
    # Hash signature: md5:size:name, the exact 68-byte test file.
    (database_dir / "local.hdb").write_text(
        f"{hashlib.md5(EICAR, usedforsecurity=False).hexdigest()}:{len(EICAR)}:Portal.Test.EICAR.File\n"
    )


def write_config(
    var_dir: Path,
    *,
    database_dir: Path,
    tcp_port: int | None = None,
    stream_max_bytes: int = DEFAULT_STREAM_MAX_BYTES,
) -> Path:
    var_dir = Path(var_dir).resolve()
    sock = socket_path(var_dir)
    if len(str(sock)) > _SOCKET_PATH_MAX:
        raise ClamdError(f"the folder {var_dir} is too deep for a Unix socket path ({len(str(sock))} characters)")
    tmp = var_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    # clamd reads whole files up to these limits; keep them at least as large as a stream.
    file_limit = max(stream_max_bytes, 100 * 1024 * 1024)
    lines = [
        "# Written by portal/scanner_daemon.py; rewritten at every start.",
        "Foreground yes",
        f"LocalSocket {sock}",
        "LocalSocketMode 660",
        "FixStaleSocket yes",
        f"PidFile {_pid_file(var_dir)}",
        f"DatabaseDirectory {database_dir}",
        f"TemporaryDirectory {tmp}",
        "LogTime yes",
        f"StreamMaxLength {stream_max_bytes}",
        f"MaxFileSize {file_limit}",
        f"MaxScanSize {4 * file_limit}",
        # A file clamd could not scan completely (zip bomb, deep nesting) is reported, not passed.
        "AlertExceedsMax yes",
        "MaxThreads 4",
    ]
    if tcp_port is not None:
        lines += [f"TCPSocket {tcp_port}", "TCPAddr 127.0.0.1"]
    config = _config_file(var_dir)
    config.write_text("\n".join(lines) + "\n")
    return config


# --- processes --------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            # The state follows the parenthesised command name; a zombie has finished.
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _is_our_clamd(pid: int, var_dir: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    config = str(_config_file(var_dir)).encode()
    return b"clamd" in cmdline[0] and any(config in part for part in cmdline[1:])


def _running_pid(var_dir: Path) -> int | None:
    try:
        pid = int(_pid_file(var_dir).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) and _is_our_clamd(pid, var_dir) else None


def _terminate(pid: int, process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    if process is not None and process.poll() is not None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    # clamd takes about a second to exit after SIGTERM.
    while time.monotonic() < deadline:
        if process is not None:
            if process.poll() is not None:
                return
        elif not _alive(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    if process is not None:
        process.wait(timeout=5)


def _configured_tcp_port(var_dir: Path) -> int | None:
    for line in _config_file(var_dir).read_text().splitlines():
        if line.startswith("TCPSocket "):
            return int(line.split()[1])
    return None


def _log_tail(var_dir: Path, lines: int = 15) -> str:
    try:
        return "\n".join(_log_file(var_dir).read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def start_clamd(
    var_dir: Path,
    *,
    tcp_port: int | None = None,
    stream_max_bytes: int = DEFAULT_STREAM_MAX_BYTES,
    database_dir: Path | None = None,
    timeout: float = 120.0,
) -> ClamdDaemon:
    """Start clamd for `var_dir` and return once it answers PONG (or return the one already running)."""
    var_dir = Path(var_dir).resolve()
    var_dir.mkdir(parents=True, exist_ok=True)
    running = _running_pid(var_dir)
    if running is not None and ClamdScanner(socket_path=socket_path(var_dir), timeout_seconds=5).ping():
        return ClamdDaemon(var_dir=var_dir, pid=running, tcp_port=_configured_tcp_port(var_dir))
    if running is not None:
        raise ClamdError(f"a clamd (pid {running}) runs for {var_dir} but does not answer; stop it first")

    clamd = ensure_clamd_installed()
    if database_dir is None:
        database_dir = var_dir / "db"
        write_local_signatures(database_dir)
    config = write_config(
        var_dir, database_dir=Path(database_dir), tcp_port=tcp_port, stream_max_bytes=stream_max_bytes
    )
    with open(_log_file(var_dir), "ab") as log:
        process = subprocess.Popen(
            [str(clamd), f"--config-file={config}"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl+C meant for the demo's terminal is handled by whoever stops us
        )
    _pid_file(var_dir).write_text(f"{process.pid}\n")
    daemon = ClamdDaemon(var_dir=var_dir, pid=process.pid, tcp_port=tcp_port, process=process)
    probe = daemon.scanner(timeout_seconds=2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ClamdError(f"clamd exited with {process.returncode} while starting:\n{_log_tail(var_dir)}")
        if probe.ping():
            return daemon
        time.sleep(0.1)
    daemon.stop()
    raise ClamdError(f"clamd did not answer PING within {timeout:.0f}s:\n{_log_tail(var_dir)}")


def stop_clamd(var_dir: Path, timeout: float = 15.0) -> bool:
    """Stop the clamd started for `var_dir`; False when none was running."""
    var_dir = Path(var_dir).resolve()
    pid = _running_pid(var_dir)
    if pid is None:
        _pid_file(var_dir).unlink(missing_ok=True)
        return False
    ClamdDaemon(var_dir=var_dir, pid=pid, tcp_port=None).stop(timeout)
    return True


def clamd_status(var_dir: Path) -> tuple[int | None, bool]:
    """(pid or None, answers PING) for the clamd of `var_dir`."""
    var_dir = Path(var_dir).resolve()
    pid = _running_pid(var_dir)
    answers = pid is not None and ClamdScanner(socket_path=socket_path(var_dir), timeout_seconds=5).ping()
    return pid, answers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal.scanner_daemon", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("start", "stop", "status"))
    parser.add_argument("dir", type=Path, help="the var folder of this clamd (config, socket, pid, log, local db)")
    parser.add_argument("--tcp-port", type=int, default=None, help="also listen on 127.0.0.1:PORT")
    parser.add_argument("--stream-max-bytes", type=int, default=DEFAULT_STREAM_MAX_BYTES)
    parser.add_argument("--database-dir", type=Path, default=None, help="e.g. /var/lib/clamav (freshclam's)")
    args = parser.parse_args(argv)
    try:
        if args.action == "start":
            daemon = start_clamd(
                args.dir, tcp_port=args.tcp_port, stream_max_bytes=args.stream_max_bytes, database_dir=args.database_dir
            )
            tcp = f", tcp 127.0.0.1:{daemon.tcp_port}" if daemon.tcp_port else ""
            print(f"clamd running: pid {daemon.pid}, socket {daemon.socket_path}{tcp}")
            return 0
        if args.action == "stop":
            print("clamd stopped" if stop_clamd(args.dir) else "clamd was not running")
            return 0
        pid, answers = clamd_status(args.dir)
        if pid is None:
            print("clamd not running")
            return 3
        print(f"clamd pid {pid}: {'answers PONG' if answers else 'does NOT answer'}")
        return 0 if answers else 1
    except ClamdError as exc:
        print(f"clamd: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
