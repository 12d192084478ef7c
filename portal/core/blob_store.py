"""Content-addressed storage of files, encrypted at rest (citizens' scanned documents).

A file is named by the SHA-256 of its plaintext: the same scan uploaded twice is stored
once, and the name is a checksum the uploader can compare (the API returns it). What is
on disk is sealed with AES-256-GCM by `portal.core.crypto.encrypt_bytes` (the key derived
from PORTAL_DATA_KEY, like the other personal data), with the name as associated data,
so a file swapped or edited on disk is refused on read, not served.

Trade-off, stated: a plain hash as the name lets someone holding the disk (not the key)
confirm that a file they already have is stored; it reveals nothing about files they do
not have. The portal stores unique scans, and the uploader-verifiable checksum is worth
more than hiding that.

`FilesystemBlobStore` is the demo's and a single server's store (a folder under the var
folder; writes are atomic: temporary file, fsync, rename). Production with several web
servers points elsewhere by providing another `BlobStore` (an object store bucket or a
shared volume): the interface is three calls, and the encryption stays on our side of it,
so the storage provider never sees plaintext.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag

from portal.core.crypto import decrypt_bytes, encrypt_bytes
from portal.core.settings import StorageSettings

_HASH = re.compile(r"[0-9a-f]{64}")


class BlobNotFound(LookupError):
    """No file is stored under that content hash."""


class BlobCorrupted(RuntimeError):
    """A stored file does not decrypt, or does not hash to its name: it was altered or the key changed."""


class BlobStore(Protocol):
    def put(self, data: bytes) -> str:
        """Store `data` (if not already stored); return its content hash (SHA-256, lowercase hex)."""
        ...

    def get(self, content_hash: str) -> bytes:
        """The plaintext stored under `content_hash`; `BlobNotFound` or `BlobCorrupted` otherwise."""
        ...

    def exists(self, content_hash: str) -> bool: ...


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _checked(content_hash: str) -> str:
    # Also the guard against path tricks: only 64 lowercase hex characters make a name.
    if not isinstance(content_hash, str) or not _HASH.fullmatch(content_hash):
        raise ValueError(f"not a content hash: {content_hash!r}")
    return content_hash


class FilesystemBlobStore:
    """Files under `root`, as `root/ab/cd/abcd…` (two levels of 256 folders)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def from_settings(cls, storage: StorageSettings) -> FilesystemBlobStore:
        return cls(storage.blob_root)

    def _path(self, content_hash: str) -> Path:
        name = _checked(content_hash)
        return self.root / name[:2] / name[2:4] / name

    def exists(self, content_hash: str) -> bool:
        return self._path(content_hash).is_file()

    def put(self, data: bytes) -> str:
        name = content_hash(data)
        target = self._path(name)
        if target.is_file():
            return name
        target.parent.mkdir(parents=True, exist_ok=True)
        sealed = encrypt_bytes(data, associated_data=name.encode())
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(sealed)
                out.flush()
                os.fsync(out.fileno())
            # Two writers of the same content race harmlessly: either complete file wins.
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return name

    def get(self, content_hash: str) -> bytes:
        path = self._path(content_hash)
        try:
            sealed = path.read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(content_hash) from None
        try:
            data = decrypt_bytes(sealed, associated_data=content_hash.encode())
        except (InvalidTag, ValueError) as exc:
            raise BlobCorrupted(f"stored file {content_hash} does not decrypt") from exc
        if hashlib.sha256(data).hexdigest() != content_hash:
            raise BlobCorrupted(f"stored file {content_hash} does not match its hash")
        return data


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
