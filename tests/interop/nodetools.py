"""Installing the pinned npm clients (MCP Inspector, TypeScript SDK, Claude Code) once, for tests/interop.

The packages go into DATABASIN_INTEROP_NODE_DIR (default: the per-user cache,
~/.cache/databasin-mcp/interop-node) with `npm install --prefix`; a later run, from any clone,
that finds the pinned versions there installs nothing. Without node 20+ and npm the tests are
skipped, saying so once. The install is serialised with a lock file, so two test runs at once share it.
Which versions, where, and how to run them: databasin_mcp.harness.node.
"""

from __future__ import annotations

import fcntl
import re
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

import pytest

from databasin_mcp.harness.children import run_bounded
from databasin_mcp.harness.node import (
    CLAUDE_CODE,
    INSPECTOR,
    PINS,
    QUIET_NODE_ENV,
    NodeTools,
    installed_version,
    missing_pins,
)

ROOT = Path(__file__).resolve().parents[2]

INSTALL_TIMEOUT = 900.0  # seconds: Claude Code's native binary is ~400 MB on a first install
# What npm prints when it cannot reach the registry (DNS, refused, timed out, reset, proxy).
NETWORK_ERRORS = re.compile(
    r"ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ENETUNREACH|network|proxy|"
    r"request to \S+ failed",
    re.IGNORECASE,
)


@contextmanager
def install_lock(node_dir: Path) -> Iterator[None]:
    """One installer at a time per folder (another run holds it at most INSTALL_TIMEOUT: its npm is bounded)."""
    node_dir.mkdir(parents=True, exist_ok=True)
    with open(node_dir / ".install.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def npm_install(
    node_dir: Path, pins: Mapping[str, str], env: Mapping[str, str], *, timeout: float = INSTALL_TIMEOUT
) -> None:
    """Install the pinned packages unless they are all there already; a failure fails the test, saying why."""
    npm = shutil.which("npm", path=env.get("PATH"))
    if npm is None:
        pytest.fail("tests/interop need npm and node on PATH: they install the pinned MCP clients with npm")
    with install_lock(node_dir):
        if not missing_pins(node_dir, pins):
            return
        specs = [f"{name}@{version}" for name, version in pins.items()]
        install_env = {**env, **QUIET_NODE_ENV, "INSPECTOR_SKIP_CLIENT_INSTALL": "1"}

        def unreachable(said: str) -> NoReturn:
            pytest.fail(
                f"The npm registry ({registry(env)}) cannot be reached, so the interoperability clients "
                f"({' '.join(specs)}) cannot be installed into {node_dir}. npm said:\n{said[-2000:]}"
            )

        # A quick look first, so that no network fails in a minute rather than after npm's retries.
        try:
            ping = run_bounded(
                [npm, "ping", "--fetch-retries=0", "--fetch-timeout=30000"], env=install_env, timeout=90, check=False
            )
        except TimeoutError as error:
            unreachable(str(error))
        if ping.returncode != 0 and NETWORK_ERRORS.search(ping.stdout + ping.stderr):
            unreachable(ping.stdout + ping.stderr)
        command = [npm, "install", "--prefix", str(node_dir), "--no-audit", "--no-fund", *specs]
        try:
            done = run_bounded(command, env=install_env, timeout=timeout, check=False)
        except TimeoutError as error:
            pytest.fail(
                f"npm install of {' '.join(specs)} did not finish within {timeout:.0f} s; "
                f"is the npm registry ({registry(env)}) reachable? {error}"
            )
        if done.returncode != 0:
            output = done.stdout + done.stderr
            if NETWORK_ERRORS.search(output):
                unreachable(output)
            pytest.fail(
                f"npm install of {' '.join(specs)} into {node_dir} failed ({done.returncode}):\n{output[-3000:]}"
            )
        still_missing = missing_pins(node_dir, pins)
        if still_missing:
            pytest.fail(f"npm install finished but {', '.join(still_missing)} is not in {node_dir}/node_modules")


def registry(env: Mapping[str, str]) -> str:
    npm = shutil.which("npm", path=env.get("PATH")) or "npm"
    try:
        return run_bounded([npm, "config", "get", "registry"], env=env, timeout=60).stdout.strip()
    except (TimeoutError, AssertionError):
        return "the configured npm registry"


NO_NODE = "need Node.js 20 or later and npm on PATH"


def missing_node(env: Mapping[str, str]) -> str | None:
    """Why the node clients cannot run here, or None: node and npm on PATH, node 20 or later."""
    node, npm = shutil.which("node", path=env.get("PATH")), shutil.which("npm", path=env.get("PATH"))
    if node is None or npm is None:
        return f"{NO_NODE} (not found)"
    version = run_bounded([node, "--version"], env=env, timeout=60).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        return f"{NO_NODE} ({node} is {version})"
    return None


def prepare(node_dir: Path, env: Mapping[str, str]) -> NodeTools:
    """Install what is missing and check that each client starts with the machine's node (missing_node says
    whether there is one; the conftest leaves these tests out where there is not)."""
    node = shutil.which("node", path=env.get("PATH"))
    assert node is not None, NO_NODE
    node_version = run_bounded([node, "--version"], env=env, timeout=60).stdout.strip()
    npm_install(node_dir, PINS, env)
    tools = NodeTools(
        dir=node_dir,
        node=node,
        node_version=node_version,
        versions={name: installed_version(node_dir, name) or "" for name in PINS},
    )
    if tools.claude.stat().st_size < 100_000:
        # Claude Code's postinstall swaps its 500-byte stub for the native binary; run it if npm skipped it.
        run_bounded([node, "install.cjs"], env=env, timeout=120, cwd=tools.package(CLAUDE_CODE))
    quiet = {**env, **QUIET_NODE_ENV}
    assert run_bounded(tools.inspector("--version"), env=quiet, timeout=60).stdout.strip() == PINS[INSPECTOR]
    claude = run_bounded([str(tools.claude), "--version"], env=quiet, timeout=60).stdout.strip()
    assert claude == f"{PINS[CLAUDE_CODE]} (Claude Code)"
    return tools
