"""The portal runs without its simulators: no module of portal, agents or payments imports one."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMPORT = re.compile(r"^\s*(from|import)\s+simulators\b", re.M)


def test_no_application_module_imports_a_simulator():
    offenders = [
        str(path.relative_to(ROOT))
        for package in ("portal", "agents", "payments")
        for path in (ROOT / package).rglob("*.py")
        if IMPORT.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
