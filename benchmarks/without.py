"""Run a module as if some packages were not installed: the "before" side of a dependency fix.

python -m benchmarks.without sniffio databasin_mcp [args...]

A hidden package costs what a missing one does: every `import` of it searches sys.path, then fails.
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec, PathFinder
from types import ModuleType


class Missing(MetaPathFinder):
    """Makes `import name` fail after the same sys.path search a package that is not installed costs."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] not in self.names:
            return None
        PathFinder.find_spec(f"{fullname}_is_not_installed", path)
        raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)


def main(argv: list[str]) -> None:
    hidden, module, *args = argv
    sys.meta_path.insert(0, Missing(set(hidden.split(","))))
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
