"""VNPay 2.1.0 on the wire: form encoding, the two checksum schemes, GMT+7 timestamps.

Two checksums, both lowercase hex HMAC-SHA512 keyed with the merchant's hash secret:

* payment URL, return URL and IPN: over the *sign data*, the `vnp_*` parameters sorted by
  name (ordinal), each `name=value` form-encoded the way PHP's `urlencode` does it
  (space -> `+`, every byte outside `A-Z a-z 0-9 - _ .` -> `%XX` uppercase), joined by `&`;
* merchant web API (querydr, refund): over the raw field values joined by `|` in an order
  fixed per message, no sorting and no encoding.

Python's `quote_plus` differs from PHP on `~` and `*`, so the encoding is written out here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone

#: Vietnam's wall clock: a fixed +07:00 offset, no daylight saving time.
VN_TIME = timezone(timedelta(hours=7), "GMT+7")

_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
_TIMESTAMP = re.compile(r"[0-9]{14}")
_TIMESTAMP_FORMAT = "%Y%m%d%H%M%S"
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def form_encode(text: str) -> str:
    """PHP `urlencode`: UTF-8 bytes, space as `+`, `%XX` (uppercase) outside `A-Za-z0-9-_.`."""
    parts: list[str] = []
    for byte in text.encode("utf-8"):
        if byte in _UNRESERVED:
            parts.append(chr(byte))
        elif byte == 0x20:
            parts.append("+")
        else:
            parts.append(f"%{byte:02X}")
    return "".join(parts)


def form_decode(text: str) -> str:
    """The inverse of form encoding; raises ValueError on a broken escape or bytes that are not UTF-8."""
    if not text.isascii():
        raise ValueError("the query holds characters that are not percent-encoded")
    if _BAD_ESCAPE.search(text):
        raise ValueError("a percent sign is not followed by two hexadecimal digits")
    # After this substitution each character stands for one byte.
    raw = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text.replace("+", " "))
    return raw.encode("latin-1").decode("utf-8")  # UnicodeDecodeError is a ValueError


def sign_data(params: Mapping[str, str]) -> str:
    """The string the query-string checksum covers: sorted `name=value` pairs joined by `&`."""
    return "&".join(f"{form_encode(name)}={form_encode(params[name])}" for name in sorted(params))


def pipe_data(values: Iterable[str]) -> str:
    """The string a web-API checksum covers: the values in their fixed order joined by `|`."""
    return "|".join(values)


def to_vnpay_time(moment: datetime) -> str:
    """`yyyyMMddHHmmss` on Vietnam's clock. A naive datetime is refused: its zone is a guess."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a VNPay timestamp needs a timezone-aware datetime")
    return moment.astimezone(VN_TIME).strftime(_TIMESTAMP_FORMAT)


def from_vnpay_time(text: str) -> datetime:
    """Parse `yyyyMMddHHmmss` (GMT+7) into an aware datetime; ValueError when malformed."""
    if not _TIMESTAMP.fullmatch(text):
        raise ValueError("a VNPay timestamp is 14 digits, yyyyMMddHHmmss")
    return datetime.strptime(text, _TIMESTAMP_FORMAT).replace(tzinfo=VN_TIME)


class HashSecret:
    """The merchant's checksum key. It signs and verifies; it never prints itself."""

    __slots__ = ("_key",)

    def __init__(self, value: str) -> None:
        # A trailing space circulates in at least one public copy of VNPay's sample config.
        cleaned = value.strip()
        if not cleaned:
            raise ValueError("the VNPay hash secret is empty")
        self._key = cleaned.encode("utf-8")

    def sign(self, message: str) -> str:
        """Lowercase hex HMAC-SHA512 of `message` (UTF-8)."""
        return hmac.new(self._key, message.encode("utf-8"), hashlib.sha512).hexdigest()

    def verifies(self, message: str, received_hash: str) -> bool:
        """Whether `received_hash` (hex, either case) is our checksum of `message`; constant time."""
        expected = self.sign(message).encode("ascii")
        try:
            given = received_hash.lower().encode("ascii")
        except UnicodeEncodeError:
            return False
        return hmac.compare_digest(expected, given)

    def __repr__(self) -> str:
        return "HashSecret('***')"

    __str__ = __repr__

    def __reduce__(self) -> None:  # type: ignore[override]
        raise TypeError("a HashSecret is not serialised")
