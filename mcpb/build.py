"""Build the MCP Bundle for Claude Desktop: `python mcpb/build.py [--out dist]` (or `make mcpb`).

The bundle is of server type uv: it carries the project (pyproject.toml, README.md, LICENSE,
src/databasin_mcp) and the launcher, not its dependencies; the host installs them with uv. Files are
copied by name into a staging folder, never the checkout as a whole, so nothing else in it (a
.token, a .venv, test data) can end up in the bundle. The official MCPB tool then validates the
manifest and packs the folder.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = ROOT / "mcpb"
# The official MCPB command-line tool, pinned (npm view @anthropic-ai/mcpb version).
MCPB_PACKAGE = "@anthropic-ai/mcpb"
MCPB_VERSION = "2.1.2"
# What the bundle holds besides the package: the files uv needs to install it, and its licence.
PROJECT_FILES = ("README.md", "LICENSE")
PACKAGE = Path("src") / "databasin_mcp"
# The tables of pyproject.toml the bundle keeps. `uv run` locks every optional dependency of a project
# (test, dev, benchmark tools) before it runs it; the bundle's copy declares only what the server needs.
BUNDLE_TABLES = (
    "build-system", "project", "project.urls", "project.scripts",
    "tool.hatch.version", "tool.hatch.build.targets.wheel",
)  # fmt: skip


def bundle_files(root: Path = ROOT) -> dict[str, Path]:
    """Every file of the bundle: its path in the bundle -> the file it is copied from."""
    files = {"manifest.json": root / "mcpb" / "manifest.json", "server/main.py": root / "mcpb" / "server" / "main.py"}
    files.update({name: root / name for name in PROJECT_FILES})
    for path in sorted((root / PACKAGE).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[path.relative_to(root).as_posix()] = path
    return files


def bundle_pyproject(root: Path = ROOT) -> str:
    """pyproject.toml with only the tables in BUNDLE_TABLES (each table kept as written)."""
    tables = re.split(r"(?m)^(?=\[)", (root / "pyproject.toml").read_text(encoding="utf-8"))
    kept = [table for table in tables if (header := re.match(r"\[+([^\]]+)\]", table)) and header[1] in BUNDLE_TABLES]
    return "".join(kept)


def stage(into: Path, root: Path = ROOT) -> list[str]:
    """Write the bundle's files into `into`; their paths in the bundle, sorted."""
    files = bundle_files(root)
    for name, source in files.items():
        target = into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    (into / "pyproject.toml").write_text(bundle_pyproject(root), encoding="utf-8")
    return sorted([*files, "pyproject.toml"])


def bundle_name(root: Path = ROOT) -> str:
    manifest = json.loads((root / "mcpb" / "manifest.json").read_text(encoding="utf-8"))
    return f"{manifest['name']}-{manifest['version']}.mcpb"


def build(out: Path, mcpb: Sequence[str], root: Path = ROOT) -> Path:
    """Stage, validate and pack; the path of the .mcpb written into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    bundle = out.resolve() / bundle_name(root)
    with tempfile.TemporaryDirectory(prefix="databasin-mcpb-") as staging:
        folder = Path(staging) / "bundle"
        stage(folder, root)
        subprocess.run([*mcpb, "validate", str(folder / "manifest.json")], check=True)
        subprocess.run([*mcpb, "pack", str(folder), str(bundle)], check=True)
    return bundle


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python mcpb/build.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="folder for the .mcpb (default: dist)")
    parser.add_argument(
        "--mcpb",
        default=f"npx --yes {MCPB_PACKAGE}@{MCPB_VERSION}",
        help="how to run the MCPB tool (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        bundle = build(args.out, shlex.split(args.mcpb))
    except subprocess.CalledProcessError as error:
        print(f"mcpb/build.py: {shlex.join(error.cmd)} exited {error.returncode}", file=sys.stderr)
        return 1
    print(bundle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
