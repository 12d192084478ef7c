"""Refresh the vendored Leaflet that the locator and coverage maps serve from /static.

    python scripts/vendor_leaflet.py 1.9.4

Takes the named version of the npm package `leaflet` with npm's own client (`npm view`,
`npm pack`), checks the tarball against the registry's integrity hash, copies the few
files the maps need byte for byte into templates/static/vendor/leaflet/, and writes
vendor.json: the version, the licence, the tarball's integrity and each file's SHA-256
(tests/portal/test_locator_pages.py checks the files against it). Needs Node's npm on the
machine that refreshes; the portal never needs Node, and no map loads anything from a CDN.
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

PACKAGE = "leaflet"
FILES = (
    "dist/leaflet.js",
    "dist/leaflet.css",
    "dist/images/marker-icon.png",
    "dist/images/marker-icon-2x.png",
    "dist/images/marker-shadow.png",
    "dist/images/layers.png",
    "dist/images/layers-2x.png",
    "LICENSE",
)
TARGET = Path(__file__).resolve().parents[1] / "templates" / "static" / "vendor" / "leaflet"


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
        digests = {}
        with tarfile.open(tarball) as archive:
            for file in FILES:
                member = archive.extractfile(f"package/{file}")
                if member is None:
                    raise SystemExit(f"{spec} has no {file}")
                data = member.read()
                # dist/ is dropped: leaflet.css finds its images at images/ beside it, as in the package.
                target = TARGET / file.removeprefix("dist/")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                digests[file.removeprefix("dist/")] = hashlib.sha256(data).hexdigest()
    manifest = {"package": PACKAGE, "version": version, "license": licence, "integrity": integrity, "files": digests}
    (TARGET / "vendor.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"vendored {spec} ({licence}) into {TARGET}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    main(sys.argv[1])
