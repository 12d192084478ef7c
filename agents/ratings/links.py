"""The rating link (the receipt's link and QR): signed for one dossier, expiring.

The token is `<expiry, unix seconds>.<HMAC(code, expiry)>`: changing the code, the expiry or
the signature breaks it, so a link rates only the dossier it was printed for, and only
until it expires. No account is needed: holding the receipt is the proof.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from agents.ratings.rules import LINK_VALID_DAYS
from portal.core.settings import get_settings


class LinkRefused(Exception):
    """The link is not one we signed for this dossier (`expired` says when it was, but is past)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def _signature(tracking_code: str, expires: int) -> str:
    key = hashlib.sha256(("rating-link:" + get_settings().keys.secret_key).encode()).digest()
    return hmac.new(key, f"{tracking_code}|{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def rating_token(tracking_code: str, submitted_at: datetime) -> str:
    """The token of the dossier's rating link: valid LINK_VALID_DAYS after filing."""
    expires = int((submitted_at + timedelta(days=LINK_VALID_DAYS)).timestamp())
    return f"{expires}.{_signature(tracking_code, expires)}"


def check_token(tracking_code: str, token: str, now: datetime | None = None) -> None:
    """Raises LinkRefused unless `token` is this dossier's intact, unexpired link."""
    expires_text, _, signature = (token or "").partition(".")
    expires = int(expires_text) if expires_text.isascii() and expires_text.isdigit() and len(expires_text) <= 12 else 0
    expected = _signature(tracking_code, expires).encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")) or not expires:
        raise LinkRefused()
    if (now or datetime.now(UTC)).timestamp() > expires:
        raise LinkRefused(expired=True)
