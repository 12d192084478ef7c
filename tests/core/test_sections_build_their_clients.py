"""Each outside system's client is built from its settings section, and the demo's defaults match the simulators."""

from portal.core.blob_store import FilesystemBlobStore
from portal.core.scanner import ClamdScanner
from portal.core.settings import load_settings


def test_the_scanner_is_built_from_its_section(tmp_path):
    over_tcp = ClamdScanner.from_settings(load_settings({"CLAMD_HOST": "scanner", "CLAMD_PORT": "3311"}).scanner)
    assert over_tcp.address == "tcp:scanner:3311"
    local = ClamdScanner.from_settings(load_settings({"PORTAL_VAR_DIR": str(tmp_path)}).scanner)
    assert local.address == f"unix:{tmp_path / 'clamd.sock'}"


def test_the_blob_store_lives_where_storage_says(tmp_path):
    store = FilesystemBlobStore.from_settings(load_settings({"PORTAL_BLOB_DIR": str(tmp_path / "files")}).storage)
    assert store.root == tmp_path / "files"
