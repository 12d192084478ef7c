"""In-memory state and behaviour of the simulated brand-name SMS gateway."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .clock import iso, now_vn
from .config import Account, SmsSimConfig
from .encoding import UCS2, segment
from .phones import InvalidPhone, normalise_msisdn
from .reports import ReportDispatcher

log = logging.getLogger("smssim")

ACCEPTED = "accepted"
DELIVERED = "delivered"
FAILED = "failed"

MAX_REQUEST_ID = 100
MAX_URL = 2000
#: Error codes of ``failed`` delivery reports, drawn at random by the automatic reports.
FAILURE_CODES = ("subscriber_unreachable", "unknown_subscriber", "expired")


class SmsSimError(Exception):
    """A refusal that maps to an HTTP error answer ``{"error", "message", "field"?}``."""

    def __init__(self, status_code: int, error: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.body: dict[str, Any] = {"error": error, "message": message}
        if field is not None:
            self.body["field"] = field


@dataclass
class Message:
    sms_id: str
    account: str
    request_id: str | None
    brand: str
    phone: str
    content: str
    encoding: str
    segments: int
    callback_url: str | None
    accepted_at: datetime
    status: str = ACCEPTED
    error_code: str | None = None
    reported_at: datetime | None = None
    #: How many send requests named this message (1 + idempotent replays).
    submissions: int = 1

    def as_answer(self) -> dict[str, Any]:
        """The answer to the send request (also replayed for a repeated RequestId)."""
        return {
            "SMSID": self.sms_id,
            "RequestId": self.request_id,
            "Brandname": self.brand,
            "Phone": self.phone,
            "Encoding": self.encoding,
            "Segments": self.segments,
            "Status": ACCEPTED,
            "AcceptedAt": iso(self.accepted_at),
        }

    def as_status(self) -> dict[str, Any]:
        return {
            "SMSID": self.sms_id,
            "RequestId": self.request_id,
            "Phone": self.phone,
            "Segments": self.segments,
            "Status": self.status,
            "ErrorCode": self.error_code,
            "AcceptedAt": iso(self.accepted_at),
            "ReportedAt": iso(self.reported_at) if self.reported_at else None,
        }

    def as_debug(self) -> dict[str, Any]:
        view = self.as_status()
        view.update(
            account=self.account,
            Brandname=self.brand,
            Content=self.content,
            Encoding=self.encoding,
            CallbackUrl=self.callback_url,
            submissions=self.submissions,
        )
        return view


@dataclass
class IdempotencyRecord:
    fingerprint: str
    sms_id: str


def fingerprint(body: dict[str, Any]) -> str:
    fields = {name: body.get(name) for name in ("Brandname", "Phone", "Content", "CallbackUrl")}
    canonical = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _string(body: dict[str, Any], name: str, *, required: bool, max_len: int | None = None) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise SmsSimError(422, "invalid_type", f"{name} must be a string", name)
    if value is None or not value.strip():
        if required:
            raise SmsSimError(422, "missing_field", f"{name} is required", name)
        return None
    if max_len is not None and len(value) > max_len:
        raise SmsSimError(422, "too_long", f"{name} must be at most {max_len} characters", name)
    return value


class Simulator:
    """Accounts' messages, idempotency records, delivery decisions and reports."""

    def __init__(self, config: SmsSimConfig) -> None:
        config.validate()
        self.initial_config = config.copy()
        if self.initial_config.seed is None:
            self.initial_config.seed = secrets.randbelow(2**31)
        self.config = self.initial_config.copy()
        self.reports = ReportDispatcher(lambda: self.config)
        self._pending: set[asyncio.Task[None]] = set()
        self._reset_state()

    def _reset_state(self) -> None:
        seed = self.config.seed
        self.decisions = random.Random(seed)  # delivered or failed
        self.faults = random.Random(f"faults-{seed}")  # injected 503s
        self.messages: dict[str, Message] = {}
        self.idempotency: dict[tuple[str, str], IdempotencyRecord] = {}

    # -- life cycle -------------------------------------------------------------

    async def start(self) -> None:
        await self.reports.start()

    async def _cancel_pending(self) -> None:
        tasks = list(self._pending)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._pending.clear()

    async def stop(self) -> None:
        await self._cancel_pending()
        await self.reports.stop()

    async def reset(self) -> None:
        """Forget every message and report, restore the start-up configuration."""
        await self._cancel_pending()
        await self.reports.clear()
        self.config = self.initial_config.copy()
        self._reset_state()

    def draw_fault(self, rate: float) -> bool:
        return rate > 0 and self.faults.random() < rate

    # -- sending ---------------------------------------------------------------------

    def lookup_replay(self, account: Account, body: dict[str, Any]) -> Message | None:
        """The message already accepted under this RequestId, or ``None`` for a new request.

        Raises a 409 when the RequestId was used with a different message.
        """
        request_id = body.get("RequestId")
        if not isinstance(request_id, str) or not request_id.strip():
            return None
        record = self.idempotency.get((account.name, request_id))
        if record is None:
            return None
        if record.fingerprint != fingerprint(body):
            raise SmsSimError(
                409, "request_id_reused", "this RequestId was already used for a different message", "RequestId"
            )
        message = self.messages[record.sms_id]
        message.submissions += 1
        return message

    def accept(self, account: Account, body: dict[str, Any]) -> Message:
        """Validate a send request and accept the message; raises :class:`SmsSimError` when refused."""
        config = self.config
        brand = _string(body, "Brandname", required=True)
        assert brand is not None
        if brand not in account.brands:
            raise SmsSimError(
                403,
                "brand_not_registered",
                f"brand name {brand!r} is not registered for this account",
                "Brandname",
            )
        raw_phone = _string(body, "Phone", required=True)
        assert raw_phone is not None
        try:
            phone = normalise_msisdn(raw_phone)
        except InvalidPhone as exc:
            raise SmsSimError(422, "invalid_phone", str(exc), "Phone") from None
        if phone in config.refused_numbers:
            raise SmsSimError(
                422, "phone_refused", "this subscriber does not accept brand-name messages (opted out)", "Phone"
            )
        content = body.get("Content")
        if content is not None and not isinstance(content, str):
            raise SmsSimError(422, "invalid_type", "Content must be a string", "Content")
        if not content or not content.strip():
            raise SmsSimError(422, "empty_content", "Content must not be empty", "Content")
        parts = segment(content)
        if parts.encoding == UCS2 and not config.allow_unicode:
            raise SmsSimError(
                422,
                "unicode_not_allowed",
                "this gateway only accepts unaccented text (GSM 7-bit alphabet); remove the diacritics",
                "Content",
            )
        if parts.segments > config.max_segments:
            raise SmsSimError(
                422,
                "content_too_long",
                f"the message needs {parts.segments} {parts.encoding} segments; at most {config.max_segments} are accepted",
                "Content",
            )
        request_id = _string(body, "RequestId", required=False, max_len=MAX_REQUEST_ID)
        callback_url = _string(body, "CallbackUrl", required=False, max_len=MAX_URL)
        if callback_url is not None:
            url = urlsplit(callback_url)
            if url.scheme not in ("http", "https") or not url.netloc:
                raise SmsSimError(422, "invalid_url", "CallbackUrl must be an absolute http(s) URL", "CallbackUrl")

        message = Message(
            sms_id=secrets.token_hex(16),
            account=account.name,
            request_id=request_id,
            brand=brand,
            phone=phone,
            content=content,
            encoding=parts.encoding,
            segments=parts.segments,
            callback_url=callback_url,
            accepted_at=now_vn(),
        )
        self.messages[message.sms_id] = message
        if request_id is not None:
            self.idempotency[(account.name, request_id)] = IdempotencyRecord(fingerprint(body), message.sms_id)
        log.info("accepted %s for %s (%d %s segments)", message.sms_id, phone, parts.segments, parts.encoding)
        if config.auto_report:
            self._schedule_report(message, account)
        return message

    def get(self, sms_id: str, account: Account | None = None) -> Message:
        message = self.messages.get(sms_id)
        if message is None or (account is not None and message.account != account.name):
            raise SmsSimError(404, "not_found", "no such message")
        return message

    # -- delivery reports -------------------------------------------------------------

    def _schedule_report(self, message: Message, account: Account) -> None:
        delay = self.config.delivery_delay_seconds
        failed = self.decisions.random() < self.config.delivery_failure_rate
        error_code = self.decisions.choice(FAILURE_CODES) if failed else None

        async def later() -> None:
            await asyncio.sleep(delay)
            if message.status == ACCEPTED:
                self.finish(message, FAILED if failed else DELIVERED, error_code, account)

        task = asyncio.get_running_loop().create_task(later(), name=f"smssim-deliver-{message.sms_id}")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def account_named(self, name: str) -> Account:
        for account in self.config.accounts:
            if account.name == name:
                return account
        raise SmsSimError(404, "not_found", f"no account named {name!r}")

    def finish(self, message: Message, status: str, error_code: str | None, account: Account | None = None) -> None:
        """Give the message its final state and send the delivery report to its callback URL."""
        if message.status != ACCEPTED:
            raise SmsSimError(409, "already_reported", f"the message is already {message.status}")
        if status not in (DELIVERED, FAILED):
            raise SmsSimError(422, "invalid_status", "Status must be 'delivered' or 'failed'", "Status")
        if status == FAILED and not error_code:
            error_code = FAILURE_CODES[0]
        if status == DELIVERED:
            error_code = None
        message.status = status
        message.error_code = error_code
        message.reported_at = now_vn()
        log.info("%s %s%s", message.sms_id, status, f" ({error_code})" if error_code else "")
        if message.callback_url:
            secret = (account or self.account_named(message.account)).webhook_secret
            report = {
                "report_id": secrets.token_hex(12),
                "SMSID": message.sms_id,
                "RequestId": message.request_id,
                "Phone": message.phone,
                "Status": status,
                "ErrorCode": error_code,
                "Segments": message.segments,
                "ReportedAt": iso(message.reported_at),
            }
            self.reports.enqueue(message.callback_url, secret, report)


__all__ = ["ACCEPTED", "DELIVERED", "FAILED", "Message", "Simulator", "SmsSimError"]
