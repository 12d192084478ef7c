"""The simulator's own checksums, written independently of the portal's client.

* Query strings (payment page, return URL, IPN): HMAC-SHA512 over the sorted `vnp_*`
  parameters, PHP-`urlencode`d. Here that is `quote_plus` with nothing kept safe, plus
  `~` -> `%7E` (Python leaves `~` alone, PHP does not).
* Merchant web API: HMAC-SHA512 over the values joined by `|`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import quote_plus

EXCLUDED = ("vnp_SecureHash", "vnp_SecureHashType")


def _php_urlencode(text: str) -> str:
    return quote_plus(text, safe="", encoding="utf-8").replace("~", "%7E")


def _hmac512(secret: str, data: str) -> str:
    return hmac.new(secret.encode("utf-8"), data.encode("utf-8"), hashlib.sha512).hexdigest()


def canonical_query(params: Mapping[str, str]) -> str:
    pairs = sorted((k, v) for k, v in params.items() if k.startswith("vnp_") and k not in EXCLUDED)
    return "&".join(_php_urlencode(k) + "=" + _php_urlencode(v) for k, v in pairs)


def query_checksum(secret: str, params: Mapping[str, str]) -> str:
    return _hmac512(secret, canonical_query(params))


def signed_query(secret: str, params: Mapping[str, str]) -> str:
    """`a=1&b=2...&vnp_SecureHash=<hex>`, the way VNPay sends its callbacks."""
    return canonical_query(params) + "&vnp_SecureHash=" + query_checksum(secret, params)


def checksum_matches(secret: str, params: Mapping[str, str], received: str) -> bool:
    expected = query_checksum(secret, params).encode("ascii")
    return hmac.compare_digest(expected, received.strip().lower().encode("utf-8"))


def pipe_checksum(secret: str, values: Iterable[str]) -> str:
    return _hmac512(secret, "|".join(values))


def spoil(checksum: str) -> str:
    """The same checksum with its first digit changed: well-formed, and wrong."""
    first = "0" if checksum[0] != "0" else "1"
    return first + checksum[1:]
