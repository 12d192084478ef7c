"""Refresh the vendored Swagger UI that the API reference (/schema) serves from /static.

    python scripts/vendor_swagger_ui.py 5.35.0

Takes the named version of the npm package `swagger-ui-dist` with npm's own client
(`npm view`, `npm pack`), checks the tarball against the registry's integrity hash,
copies the few files the page needs byte for byte into
templates/static/vendor/swagger-ui/, and writes vendor.json: the version, the licence,
the tarball's integrity and each file's SHA-256 (tests/portal/test_api_reference.py
checks the files against it). Needs Node's npm on the machine that refreshes; the
portal itself never needs Node.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "swagger-ui-dist"
FILES = ("swagger-ui-bundle.js", "swagger-ui-bundle.js.LICENSE.txt", "swagger-ui.css", "LICENSE", "NOTICE")
TARGET = Path(__file__).resolve().parents[1] / "templates" / "static" / "vendor" / "swagger-ui"


def _npm(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["npm", *args], check=True, capture_output=True, text=True, cwd=cwd).stdout.strip()


def main(version: str) -> None:
    spec = f"{PACKAGE}@{version}"
    info = json.loads(_npm("view", spec, "dist.integrity", "license", "--json"))
    integrity, licence = info["dist.integrity"], info["license"]
    algorithm, _, expected = integrity.partition("-")
    if algorithm != "sha512":
        raise SystemExit(f"unexpected integrity algorithm {algorithm!r} for {spec}")
    with tempfile.TemporaryDirectory() as tmp:
        name = _npm("pack", spec, "--silent", cwd=Path(tmp)).splitlines()[-1]
        tarball = Path(tmp) / name
        actual = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
        if actual != expected:
            raise SystemExit(f"{spec}: the tarball does not match the registry's integrity hash")
        TARGET.mkdir(parents=True, exist_ok=True)
        digests = {}
        with tarfile.open(tarball) as archive:
            for file in FILES:
                member = archive.extractfile(f"package/{file}")
                if member is None:
                    raise SystemExit(f"{spec} has no {file}")
                data = member.read()
                (TARGET / file).write_bytes(data)
                digests[file] = hashlib.sha256(data).hexdigest()
    manifest = {
        "package": PACKAGE,
        "version": version,
        "license": licence,
        "integrity": integrity,
        "files": digests,
    }
    (TARGET / "vendor.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"vendored {spec} ({licence}) into {TARGET}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
