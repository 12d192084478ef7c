"""Citizens' identifiers at rest: AES-256-GCM encryption plus a blind index.

Identity numbers and phone numbers are stored encrypted (`EncryptedText`);
look-ups use a keyed HMAC of the normalised value (`blind_index`), so equality
searches work without decrypting every row. Files (citizens' scanned documents)
are sealed with `encrypt_bytes`. Every key is derived from PORTAL_DATA_KEY with
HKDF, one per purpose.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Text, TypeDecorator

from portal.core.settings import get_settings

_PREFIX = "v1:"


def _derive(purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(get_settings().keys.data_key)


@lru_cache(maxsize=1)
def _aead() -> AESGCM:
    return AESGCM(_derive(b"portal/citizen-data/aes-gcm"))


@lru_cache(maxsize=1)
def _index_key() -> bytes:
    return _derive(b"portal/citizen-data/blind-index")


def encrypt(plaintext: str) -> str:
    nonce = os.urandom(12)
    sealed = _aead().encrypt(nonce, plaintext.encode(), None)
    return _PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def decrypt(token: str) -> str:
    if not token.startswith(_PREFIX):
        raise ValueError("not an encrypted value")
    raw = base64.urlsafe_b64decode(token[len(_PREFIX) :].encode())
    return _aead().decrypt(raw[:12], raw[12:], None).decode()


_BYTES_PREFIX = b"v1:"


@lru_cache(maxsize=1)
def _file_aead() -> AESGCM:
    return AESGCM(_derive(b"portal/files/aes-gcm"))


def encrypt_bytes(plaintext: bytes, *, associated_data: bytes = b"") -> bytes:
    """AES-256-GCM with a fresh 96-bit nonce; `associated_data` (e.g. the file's name) must match to open it."""
    nonce = os.urandom(12)
    return _BYTES_PREFIX + nonce + _file_aead().encrypt(nonce, plaintext, associated_data)


def decrypt_bytes(sealed: bytes, *, associated_data: bytes = b"") -> bytes:
    """The plaintext; raises `cryptography.exceptions.InvalidTag` when the bytes or the associated data differ."""
    if not sealed.startswith(_BYTES_PREFIX):
        raise ValueError("not encrypted by encrypt_bytes")
    body = sealed[len(_BYTES_PREFIX) :]
    return _file_aead().decrypt(body[:12], body[12:], associated_data)


def normalise_identifier(value: str) -> str:
    """Digits only: '0912 345 678' and '0912345678' index the same."""
    return "".join(ch for ch in value if ch.isdigit())


def blind_index(value: str) -> str:
    return hmac.new(_index_key(), normalise_identifier(value).encode(), hashlib.sha256).hexdigest()[:40]


class EncryptedText(TypeDecorator[str]):
    """A text column stored encrypted; Python code sees plaintext."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else decrypt(value)
