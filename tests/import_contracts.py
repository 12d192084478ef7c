"""An import-linter contract for source files outside our packages: alembic's migrations.

`alembic/versions` is no package (and `alembic` is the library's name), so the built-in
contracts, which read packages, cannot see it. This one parses the files themselves:
a migration that imports the application would change meaning when the application does.
Registered in pyproject.toml under `[tool.importlinter] contract_types`.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def imported_modules(tree: ast.AST) -> list[tuple[str, int]]:
    """Every absolute module a file imports, statically or through importlib, with its line."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # A relative import in a migration would reach whatever sits beside it: report it as is.
            found.append(("." * node.level + (node.module or ""), node.lineno))
        elif (
            isinstance(node, ast.Call)
            and (getattr(node.func, "attr", None) or getattr(node.func, "id", None)) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.args[0].value, node.lineno))
    return sorted(found, key=lambda item: item[1])


def _is_within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


class FilesForbiddenContract(Contract):
    """The files matching `source_files` (globs, from the working directory) import none of `forbidden_modules`."""

    source_files = fields.ListField(subfield=fields.StringField())
    forbidden_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        offences: list[dict[str, Any]] = []
        for pattern in self.source_files:
            paths = sorted(Path.cwd().glob(pattern))
            if not paths:
                raise ValueError(f"no file matches {pattern!r} (run lint-imports from the project's root)")
            for path in paths:
                tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
                for module, line in imported_modules(tree):
                    if module.startswith(".") or any(
                        _is_within(module, forbidden) for forbidden in self.forbidden_modules
                    ):
                        offences.append({"file": str(path.relative_to(Path.cwd())), "module": module, "line": line})
        return ContractCheck(kept=not offences, metadata={"offences": offences})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for offence in check.metadata["offences"]:
            output.print_error(f"{offence['file']} imports {offence['module']} (l.{offence['line']})", bold=False)
            output.new_line()
