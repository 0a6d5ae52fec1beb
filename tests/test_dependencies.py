"""Every third-party package our code imports is declared in pyproject.toml (issue 16 #11)."""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "databasin_mcp"
# Imported only where an optional extra is installed, with a fallback when it is not.
OPTIONAL = {"anthropic_tokenizer"}


def imported_top_level_modules() -> set[str]:
    found: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"databasin_mcp", "__future__"}


def declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = set()
    for requirement in project["dependencies"]:
        name = requirement.split(";")[0]
        for stop in "<>=!~[ ":
            name = name.split(stop)[0]
        names.add(name.strip().lower().replace("_", "-"))
    return names


def test_every_imported_package_is_a_declared_dependency() -> None:
    distributions = packages_distributions()
    undeclared = {
        module: distributions.get(module, [module])
        for module in imported_top_level_modules() - OPTIONAL
        if not {name.lower().replace("_", "-") for name in distributions.get(module, [module])} & declared()
    }
    assert undeclared == {}
