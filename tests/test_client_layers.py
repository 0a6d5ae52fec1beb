"""The client package's layers: each module imports only the ones below it (sizes: tests/test_layout.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import databasin_mcp.client

PACKAGE = Path(databasin_mcp.client.__file__).parent
# Top to bottom, as the package's docstring lists them: a module may import only those after it.
LAYERS = ["endpoints", "transport", "retry", "auth", "failures", "decoding", "routes", "policies"]


def sibling_imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found.update([node.module] if node.module else [alias.name for alias in node.names])
    return found


def test_every_module_of_the_package_is_a_layer() -> None:
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(LAYERS)


def test_each_layer_imports_only_the_layers_below_it() -> None:
    upward = {
        module: sorted(name for name in sibling_imports(module) if LAYERS.index(name) <= LAYERS.index(module))
        for module in LAYERS
    }
    assert upward == {module: [] for module in LAYERS}
