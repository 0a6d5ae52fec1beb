"""The two test tiers and the support package they share.

`make check` runs every test not marked e2e, and such a test starts no process (tests/conftest.py
refuses it); `make test` runs everything. Processes, tool calls and the pinned node clients are driven
through databasin_mcp.harness, which the benchmarks and the demo use too, so nothing outside tests/
imports tests/.
"""

from __future__ import annotations

import ast
import asyncio
import subprocess
from pathlib import Path

import anyio
import pytest

from databasin_mcp.harness.node import node_dir_from_environment

ROOT = Path(__file__).resolve().parents[1]
HARNESS = ROOT / "src" / "databasin_mcp" / "harness"


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, absolute or relative (as written: `.support` stays `.support`)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


def importers_of(package: str, folders: list[Path]) -> dict[str, set[str]]:
    return {
        str(path.relative_to(ROOT)): hits
        for folder in folders
        for path in sorted(folder.rglob("*.py"))
        if (hits := {name for name in imported_modules(path) if name == package or name.startswith(f"{package}.")})
    }


def test_nothing_outside_tests_imports_tests() -> None:
    assert importers_of("tests", [ROOT / "benchmarks", ROOT / "src"]) == {}


def test_the_harness_is_a_library_not_a_test_suite() -> None:
    assert sorted(path.name for path in HARNESS.glob("*.py")) == [
        "__init__.py",
        "children.py",
        "node.py",
        "processes.py",
        "procfs.py",
        "results.py",
        "upstreams.py",
    ]
    assert importers_of("pytest", [HARNESS]) == {}
    assert importers_of("_pytest", [HARNESS]) == {}


def test_the_process_helpers_live_only_in_the_harness() -> None:
    assert not (ROOT / "tests" / "e2e" / "processes.py").exists()


def test_a_test_outside_e2e_cannot_start_a_process() -> None:
    with pytest.raises(AssertionError, match=r"starts a process: mark it `pytest\.mark\.e2e`"):
        subprocess.run(["true"], check=False)


@pytest.mark.anyio
async def test_nor_through_asyncio_or_anyio() -> None:
    with pytest.raises(AssertionError, match="starts a process"):
        await asyncio.create_subprocess_exec("true")
    with pytest.raises(AssertionError, match="starts a process"):
        await anyio.run_process(["true"])


def test_the_node_clients_live_in_the_per_user_cache_not_in_the_clone(tmp_path: Path) -> None:
    """~500 MB, downloaded once per machine: every clone's `make test` finds them there (issue 16 #2)."""
    home = tmp_path / "home"
    assert node_dir_from_environment({"HOME": str(home)}) == home / ".cache" / "databasin-mcp" / "interop-node"
    assert node_dir_from_environment({"HOME": str(home), "XDG_CACHE_HOME": str(tmp_path / "xdg")}) == (
        tmp_path / "xdg" / "databasin-mcp" / "interop-node"
    )
    chosen = tmp_path / "elsewhere"
    assert node_dir_from_environment({"HOME": str(home), "DATABASIN_INTEROP_NODE_DIR": str(chosen)}) == chosen
    assert ROOT not in node_dir_from_environment({"HOME": str(home)}).parents
