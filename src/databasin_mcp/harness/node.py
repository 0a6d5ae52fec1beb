"""The pinned npm MCP clients (MCP Inspector, TypeScript SDK, Claude Code): which versions, where they are
installed, and the environment they run in. Installing them is the interoperability tests' job
(tests/interop/nodetools.py); the benchmarks only use what is there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .processes import clean_env

NODE_DIR_VARIABLE = "DATABASIN_INTEROP_NODE_DIR"

# Pinned: the current releases when the interoperability tests were written (npm view <pkg> version).
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


def node_dir_from_environment(environ: Mapping[str, str] = os.environ) -> Path:
    """Where the clients are installed: DATABASIN_INTEROP_NODE_DIR, else the per-user cache
    ($XDG_CACHE_HOME/databasin-mcp, as the packaging tests' cache), outside any clone: the clients are
    ~500 MB, downloaded once per machine, not once per clone."""
    value = environ.get(NODE_DIR_VARIABLE)
    if value:
        return Path(value).resolve()
    cache = (
        Path(environ["XDG_CACHE_HOME"])
        if environ.get("XDG_CACHE_HOME")
        else Path(environ.get("HOME") or Path.home()) / ".cache"
    )
    return cache / "databasin-mcp" / "interop-node"


def installed_version(node_dir: Path, package: str) -> str | None:
    manifest = node_dir / "node_modules" / package / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def missing_pins(node_dir: Path, pins: Mapping[str, str]) -> list[str]:
    return [f"{name}@{version}" for name, version in pins.items() if installed_version(node_dir, name) != version]


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
