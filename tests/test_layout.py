"""The source stays in pieces small enough to read: no module over 450 lines, no class over 300 (issue 14)."""

from __future__ import annotations

import ast
from pathlib import Path

import databasin_mcp

SOURCE = Path(databasin_mcp.__file__).parent
MAX_MODULE_LINES = 450
MAX_CLASS_LINES = 300


def too_long(path: Path, root: Path = SOURCE) -> list[str]:
    """What in one module is over its limit, as "module: n lines" and "module: class C, n lines"."""
    text = path.read_text(encoding="utf-8")
    name = path.relative_to(root).as_posix()
    found = []
    lines = len(text.splitlines())
    if lines > MAX_MODULE_LINES:
        found.append(f"{name}: {lines} lines")
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
            length = node.end_lineno - node.lineno + 1
            if length > MAX_CLASS_LINES:
                found.append(f"{name}: class {node.name}, {length} lines")
    return found


def test_no_module_or_class_is_too_long() -> None:
    found = [problem for path in sorted(SOURCE.rglob("*.py")) for problem in too_long(path)]
    assert found == [], "split these by job:\n" + "\n".join(found)


def test_the_check_reads_every_module_and_measures_both_limits(tmp_path: Path) -> None:
    modules = set(SOURCE.rglob("*.py"))
    assert {SOURCE / "sandbox" / "serve.py", SOURCE / "client" / "transport.py"} <= modules  # subpackages too
    (tmp_path / "wide.py").write_text("class Wide:\n" + "    x = 1\n" * MAX_CLASS_LINES, encoding="utf-8")
    (tmp_path / "long.py").write_text("x = 1\n" * MAX_MODULE_LINES, encoding="utf-8")
    (tmp_path / "longer.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1), encoding="utf-8")
    assert too_long(tmp_path / "wide.py", tmp_path) == ["wide.py: class Wide, 301 lines"]
    assert too_long(tmp_path / "long.py", tmp_path) == []
    assert too_long(tmp_path / "longer.py", tmp_path) == ["longer.py: 451 lines"]
