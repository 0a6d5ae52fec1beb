"""What the install and bundle tests need from outside the checkout, fetched once into the per-user cache.

- `wheelhouse()`: wheels of the build backend and of every dependency, downloaded once (pip download),
  so that pip, pipx and uv then install offline (--no-index/--offline, --find-links) in seconds.
- `mcpb_cli()`: the official MCPB command-line tool, installed once with npm at its pinned version.

Both live in $XDG_CACHE_HOME/databasin-mcp (default ~/.cache/databasin-mcp), never in the clone, and are
read again by later runs; an install is serialised with a lock file, so two runs at once share it. The
folder is read from the real home at import: the tests themselves run with a temporary HOME.
Where a registry cannot be reached, the test that needs it is skipped with one line saying so.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from databasin_mcp.harness.children import run_bounded
from databasin_mcp.harness.node import QUIET_NODE_ENV, installed_version
from databasin_mcp.harness.processes import clean_env
from tests.interop.nodetools import NETWORK_ERRORS, install_lock

from .published import ROOT, pyproject

CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "databasin-mcp"
# The interpreter new environments are made from: the one under the test venv, never the venv itself.
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)
DOWNLOAD_TIMEOUT = 600.0
# How long each fetch took in this run (seconds), for the report at the end of the session.
TIMINGS: dict[str, float] = {}


@contextmanager
def timed(what: str) -> Iterator[None]:
    started = time.monotonic()
    try:
        yield
    finally:
        TIMINGS[what] = TIMINGS.get(what, 0.0) + time.monotonic() - started


# --- the checkout, as a clean clone has it ------------------------------------------------------------


def clean_copy(into: Path) -> Path:
    """The checkout's tracked files (as they are now) copied into `into`: what a fresh clone holds, without
    .venv, caches, build output or anything else untracked. Skips where the checkout is not a git one."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: a clean clone cannot be made from it")
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached"], check=True, capture_output=True
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return into


# --- wheels, downloaded once ----------------------------------------------------------------------------


def wheelhouse() -> Path:
    """A folder of wheels for the package's build backend and dependencies (pip download, once per set of
    requirements and Python version)."""
    project = pyproject()
    # `editables`: what the build backend adds to build an editable install, as `uv run` makes of a bundle.
    wanted = [*project["project"]["dependencies"], *project["build-system"]["requires"], "editables"]
    key = hashlib.sha256(json.dumps([sys.version_info[:2], sorted(wanted)]).encode()).hexdigest()[:16]
    folder = CACHE / "wheelhouse" / key
    done = folder / ".complete"
    if done.exists():
        return folder
    with install_lock(folder):
        if done.exists():
            return folder
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(folder), *wanted]
        with timed("pip download (wheelhouse)"):
            downloaded = run_bounded(command, env=clean_env(), timeout=DOWNLOAD_TIMEOUT, check=False)
        if downloaded.returncode != 0:
            said = downloaded.stdout + downloaded.stderr
            if NETWORK_ERRORS.search(said) or "No matching distribution" in said:
                pytest.skip(f"PyPI cannot be reached to fetch the dependencies' wheels once: {said.strip()[-300:]}")
            pytest.fail(f"pip download into {folder} failed:\n{said[-3000:]}")
        done.write_text("")
    return folder


def offline_env(home: Path, wheels: Path, **extra: str) -> dict[str, str]:
    """Environment for uv, uvx, pip and pipx that installs from `wheels` only, with its own HOME and caches.

    uv's cache is kept in the per-user cache folder (its wheels are what makes a second run fast); pipx and
    the user's configuration files are never touched: PIPX_HOME is under `home`, pip and uv config is off.
    `UV_OFFLINE=""` in `extra` lets uv ask the index (a project's lock covers every platform).
    """
    env = {k: v for k, v in clean_env().items() if not k.startswith(("PIP_", "UV_", "PIPX_", "VIRTUAL_ENV"))}
    env.update(
        HOME=str(home),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",  # uv, uvx, pipx of the test venv
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheels),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_COMPILE="1",  # byte-compiling every dependency is not what these tests check, and costs seconds
        UV_OFFLINE="1",
        UV_FIND_LINKS=str(wheels),
        UV_NO_CONFIG="1",
        UV_CACHE_DIR=str(CACHE / "uv"),
        UV_PYTHON=BASE_PYTHON,
        UV_PYTHON_DOWNLOADS="never",
        PIPX_HOME=str(home / "pipx"),
        PIPX_BIN_DIR=str(home / "pipx" / "bin"),
        PIPX_MAN_DIR=str(home / "pipx" / "man"),
        PIPX_DEFAULT_PYTHON=BASE_PYTHON,
    )
    env.update(extra)
    return {name: value for name, value in env.items() if value != ""}


# --- the official MCPB tool, installed once ----------------------------------------------------------------


def mcpb_cli(package: str, version: str) -> list[str]:
    """The command that runs the pinned MCPB tool (installed with npm into the cache once); skips where npm
    is missing or its registry cannot be reached."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("npm and node are not installed: the official MCPB tool (an npm package) cannot run here")
    folder = CACHE / "mcpb-cli"
    with install_lock(folder):
        if installed_version(folder, package) != version:
            _npm_install(npm, folder, f"{package}@{version}")
    manifest = json.loads((folder / "node_modules" / package / "package.json").read_text(encoding="utf-8"))
    return [node, str(folder / "node_modules" / package / manifest["bin"])]


def _npm_install(npm: str, folder: Path, spec: str) -> None:
    env = {**clean_env(HOME=str(Path.home())), **QUIET_NODE_ENV}
    command = [npm, "install", "--prefix", str(folder), "--no-audit", "--no-fund", "--fetch-retries=1", spec]
    with timed("npm install (MCPB tool)"):
        try:
            done = run_bounded(command, env=env, timeout=DOWNLOAD_TIMEOUT, check=False)
        except TimeoutError:
            pytest.skip(f"the npm registry did not answer within {DOWNLOAD_TIMEOUT:.0f} s: {spec} cannot be installed")
    if done.returncode != 0:
        said = done.stdout + done.stderr
        if NETWORK_ERRORS.search(said):
            pytest.skip(f"the npm registry cannot be reached, so {spec} cannot be installed: {said.strip()[-300:]}")
        pytest.fail(f"npm install {spec} into {folder} failed:\n{said[-3000:]}")


def run(argv: list[str], env: Mapping[str, str], *, cwd: Path | None = None, timeout: float = 300.0) -> str:
    """Run a command to its end (bounded, its process group reaped); its output, or a failure that shows it."""
    done = run_bounded(argv, env=env, timeout=timeout, cwd=cwd, check=False)
    assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr
