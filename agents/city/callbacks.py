"""Verifying the city system's signed status callbacks (docs/city-api.md)."""

from __future__ import annotations

import hashlib
import hmac
import time

from portal.core.errors import AuthenticationFailed

MAX_CLOCK_SKEW_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify_signature(secret: str, timestamp: str | None, signature: str | None, body: bytes) -> None:
    """Raise AuthenticationFailed unless the callback is signed with our shared secret and fresh."""
    if not timestamp or not signature:
        raise AuthenticationFailed("missing X-City-Timestamp or X-City-Signature")
    try:
        age = abs(time.time() - int(timestamp))
    except ValueError as exc:
        raise AuthenticationFailed("X-City-Timestamp is not a unix time") from exc
    if age > MAX_CLOCK_SKEW_SECONDS:
        raise AuthenticationFailed("callback timestamp too old or in the future")
    # Bytes on both sides: a header may carry any character, and compare_digest refuses non-ASCII text.
    if not hmac.compare_digest(sign(secret, timestamp, body).encode(), signature.encode("utf-8", "replace")):
        raise AuthenticationFailed("callback signature does not match")
