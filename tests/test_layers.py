"""The layers hold, and the contracts that say so can break (docs/decisions/0020).

`./run test` runs `lint-imports` before pytest; these tests make a layering break a failing
test as well, and show that each contract refuses the import it exists to refuse.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from copy import deepcopy
from pathlib import Path

import grimp
import pytest
from importlinter.api import read_configuration
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.domain.contract import Contract

from tests.import_contracts import FilesForbiddenContract, imported_modules

ROOT = Path(__file__).resolve().parents[1]
CONFIGURATION = read_configuration(str(ROOT / "pyproject.toml"))
SESSION = CONFIGURATION["session_options"]
CONTRACTS = {options["id"]: options for options in CONFIGURATION["contracts_options"]}
TYPES: dict[str, type[Contract]] = {"forbidden": ForbiddenContract, "files_forbidden": FilesForbiddenContract}


def _contract(contract_id: str) -> Contract:
    options = dict(CONTRACTS[contract_id])
    name, kind = options.pop("name"), options.pop("type")
    options.pop("id")
    return TYPES[kind](name, SESSION, options)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*SESSION["root_packages"], include_external_packages=True)


def test_lint_imports_keeps_every_contract():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-logo", "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("contract_id", "importer", "imported"),
    [
        ("kernel", "portal.core.db", "portal.controllers.dossiers"),
        ("kernel", "portal.core.audit", "portal.deps"),
        ("kernel", "portal.core.tenancy", "agents.policy"),
        ("kernel", "portal.core.http", "payments.gateways"),
        ("kernel", "portal.core.errors", "litestar"),
        ("domain", "agents.policy", "payments.gateways"),
        ("domain", "agents.dossiers.filing", "portal.auth.guards"),
        ("domain", "agents.staff.actor", "portal.templating"),
        ("domain", "agents.points.service", "litestar"),
        ("payments", "payments.gateways", "portal.routes"),
        ("payments", "payments.gateways", "litestar"),
        ("simulators", "portal.cli", "simulators.city"),
        ("controllers", "portal.controllers.dossiers", "sqlalchemy"),
    ],
)
def test_each_contract_refuses_the_import_it_exists_for(graph, contract_id, importer, imported):
    assert _contract(contract_id).check(deepcopy(graph), verbose=False).kept
    broken = deepcopy(graph)
    broken.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    assert not _contract(contract_id).check(broken, verbose=False).kept


def test_an_indirect_route_to_a_higher_layer_breaks_the_kernel_contract_too(graph):
    broken = deepcopy(graph)
    broken.add_import(importer="portal.core.settings", imported="portal.core.db", line_number=1, line_contents="")
    broken.add_import(importer="portal.core.db", imported="portal.history", line_number=1, line_contents="")
    assert not _contract("kernel").check(broken, verbose=False).kept


@pytest.mark.parametrize("contract_id", ["kernel", "domain", "payments"])
def test_the_web_layer_lists_name_every_module_of_portal_but_the_kernel(contract_id):
    web_layer = {
        f"portal.{path.stem}"
        for path in (ROOT / "portal").iterdir()
        if path.name != "core" and not path.name.startswith("_") and (path.suffix == ".py" or path.is_dir())
        if path.suffix == ".py" or (path / "__init__.py").exists()
    }
    forbidden = set(CONTRACTS[contract_id]["forbidden_modules"])
    assert web_layer - forbidden == set(), "a new module of the web layer: add it to the contract's list"


def test_a_migration_importing_the_application_breaks_the_migrations_contract(tmp_path, monkeypatch, graph):
    versions = tmp_path / "alembic" / "versions"
    versions.mkdir(parents=True)
    (versions / "0001_fine.py").write_text("import sqlalchemy as sa\nfrom alembic import op\n")
    monkeypatch.chdir(tmp_path)
    assert _contract("migrations").check(graph, verbose=False).kept

    (versions / "0002_rls.py").write_text("from alembic import op\nfrom portal.core.rls import policies\n")
    check = _contract("migrations").check(graph, verbose=False)
    assert not check.kept
    assert check.metadata["offences"] == [
        {"file": "alembic/versions/0002_rls.py", "module": "portal.core.rls", "line": 2}
    ]


def test_imports_are_found_however_a_migration_writes_them():
    tree = ast.parse(
        "import os, agents.models\n"
        "from portal.core import rls\n"
        "from . import helpers\n"
        "def upgrade():\n"
        "    import payments\n"
        "    importlib.import_module('portal.core.rls')\n"
    )
    assert imported_modules(tree) == [
        ("os", 1),
        ("agents.models", 1),
        ("portal.core", 2),
        (".", 3),
        ("payments", 5),
        ("portal.core.rls", 6),
    ]
