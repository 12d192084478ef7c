"""Our client of the brand-name SMS gateway (contract: docs/sms-simulator.md).

:meth:`SmsGatewayClient.send` never raises for what the gateway or the network
does: it answers an outcome (`rules.Accepted`, `rules.Refused`,
`rules.RetryLater`) that the outbox turns into a state.  Classification, once
here:

* network errors, timeouts, 5xx, 429 and an unreadable 2xx -> ``RetryLater``
  (safe, because every send carries our request id and the gateway answers a
  repeated id with the message it already accepted);
* 401 (API key) and 403 (brand name not registered) -> ``Refused(permanent=False)``:
  our account is at fault, not the message;
* any other 4xx (invalid phone, opted-out subscriber, text too long, request id
  reused for another text...) -> ``Refused(permanent=True)``.

:func:`verify_delivery_report` checks the gateway's signed delivery-report
callbacks before anything is believed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from agents.notifications.rules import Accepted, InvalidRecipient, Outcome, Refused, RetryLater, normalise_mobile
from portal.core.errors import AuthenticationFailed, ExternalServiceError, ValidationFailed
from portal.core.http import make_http_client
from portal.core.settings import SmsSettings

MAX_REQUEST_ID = 100
MAX_CLOCK_SKEW_SECONDS = 300
DELIVERED = "delivered"
FAILED = "failed"


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """(error code, readable reason) of a gateway error answer."""
    try:
        body = response.json()
    except ValueError:
        return "http_error", f"{response.status_code} {response.text[:200]}".strip()
    if not isinstance(body, dict):
        return "http_error", f"{response.status_code} {str(body)[:200]}"
    code = str(body.get("error") or "http_error")
    message = str(body.get("message") or code)
    field = body.get("field")
    return code, f"{response.status_code} {message}" + (f" (field {field})" if field else "")


@dataclass(frozen=True)
class MessageStatus:
    """The gateway's current view of one message (``GET /api/v1/sms/{id}``)."""

    message_id: str
    request_id: str | None
    #: ``accepted`` (no delivery report yet), ``delivered`` or ``failed``.
    state: str
    error_code: str | None
    reported_at: datetime | None


class SmsGatewayClient:
    """Sends one SMS per call through the gateway, under our brand name.

    ``callback_url`` is where the gateway POSTs its delivery reports (our
    endpoint); without it the gateway keeps the state only for
    :meth:`message_status`.
    """

    def __init__(
        self,
        api_url: str,
        api_key: str,
        brand: str,
        *,
        callback_url: str | None = None,
        timeout_seconds: float = 10.0,
        http: httpx.Client | None = None,
    ) -> None:
        if not api_key:
            raise ValueError("an SMS gateway API key is required")
        if not brand:
            raise ValueError("an SMS brand name is required")
        self.api_key = api_key
        self.brand = brand
        self.callback_url = callback_url
        self.http = http or make_http_client(api_url, timeout_seconds=timeout_seconds)

    @classmethod
    def from_settings(cls, sms: SmsSettings, *, callback_url: str | None = None) -> SmsGatewayClient:
        return cls(sms.api_url, sms.api_key, sms.brand, callback_url=callback_url, timeout_seconds=sms.timeout_seconds)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> SmsGatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, phone: str, text: str, request_id: str) -> Outcome:
        """Send ``text`` to ``phone``; repeating a call with the same ``request_id`` never sends twice."""
        if not request_id or len(request_id) > MAX_REQUEST_ID:
            raise ValueError(f"request_id must be 1..{MAX_REQUEST_ID} characters")
        try:
            e164 = normalise_mobile(phone)
        except InvalidRecipient as exc:
            return Refused(exc.code, f"not a Vietnamese mobile number: {exc.code}", permanent=True)
        content = unicodedata.normalize("NFC", text).strip()
        if not content:
            return Refused("empty_content", "the message text is empty", permanent=True)
        body: dict[str, Any] = {
            "Brandname": self.brand,
            "Phone": e164.removeprefix("+"),
            "Content": content,
            "RequestId": request_id,
        }
        if self.callback_url:
            body["CallbackUrl"] = self.callback_url
        try:
            response = self.http.post("/api/v1/sms", json=body, headers={"X-Api-Key": self.api_key})
        except httpx.TimeoutException as exc:
            return RetryLater(f"SMS gateway timed out: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return RetryLater(f"SMS gateway unreachable: {type(exc).__name__}: {exc}")
        return self._outcome(response)

    def _outcome(self, response: httpx.Response) -> Outcome:
        status = response.status_code
        if 200 <= status < 300:
            try:
                answer = response.json()
                message_id = answer["SMSID"]
                if not isinstance(message_id, str) or not message_id:
                    raise TypeError(message_id)
            except (ValueError, KeyError, TypeError):
                return RetryLater(f"SMS gateway answered {status} without a message id")
            segments = answer.get("Segments")
            return Accepted(
                message_id,
                segments=segments if isinstance(segments, int) else None,
                replayed=response.headers.get("Idempotent-Replayed", "").lower() == "true",
            )
        if status == 429 or status >= 500:
            return RetryLater(f"SMS gateway answered {status}", retry_after=_retry_after(response))
        code, reason = _error_of(response)
        if status in (401, 403):
            return Refused(code, f"SMS gateway refused our account: {reason}", permanent=False)
        return Refused(code, f"SMS gateway refused the message: {reason}", permanent=True)

    def message_status(self, message_id: str) -> MessageStatus:
        """Ask the gateway where a message stands (to reconcile when a report was lost).

        Raises `ExternalServiceError` (``retryable`` for network errors and 5xx).
        """
        try:
            response = self.http.get(f"/api/v1/sms/{message_id}", headers={"X-Api-Key": self.api_key})
        except httpx.HTTPError as exc:
            raise ExternalServiceError(f"SMS gateway unreachable: {type(exc).__name__}", retryable=True) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise ExternalServiceError(
                f"SMS gateway answered {response.status_code}", retryable=True, retry_after=_retry_after(response)
            )
        if response.status_code != 200:
            raise ExternalServiceError(_error_of(response)[1], retryable=False)
        body = response.json()
        reported = body.get("ReportedAt")
        return MessageStatus(
            message_id=body["SMSID"],
            request_id=body.get("RequestId"),
            state=body["Status"],
            error_code=body.get("ErrorCode"),
            reported_at=datetime.fromisoformat(reported) if reported else None,
        )


# -- delivery reports -------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryReport:
    """One verified delivery report. ``report_id`` is the same on a duplicate: drop repeats by it."""

    report_id: str
    message_id: str
    request_id: str | None
    phone: str
    #: ``delivered`` or ``failed``.
    state: str
    error_code: str | None
    reported_at: datetime

    @property
    def delivered(self) -> bool:
        return self.state == DELIVERED


def report_signature(secret: str, timestamp: str, body: bytes) -> bytes:
    """``sha256=`` + hex HMAC-SHA256 of ``"{timestamp}.{body}"``, as bytes."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return b"sha256=" + digest.encode("ascii")


def verify_delivery_report(
    secret: str,
    timestamp: str | None,
    signature: str | bytes | None,
    body: bytes,
    *,
    now: float | None = None,
) -> DeliveryReport:
    """Check an ``X-Sms-Timestamp`` / ``X-Sms-Signature`` pair over the raw body, then read the report.

    Raises `AuthenticationFailed` for a missing, stale or wrong signature (the
    comparison is constant-time, on bytes) and `ValidationFailed` for a signed
    body that is not a delivery report.
    """
    if not secret:
        raise ValueError("a webhook secret is required to verify delivery reports")
    if not timestamp or not signature:
        raise AuthenticationFailed("missing X-Sms-Timestamp or X-Sms-Signature")
    if not timestamp.isascii() or not timestamp.isdigit():
        raise AuthenticationFailed("X-Sms-Timestamp is not a unix time")
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise AuthenticationFailed("delivery report timestamp too old or in the future")
    given = signature if isinstance(signature, bytes) else signature.encode("utf-8", "replace")
    if not hmac.compare_digest(report_signature(secret, timestamp, body), given.strip()):
        raise AuthenticationFailed("delivery report signature does not match")

    try:
        report = json.loads(body.decode("utf-8"))
        state = report["Status"]
        if state not in (DELIVERED, FAILED):
            raise ValueError(state)
        return DeliveryReport(
            report_id=str(report["report_id"]),
            message_id=str(report["SMSID"]),
            request_id=report.get("RequestId"),
            phone=str(report["Phone"]),
            state=state,
            error_code=report.get("ErrorCode"),
            reported_at=datetime.fromisoformat(report["ReportedAt"]),
        )
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise ValidationFailed(f"not a delivery report: {type(exc).__name__}") from exc
