"""clamd started and stopped by the project's own script, the way the demo and the tests do it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portal.core.scanner import Infected, ScannerUnavailable
from portal.scanner_daemon import EICAR, ClamdError, clamd_status, start_clamd, stop_clamd, write_config
from tests.clamd import free_port


def daemon_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portal.scanner_daemon", *args], capture_output=True, text=True, timeout=180
    )


def test_start_writes_its_config_and_local_database_then_answers_and_stop_ends_it(tmp_path: Path) -> None:
    daemon = start_clamd(tmp_path, tcp_port=free_port(), stream_max_bytes=8 * 1024 * 1024)
    try:
        config = (tmp_path / "clamd.conf").read_text()
        assert "Foreground yes" in config
        assert f"LocalSocket {tmp_path / 'clamd.sock'}" in config
        assert f"TCPSocket {daemon.tcp_port}" in config and "TCPAddr 127.0.0.1" in config
        assert "StreamMaxLength 8388608" in config
        assert sorted(p.name for p in (tmp_path / "db").iterdir()) == ["local.hdb", "local.ndb"]
        assert clamd_status(tmp_path) == (daemon.pid, True)
        # Starting again finds the running one instead of starting a second.
        assert start_clamd(tmp_path).pid == daemon.pid
        assert isinstance(daemon.scanner().scan(EICAR), Infected)
    finally:
        daemon.stop()
    assert daemon.process is not None and daemon.process.poll() is not None
    assert clamd_status(tmp_path) == (None, False)
    with pytest.raises(ScannerUnavailable):
        daemon.scanner().scan(b"uploaded after clamd went down")
    assert stop_clamd(tmp_path) is False


def test_the_command_starts_a_clamd_that_outlives_it_and_stops_it_by_pid(tmp_path: Path) -> None:
    started = daemon_command("start", str(tmp_path))
    assert started.returncode == 0, started.stderr
    pid = int((tmp_path / "clamd.pid").read_text())
    try:
        assert f"pid {pid}" in started.stdout
        status = daemon_command("status", str(tmp_path))
        assert (status.returncode, status.stdout.strip()) == (0, f"clamd pid {pid}: answers PONG")
    finally:
        stopped = daemon_command("stop", str(tmp_path))
    assert (stopped.returncode, stopped.stdout.strip()) == (0, "clamd stopped")
    assert not Path(f"/proc/{pid}/cmdline").exists() or b"clamd" not in Path(f"/proc/{pid}/cmdline").read_bytes()
    status = daemon_command("status", str(tmp_path))
    assert (status.returncode, status.stdout.strip()) == (3, "clamd not running")


def test_a_clamd_that_cannot_start_says_why(tmp_path: Path) -> None:
    empty = tmp_path / "empty-db"
    empty.mkdir()
    with pytest.raises(ClamdError, match="exited"):
        start_clamd(tmp_path / "var", database_dir=empty)  # clamd refuses an empty database folder


def test_a_stale_pid_file_is_not_mistaken_for_a_running_clamd(tmp_path: Path) -> None:
    (tmp_path / "clamd.pid").write_text(f"{os.getpid()}\n")  # alive, but not a clamd of this folder
    assert clamd_status(tmp_path) == (None, False)
    assert stop_clamd(tmp_path) is False


def test_a_socket_path_too_long_for_unix_sockets_is_refused_up_front(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 120)
    with pytest.raises(ClamdError, match="too deep"):
        write_config(deep, database_dir=deep / "db")
