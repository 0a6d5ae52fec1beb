"""The pinned npm clients (MCP Inspector, TypeScript SDK, Claude Code), installed once, and bounded child processes.

The packages go into DATABASIN_INTEROP_NODE_DIR (the Makefile sets <repo>/.cache/interop-node,
the default too) with `npm install --prefix`; a later run that finds the pinned versions there
installs nothing. The install is serialised with a lock file, so two test runs at once share it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from tests.e2e.processes import clean_env

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR_VARIABLE = "DATABASIN_INTEROP_NODE_DIR"
DEFAULT_NODE_DIR = ROOT / ".cache" / "interop-node"

# Pinned: the current releases when these tests were written (npm view <pkg> version).
INSPECTOR = "@modelcontextprotocol/inspector"
TS_SDK = "@modelcontextprotocol/sdk"
CLAUDE_CODE = "@anthropic-ai/claude-code"
PINS: dict[str, str] = {
    # Declares node >= 22.19; its CLI mode (all these tests use) runs on Node 20 (checked on 20.20).
    INSPECTOR: "2.12.0",
    TS_SDK: "1.32.2",
    # A native binary (node version irrelevant); `claude mcp add/get/list` work offline, no login.
    CLAUDE_CODE: "2.1.332",
}

INSTALL_TIMEOUT = 900.0  # seconds: Claude Code's native binary is ~400 MB on a first install
# What npm prints when it cannot reach the registry (DNS, refused, timed out, reset, proxy).
NETWORK_ERRORS = re.compile(
    r"ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|ECONNRESET|EHOSTUNREACH|ENETUNREACH|network|proxy|"
    r"request to \S+ failed",
    re.IGNORECASE,
)
# Quiet, no telemetry, no update checks: for npm, npx and claude children.
QUIET_NODE_ENV = {
    "npm_config_update_notifier": "false",
    "npm_config_fund": "false",
    "npm_config_audit": "false",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "DISABLE_AUTOUPDATER": "1",
}


def node_env(home: Path, **extra: str) -> dict[str, str]:
    """Environment for a node client: no DATABASIN_* setting, its own HOME, quiet, no telemetry."""
    return clean_env(HOME=str(home), **QUIET_NODE_ENV, **extra)


def node_dir_from_environment(environ: Mapping[str, str]) -> Path:
    value = environ.get(NODE_DIR_VARIABLE)
    return Path(value).resolve() if value else DEFAULT_NODE_DIR


@dataclass(frozen=True)
class NodeTools:
    """Where the installed clients are and how to run them with the machine's node."""

    dir: Path
    node: str
    node_version: str
    versions: Mapping[str, str]

    def package(self, name: str) -> Path:
        return self.dir / "node_modules" / name

    @property
    def bin_dir(self) -> Path:
        return self.dir / "node_modules" / ".bin"

    def inspector(self, *args: str) -> list[str]:
        """`mcp-inspector --cli <args>` run by the machine's node (not whatever node a shebang finds)."""
        manifest = json.loads((self.package(INSPECTOR) / "package.json").read_text(encoding="utf-8"))
        launcher = self.package(INSPECTOR) / manifest["bin"]["mcp-inspector"]
        return [self.node, str(launcher), "--cli", *args]

    @property
    def claude(self) -> Path:
        return self.package(CLAUDE_CODE) / "bin" / "claude.exe"


def installed_version(node_dir: Path, package: str) -> str | None:
    manifest = node_dir / "node_modules" / package / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def missing_pins(node_dir: Path, pins: Mapping[str, str]) -> list[str]:
    return [f"{name}@{version}" for name, version in pins.items() if installed_version(node_dir, name) != version]


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


def prepare(node_dir: Path, env: Mapping[str, str]) -> NodeTools:
    """Install what is missing and check that each client starts with the machine's node."""
    node = shutil.which("node", path=env.get("PATH"))
    if node is None:
        pytest.fail("tests/interop need node (20 or later) on PATH")
    npm_install(node_dir, PINS, env)
    tools = NodeTools(
        dir=node_dir,
        node=node,
        node_version=run_bounded([node, "--version"], env=env, timeout=60).stdout.strip(),
        versions={name: installed_version(node_dir, name) or "" for name in PINS},
    )
    major = int(tools.node_version.lstrip("v").split(".")[0])
    assert major >= 20, f"tests/interop need node 20 or later; {node} is {tools.node_version}"
    if tools.claude.stat().st_size < 100_000:
        # Claude Code's postinstall swaps its 500-byte stub for the native binary; run it if npm skipped it.
        run_bounded([node, "install.cjs"], env=env, timeout=120, cwd=tools.package(CLAUDE_CODE))
    quiet = {**env, **QUIET_NODE_ENV}
    assert run_bounded(tools.inspector("--version"), env=quiet, timeout=60).stdout.strip() == PINS[INSPECTOR]
    claude = run_bounded([str(tools.claude), "--version"], env=quiet, timeout=60).stdout.strip()
    assert claude == f"{PINS[CLAUDE_CODE]} (Claude Code)"
    return tools


# --- child processes, always bounded and always reaped ------------------------------------------------


class Running:
    """A child in its own process group, so that a timeout also ends what it started (a stdio server)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str | os.PathLike[str] | None = None,
        input: str | None = None,
    ) -> None:
        self.argv = list(argv)
        self._input = input
        self.process = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )

    def finish(self, timeout: float) -> subprocess.CompletedProcess[str]:
        """Wait at most `timeout` s; on timeout kill the whole group and raise TimeoutError with the output."""
        try:
            stdout, stderr = self.process.communicate(self._input, timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            stdout, stderr = self.process.communicate(timeout=10)
            raise TimeoutError(
                f"{' '.join(self.argv)} did not finish within {timeout} s;\nstdout: {stdout[-2000:]}\n"
                f"stderr: {stderr[-2000:]}"
            ) from None
        finally:
            self._end_group()
        return subprocess.CompletedProcess(self.argv, self.process.returncode, stdout, stderr)

    def kill(self) -> None:
        if self.process.poll() is None:
            self._signal_group(signal.SIGKILL)
            self.process.wait(timeout=10)
        self._end_group()

    def _end_group(self) -> None:
        # Anything the child left behind in its group (it should be nothing) is ended too.
        self._signal_group(signal.SIGKILL)

    def _signal_group(self, signum: int) -> None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)


def run_bounded(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
    check: bool = True,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    done = Running(argv, env=env, cwd=cwd, input=input).finish(timeout)
    if check:
        assert done.returncode == 0, f"{' '.join(argv)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def run_all(
    commands: Mapping[str, Sequence[str]],
    *,
    env: Mapping[str, str],
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Run several commands at once (they are independent); every one is waited for or killed."""
    running: dict[str, Running] = {}
    results: dict[str, subprocess.CompletedProcess[str]] = {}
    try:
        for name, argv in commands.items():
            running[name] = Running(argv, env=env, cwd=cwd)
        for name, child in running.items():
            results[name] = child.finish(timeout)
    finally:
        for child in running.values():
            child.kill()
    return results
