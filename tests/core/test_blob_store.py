"""Files stored by content hash, encrypted at rest, written atomically."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from portal.core.blob_store import BlobCorrupted, BlobNotFound, FilesystemBlobStore
from portal.core.crypto import decrypt_bytes, encrypt_bytes

SCAN = b"%PDF-1.7 scanned CCCD of Nguyen Van An, 001099012345 " * 100


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_a_file_is_named_by_the_sha256_of_its_content_and_comes_back_unchanged(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    name = store.put(SCAN)
    assert name == hashlib.sha256(SCAN).hexdigest()
    assert store.exists(name)
    assert store.get(name) == SCAN
    assert stored_files(tmp_path) == [tmp_path / name[:2] / name[2:4] / name]


def test_the_same_content_is_stored_once(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    assert store.put(SCAN) == store.put(bytes(SCAN))
    assert len(stored_files(tmp_path)) == 1
    store.put(SCAN + b"another page")
    assert len(stored_files(tmp_path)) == 2


def test_what_is_on_disk_is_encrypted(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    name = store.put(SCAN)
    on_disk = (tmp_path / name[:2] / name[2:4] / name).read_bytes()
    assert b"001099012345" not in on_disk and b"%PDF" not in on_disk
    assert len(on_disk) == len(SCAN) + 3 + 12 + 16  # prefix, nonce, GCM tag


def test_a_file_altered_or_swapped_on_disk_is_refused_not_served(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    first, second = store.put(b"page one"), store.put(b"page two")
    path_of = {name: tmp_path / name[:2] / name[2:4] / name for name in (first, second)}

    # Swapped: the second file's (valid) ciphertext under the first file's name.
    path_of[first].write_bytes(path_of[second].read_bytes())
    with pytest.raises(BlobCorrupted):
        store.get(first)

    # Altered: one byte flipped.
    sealed = bytearray(path_of[second].read_bytes())
    sealed[-1] ^= 0x01
    path_of[second].write_bytes(bytes(sealed))
    with pytest.raises(BlobCorrupted):
        store.get(second)


def test_an_unknown_hash_is_not_found_and_anything_but_a_hash_is_refused(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path)
    missing = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(missing)
    with pytest.raises(BlobNotFound):
        store.get(missing)
    for bad in ("../../etc/passwd", missing.upper(), missing[:-1], missing + "0", ""):
        with pytest.raises(ValueError):
            store.get(bad)


def test_a_write_that_fails_half_way_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = FilesystemBlobStore(tmp_path)

    def disk_failure(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_failure)
    with pytest.raises(OSError, match="No space"):
        store.put(SCAN)
    monkeypatch.undo()
    assert stored_files(tmp_path) == []  # neither the file nor its temporary
    assert not store.exists(hashlib.sha256(SCAN).hexdigest())
    assert store.get(store.put(SCAN)) == SCAN


def test_sealed_bytes_open_only_with_the_same_associated_data() -> None:
    sealed = encrypt_bytes(b"data", associated_data=b"name-a")
    assert sealed != encrypt_bytes(b"data", associated_data=b"name-a")  # a fresh nonce each time
    assert decrypt_bytes(sealed, associated_data=b"name-a") == b"data"
    with pytest.raises(InvalidTag):
        decrypt_bytes(sealed, associated_data=b"name-b")
