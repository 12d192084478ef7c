"""The receipt's rating link: a secret only the receipt holder has, so only they can rate."""

from __future__ import annotations

import hashlib
import hmac

from portal.core.settings import get_settings


def rating_token(tracking_code: str) -> str:
    """The secret in the receipt's rating link: only the receipt holder can rate."""
    key = get_settings().keys.secret_key.encode()
    return hmac.new(key, f"rate:{tracking_code}".encode(), hashlib.sha256).hexdigest()[:32]
