"""Our email sender through a real local SMTP server (aiosmtpd), read back from its Maildir."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agents.notifications.email import EmailSender
from agents.notifications.rules import (
    Accepted,
    NotificationFacts,
    NotificationKind,
    Refused,
    RetryLater,
    email_text,
    message_id_for,
    tracking_link,
)
from simulators.smtp import InProcessMailServer, MailServerProcess, free_port, read_maildir

SENDER = "Cổng Dịch vụ công Hà Nội <thongbao@dichvucong.demo.vn>"
FACTS = NotificationFacts(
    tracking_code="HN-ABCD-EFGH",
    tracking_link=tracking_link("http://127.0.0.1:8000", "HN-ABCD-EFGH"),
    procedure_name="Đăng ký tạm trú",
    note="Đề nghị công dân bổ sung giấy tờ: bản sao giấy tờ chứng minh chỗ ở hợp pháp",
    point_name="Bưu điện Bờ Hồ",
    citizen_name="Nguyễn Thị Lan",
)


@pytest.fixture
def mail_server(tmp_path: Path) -> Iterator[InProcessMailServer]:
    with InProcessMailServer(tmp_path / "maildir") as server:
        yield server


def sender_for(server: InProcessMailServer | MailServerProcess, **options: Any) -> EmailSender:
    return EmailSender("127.0.0.1", server.port, SENDER, timeout_seconds=5, **options)


def test_a_vietnamese_email_arrives_with_subject_body_and_our_message_id(mail_server: InProcessMailServer) -> None:
    sender = sender_for(mail_server)
    text = email_text(NotificationKind.supplement_requested, FACTS)
    message_id = message_id_for("notification-42", sender.domain)
    outcome = sender.send("lan.nguyen@example.vn", text.subject, text.body, message_id=message_id)
    assert outcome == Accepted("<notification-42@dichvucong.demo.vn>")

    [message] = mail_server.messages()
    assert message["Subject"] == "Hồ sơ HN-ABCD-EFGH cần bổ sung giấy tờ"
    assert message["From"].addresses[0].display_name == "Cổng Dịch vụ công Hà Nội"
    assert message["From"].addresses[0].addr_spec == "thongbao@dichvucong.demo.vn"
    assert message["To"] == "lan.nguyen@example.vn"
    assert message["Message-ID"] == "<notification-42@dichvucong.demo.vn>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-MailFrom"] == "thongbao@dichvucong.demo.vn"  # the envelope sender
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert body == text.body
    assert "Kính gửi ông/bà Nguyễn Thị Lan," in body
    assert "bản sao giấy tờ chứng minh chỗ ở hợp pháp" in body
    assert "http://127.0.0.1:8000/track?code=HN-ABCD-EFGH" in body


def test_the_raw_message_is_7bit_clean_for_any_relay(mail_server: InProcessMailServer) -> None:
    sender = sender_for(mail_server)
    text = email_text(NotificationKind.result_ready, FACTS)
    sender.send("lan@example.vn", text.subject, text.body, message_id="<n-1@dichvucong.demo.vn>")
    [path] = (mail_server.maildir / "new").iterdir()
    raw = path.read_bytes()
    assert raw.isascii()
    assert b"=?utf-8?" in raw  # RFC 2047 encoded words
    assert b"Content-Transfer-Encoding: quoted-printable" in raw


def test_a_retry_carries_the_same_message_id_so_the_duplicate_is_recognisable(
    mail_server: InProcessMailServer,
) -> None:
    sender = sender_for(mail_server)
    message_id = message_id_for("notification-7", sender.domain)
    for _ in range(2):
        assert isinstance(sender.send("lan@example.vn", "Thử lại", "Nội dung", message_id=message_id), Accepted)
    assert [m["Message-ID"] for m in mail_server.messages()] == [message_id, message_id]


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("", "missing_email"),
        ("lan", "malformed_email"),
        ("Lan <lan@example.vn>", "malformed_email"),
        ("lan@example.vn, binh@example.vn", "malformed_email"),
        ("nguyễn@example.vn", "non_ascii_email"),
        ("lan@localhost", "malformed_email"),
    ],
)
def test_an_address_we_cannot_send_to_is_refused_for_good_and_nothing_is_sent(
    mail_server: InProcessMailServer, address: str, code: str
) -> None:
    outcome = sender_for(mail_server).send(address, "Thử", "Nội dung", message_id="<n-2@dichvucong.demo.vn>")
    assert isinstance(outcome, Refused)
    assert (outcome.code, outcome.permanent) == (code, True)
    assert mail_server.messages() == []


class PickyMailbox(Mailbox):
    """A relay that refuses some recipients: 550 (no such mailbox) or 451 (try again later)."""

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any) -> str:
        if address.startswith("khongton@"):
            return "550 5.1.1 Hộp thư không tồn tại"
        if address.startswith("tamthoi@"):
            return "451 4.3.0 Tạm thời không nhận thư, thử lại sau"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def picky_server(tmp_path: Path) -> Iterator[InProcessMailServer]:
    maildir = tmp_path / "picky"
    with InProcessMailServer(maildir, handler=PickyMailbox(maildir)) as server:
        yield server


def test_a_5xx_refusal_is_permanent_and_a_4xx_one_is_retryable(picky_server: InProcessMailServer) -> None:
    sender = sender_for(picky_server)
    permanent = sender.send("khongton@example.vn", "Thử", "Nội dung", message_id="<n-3@dichvucong.demo.vn>")
    assert isinstance(permanent, Refused)
    assert (permanent.code, permanent.permanent) == ("recipient_refused", True)
    assert "550" in permanent.reason
    deferred = sender.send("tamthoi@example.vn", "Thử", "Nội dung", message_id="<n-3@dichvucong.demo.vn>")
    assert isinstance(deferred, RetryLater)
    assert "451" in deferred.reason
    assert picky_server.messages() == []
    assert isinstance(sender.send("lan@example.vn", "Thử", "Nội dung", message_id="<n-3@x.vn>"), Accepted)
    assert len(picky_server.messages()) == 1


def test_a_relay_nobody_answers_for_is_retryable() -> None:
    sender = EmailSender("127.0.0.1", free_port(), SENDER, timeout_seconds=2)
    outcome = sender.send("lan@example.vn", "Thử", "Nội dung", message_id="<n-4@dichvucong.demo.vn>")
    assert isinstance(outcome, RetryLater)
    assert "unreachable" in outcome.reason


def test_the_demo_runs_aiosmtpd_as_a_process_and_stops_it_by_pid(tmp_path: Path) -> None:
    with MailServerProcess(tmp_path / "demo-mail", port=free_port()) as server:
        pid = server.process.pid if server.process else None
        sender = sender_for(server)
        text = email_text(NotificationKind.received, FACTS)
        assert isinstance(sender.send("lan@example.vn", text.subject, text.body, message_id="<n-5@x.vn>"), Accepted)
        [message] = read_maildir(tmp_path / "demo-mail")
        assert message["Subject"] == "Hồ sơ HN-ABCD-EFGH đã được tiếp nhận"
        assert message.get_content() == text.body
    assert pid is not None and server.process is None
    outcome = sender.send("lan@example.vn", "Thử", "Nội dung", message_id="<n-6@x.vn>")
    assert isinstance(outcome, RetryLater)  # stopped: nothing listens any more


def test_the_demo_server_does_not_start_over_another_one(mail_server: InProcessMailServer, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="already listens"):
        MailServerProcess(tmp_path / "second", port=mail_server.port).start()


# -- STARTTLS and login ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (our test CA and server at once)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "smtp.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def check_login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"portal", b"mat-khau")
    return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself


@pytest.fixture
def tls_server(tmp_path: Path, certificate: tuple[Path, Path]) -> Iterator[InProcessMailServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    with InProcessMailServer(
        tmp_path / "tls",
        tls_context=context,
        require_starttls=True,
        authenticator=check_login,
        auth_required=True,
    ) as server:
        yield server


@pytest.fixture
def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def test_starttls_and_login_deliver_the_message(tls_server: InProcessMailServer, trusting: ssl.SSLContext) -> None:
    sender = sender_for(tls_server, starttls=True, tls_context=trusting, username="portal", password="mat-khau")
    outcome = sender.send("lan@example.vn", "Qua STARTTLS", "Nội dung mã hoá", message_id="<n-7@x.vn>")
    assert outcome == Accepted("<n-7@x.vn>")
    assert tls_server.messages()[0]["Subject"] == "Qua STARTTLS"


def test_a_wrong_password_is_our_configuration_not_the_messages_fault(
    tls_server: InProcessMailServer, trusting: ssl.SSLContext
) -> None:
    sender = sender_for(tls_server, starttls=True, tls_context=trusting, username="portal", password="sai")
    outcome = sender.send("lan@example.vn", "Thử", "Nội dung", message_id="<n-8@x.vn>")
    assert isinstance(outcome, Refused)
    assert (outcome.code, outcome.permanent) == ("login_failed", False)
    assert tls_server.messages() == []


def test_an_untrusted_certificate_stops_before_anything_is_sent(tls_server: InProcessMailServer) -> None:
    sender = sender_for(tls_server, starttls=True, username="portal", password="mat-khau")  # system CAs only
    outcome = sender.send("lan@example.vn", "Thử", "Nội dung", message_id="<n-9@x.vn>")
    assert isinstance(outcome, Refused)
    assert (outcome.code, outcome.permanent) == ("tls_failed", False)


def test_a_relay_that_requires_starttls_refuses_a_plain_session(tls_server: InProcessMailServer) -> None:
    outcome = sender_for(tls_server).send("lan@example.vn", "Thử", "Nội dung", message_id="<n-10@x.vn>")
    assert isinstance(outcome, Refused)
    assert outcome.permanent is False
    assert "530" in outcome.reason


def test_starttls_asked_of_a_relay_without_it_is_a_configuration_refusal(mail_server: InProcessMailServer) -> None:
    outcome = sender_for(mail_server, starttls=True).send("lan@example.vn", "Thử", "x", message_id="<n-11@x.vn>")
    assert isinstance(outcome, Refused)
    assert (outcome.code, outcome.permanent) == ("relay_unsupported", False)
    assert mail_server.messages() == []


def test_a_password_is_never_sent_in_clear_to_a_remote_relay() -> None:
    with pytest.raises(ValueError, match="STARTTLS"):
        EmailSender("smtp.example.vn", 587, SENDER, username="portal", password="mat-khau")
    with pytest.raises(ValueError, match="go together"):
        EmailSender("127.0.0.1", 25, SENDER, username="portal")
    EmailSender("smtp.example.vn", 587, SENDER, username="portal", password="mat-khau", starttls=True)


@pytest.mark.parametrize("sender", ["", "not an address", "a@b.vn, c@d.vn", "Cổng <thông-báo@example.vn>"])
def test_a_bad_sender_address_is_refused_at_construction(sender: str) -> None:
    with pytest.raises(ValueError, match="SMTP_FROM"):
        EmailSender("127.0.0.1", 25, sender)


def test_the_sender_is_built_from_the_mail_section():
    from portal.core.settings import load_settings

    sender = EmailSender.from_settings(load_settings({"SMTP_PORT": "2525", "SMTP_STARTTLS": "false"}).mail)
    assert (sender.host, sender.port, sender.starttls) == ("127.0.0.1", 2525, False)
    assert sender.sender.addr_spec == "thongbao@dichvucong.demo.vn"
