"""Sending citizens' emails over SMTP (any relay in production, a local aiosmtpd in demo and tests).

:meth:`EmailSender.send` never raises for what the relay or the network does;
it answers an outcome (`rules.Accepted`, `rules.Refused`, `rules.RetryLater`):

* 250 after DATA -> ``Accepted(message_id)``: the relay took responsibility;
* a 5xx reply to the recipient or the message -> ``Refused(permanent=True)``;
* a 4xx reply, a dropped connection, a timeout, no route -> ``RetryLater``;
* our configuration refused (login failed, STARTTLS missing or certificate
  not trusted, our sender address refused) -> ``Refused(permanent=False)``.

Every message carries the Message-ID the caller chose (derive it from the
outbox row with `rules.message_id_for`), so a retry after an unclear failure
can be recognised by the receiving side.  Subject, names and body are UTF-8
(RFC 2047 headers, quoted-printable body): any relay carries them.
"""

from __future__ import annotations

import smtplib
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, localtime
from ipaddress import ip_address

from agents.notifications.rules import Accepted, InvalidRecipient, Outcome, Refused, RetryLater, normalise_email
from portal.core.settings import MailSettings


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def parse_sender(sender: str) -> Address:
    """``"Cổng dịch vụ công <thongbao@example.vn>"`` or a bare address -> an `Address` (raises ``ValueError``)."""
    parsed = getaddresses([sender])
    if len(parsed) != 1 or not parsed[0][1]:
        raise ValueError(f"SMTP_FROM is not one email address: {sender!r}")
    display_name, address = parsed[0]
    try:
        address = normalise_email(address)
    except InvalidRecipient as exc:
        raise ValueError(f"SMTP_FROM is not a valid address ({exc.code}): {sender!r}") from None
    local, domain = address.split("@")
    return Address(display_name=display_name, username=local, domain=domain)


def _reply_text(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    return f"{code} {' '.join(text.split())}"[:300]


class EmailSender:
    """One SMTP relay and our sender address; a new connection per message (notifications are few)."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        timeout_seconds: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if bool(username) != bool(password):
            raise ValueError("SMTP_USERNAME and SMTP_PASSWORD go together")
        if username and not starttls and not _is_loopback(host):
            raise ValueError("SMTP login without STARTTLS would send the password in clear: set SMTP_STARTTLS")
        self.host = host
        self.port = port
        self.sender = parse_sender(sender)
        self.username = username
        self.password = password
        self.starttls = starttls
        self.timeout_seconds = timeout_seconds
        self.tls_context = tls_context
        self.local_hostname = local_hostname

    @classmethod
    def from_settings(cls, mail: MailSettings) -> EmailSender:
        return cls(
            mail.host,
            mail.port,
            mail.sender,
            username=mail.username,
            password=mail.password,
            starttls=mail.starttls,
            timeout_seconds=mail.timeout_seconds,
        )

    @property
    def domain(self) -> str:
        """Our sender's domain: the right-hand side of the Message-IDs we make."""
        return self.sender.domain

    def build(self, to: str, subject: str, body: str, *, message_id: str) -> EmailMessage:
        """The message as it will be sent (``to`` already normalised)."""
        if not (message_id.startswith("<") and message_id.endswith(">") and "@" in message_id):
            raise ValueError(f"Message-ID must look like <key@domain>, got {message_id!r}")
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = format_datetime(localtime())
        message["Message-ID"] = message_id
        message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a notification
        message.set_content(body, charset="utf-8", cte="quoted-printable")
        return message

    def send(self, to: str, subject: str, body: str, *, message_id: str) -> Outcome:
        """Send one plain-text email. See the module docstring for the outcomes."""
        try:
            recipient = normalise_email(to)
        except InvalidRecipient as exc:
            return Refused(exc.code, f"not an email address we can send to: {exc.code}", permanent=True)
        message = self.build(recipient, subject, body, message_id=message_id)
        try:
            with smtplib.SMTP(
                self.host, self.port, timeout=self.timeout_seconds, local_hostname=self.local_hostname
            ) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=self.tls_context or ssl.create_default_context())
                    smtp.ehlo()
                if self.username and self.password:
                    smtp.login(self.username, self.password)
                smtp.send_message(message, from_addr=self.sender.addr_spec, to_addrs=[recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            return self._reply_outcome("recipient_refused", code, reply)
        except smtplib.SMTPSenderRefused as exc:
            if 500 <= exc.smtp_code < 600:
                refusal = _reply_text(exc.smtp_code, exc.smtp_error)
                return Refused("sender_refused", f"SMTP relay refused our sender: {refusal}", permanent=False)
            return RetryLater(f"SMTP relay deferred our sender: {_reply_text(exc.smtp_code, exc.smtp_error)}")
        except smtplib.SMTPAuthenticationError as exc:
            if 500 <= exc.smtp_code < 600:
                return Refused(
                    "login_failed", f"SMTP login failed: {_reply_text(exc.smtp_code, exc.smtp_error)}", permanent=False
                )
            return RetryLater(f"SMTP login deferred: {_reply_text(exc.smtp_code, exc.smtp_error)}")
        except smtplib.SMTPNotSupportedError as exc:
            return Refused("relay_unsupported", f"SMTP relay lacks what we need: {exc}", permanent=False)
        except smtplib.SMTPServerDisconnected as exc:
            return RetryLater(f"SMTP relay closed the connection: {exc}")
        except smtplib.SMTPResponseException as exc:  # DATA refused, STARTTLS refused, other replies
            return self._reply_outcome("message_refused", exc.smtp_code, exc.smtp_error)
        except ssl.SSLError as exc:
            return Refused("tls_failed", f"TLS with the SMTP relay failed: {exc}", permanent=False)
        except smtplib.SMTPException as exc:
            return RetryLater(f"SMTP error: {type(exc).__name__}: {exc}")
        except OSError as exc:  # refused, unreachable, timed out, name not resolved
            return RetryLater(f"SMTP relay unreachable: {type(exc).__name__}: {exc}")
        return Accepted(message_id)

    @staticmethod
    def _reply_outcome(code_name: str, code: int, reply: bytes | str) -> Outcome:
        text = _reply_text(code, reply)
        if 500 <= code < 600:
            return Refused(code_name, f"SMTP relay refused the message: {text}", permanent=True)
        return RetryLater(f"SMTP relay deferred the message: {text}")
