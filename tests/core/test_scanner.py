"""The clamd client against a real clamd (local signature database with the EICAR test signature)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from portal.core.printing import render_pdf
from portal.core.scanner import ClamdScanner, Clean, Infected, ScannerUnavailable, Unscannable, UnscannableReason
from portal.scanner_daemon import DEFAULT_STREAM_MAX_BYTES, EICAR, ClamdDaemon
from tests.clamd import free_port, zipped


def a_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 180, 40)).save(out, "JPEG")
    return out.getvalue()


def test_a_clean_pdf_and_a_clean_photo_pass(clamd: ClamdDaemon) -> None:
    scanner = clamd.scanner()
    assert scanner.scan(render_pdf("<p>Tờ khai đăng ký khai sinh</p>")) == Clean()
    assert scanner.scan(a_jpeg()) == Clean()


def test_the_eicar_test_file_is_infected_over_the_socket_and_over_tcp(clamd: ClamdDaemon) -> None:
    for scanner in (clamd.scanner(), clamd.scanner(over_tcp=True)):
        verdict = scanner.scan(EICAR)
        assert isinstance(verdict, Infected)
        assert "EICAR" in verdict.signature
        assert verdict.signature.endswith(".UNOFFICIAL")  # clamd's mark for a local signature


def test_eicar_inside_a_zip_or_inside_a_pdf_is_found(clamd: ClamdDaemon) -> None:
    scanner = clamd.scanner()
    assert isinstance(scanner.scan(zipped("giay-to/cccd.pdf", EICAR)), Infected)
    assert isinstance(scanner.scan(zipped("outer.zip", zipped("inner.txt", EICAR))), Infected)
    assert isinstance(scanner.scan(b"%PDF-1.7\n" + EICAR + b"\n%%EOF"), Infected)


def test_an_archive_nested_past_the_limits_is_unscannable_not_clean(clamd: ClamdDaemon) -> None:
    nested = b"harmless"
    for depth in range(25):  # clamd's MaxRecursion is 17
        nested = zipped(f"level{depth}.zip", nested)
    verdict = clamd.scanner().scan(nested)
    assert isinstance(verdict, Unscannable)
    assert verdict.reason is UnscannableReason.LIMITS_EXCEEDED


def test_a_stream_past_clamds_limit_is_too_large(clamd: ClamdDaemon) -> None:
    verdict = clamd.scanner().scan(b"\0" * (DEFAULT_STREAM_MAX_BYTES + 1024 * 1024))
    assert isinstance(verdict, Unscannable)
    assert verdict.reason is UnscannableReason.TOO_LARGE


def test_ping_and_version(clamd: ClamdDaemon) -> None:
    assert clamd.scanner().ping() is True
    assert clamd.scanner(over_tcp=True).ping() is True
    assert clamd.scanner().version().startswith("ClamAV ")


def test_a_clamd_that_cannot_be_reached_is_a_typed_error_never_a_verdict(tmp_path: Path) -> None:
    for scanner in (
        ClamdScanner(socket_path=tmp_path / "no-clamd.sock", timeout_seconds=2),
        ClamdScanner(host="127.0.0.1", port=free_port(), timeout_seconds=2),
    ):
        assert scanner.ping() is False
        with pytest.raises(ScannerUnavailable) as refused:
            scanner.scan(b"anything")
        assert refused.value.code == "scanner_unavailable"
        assert refused.value.status_code == 503


def test_an_address_is_a_socket_or_a_host_and_port() -> None:
    with pytest.raises(ValueError):
        ClamdScanner()
    with pytest.raises(ValueError):
        ClamdScanner(socket_path=Path("/run/clamav/clamd.ctl"), host="127.0.0.1", port=3310)
    with pytest.raises(ValueError):
        ClamdScanner(host="127.0.0.1")
