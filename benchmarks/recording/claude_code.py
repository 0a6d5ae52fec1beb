"""The pinned Claude Code CLI, run headless (`claude -p`) against the Messages API stand-in.

Claude Code starts the MCP server itself from --mcp-config (and nothing else: --strict-mcp-config),
with a temporary HOME, no telemetry or other non-essential traffic, a dummy API key and
ANTHROPIC_BASE_URL on the stand-in, which scripts the model and logs every request body.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from databasin_mcp.harness.children import Running
from databasin_mcp.harness.node import CLAUDE_CODE, PINS, QUIET_NODE_ENV, node_dir_from_environment

from .anthropic_api import MESSAGES, messages_api
from .leftovers import end_leftovers
from .loopback import RequestLog, Session, serving
from .script import Script
from .stdio_servers import StdioServer

VERSION = PINS[CLAUDE_CODE]
RUN_TIMEOUT = 180.0  # seconds for one headless session (start-up, every scripted turn, shut-down)
STANDIN_KEY = "sk-ant-standin-not-a-key"
PROMPT = "Use the MCP tools to answer."
# Read off the binary (its mode function) and confirmed by the recorded requests.
TOOL_SEARCH = "ENABLE_TOOL_SEARCH"
TOOL_SEARCH_SWITCH = (
    "Claude Code 2.1.332 defers MCP tools behind its ToolSearch tool unless the environment variable "
    "ENABLE_TOOL_SEARCH (also read from the `env` block of settings) says otherwise: unset, `true` or "
    "`auto:0` = on (the default, with a custom ANTHROPIC_BASE_URL too); `false` or `auto:100` = off; "
    "`auto` / `auto:N` = only when the MCP tool definitions exceed N% (default 10) of the context window; "
    "CLAUDE_CODE_DISABLE_EXPERIMENTAL_BETAS=1 also turns it off. With it on, requests carry the "
    "`advanced-tool-use-2025-11-20` beta, the first request lists deferred tools by name in a system "
    "message, and a searched tool comes back as `tool_reference` blocks, its definition then sent with "
    '`defer_loading: true`. A server\'s tool can opt out of deferral with `_meta["anthropic/alwaysLoad"]` '
    'and add search words with `_meta["anthropic/searchHint"]`'
)


class ClientUnavailable(Exception):
    """A client cannot run here; the message is the one-line reason."""


@dataclass(frozen=True)
class ClaudeCode:
    binary: Path

    @classmethod
    def installed(cls, environ: Mapping[str, str] = os.environ) -> ClaudeCode:
        """The pinned binary tests/interop installed, or ClientUnavailable saying why not."""
        node_dir = node_dir_from_environment(environ)
        binary = node_dir / "node_modules" / CLAUDE_CODE / "bin" / "claude.exe"
        if not binary.is_file():
            raise ClientUnavailable(
                f"Claude Code {VERSION} is not installed in {node_dir} (set DATABASIN_INTEROP_NODE_DIR, "
                "or run tests/interop once: it installs the pinned clients)"
            )
        if binary.stat().st_size < 100_000:
            raise ClientUnavailable(f"{binary} is npm's stub, not the native binary (its postinstall did not run)")
        with tempfile.TemporaryDirectory(prefix="claude-home-") as home:
            done = Running([str(binary), "--version"], env=client_env(Path(home))).finish(60)
        if done.stdout.strip() != f"{VERSION} (Claude Code)":
            raise ClientUnavailable(f"{binary} is {done.stdout.strip() or 'not runnable'}, not the pinned {VERSION}")
        return cls(binary)

    def record(
        self,
        server: StdioServer,
        script: Script,
        *,
        tool_search: bool,
        log_path: Path | None = None,
        timeout: float = RUN_TIMEOUT,
    ) -> Session:
        """Run one headless session of `script` with `server` allowed; every request logged."""
        log = RequestLog(log_path)
        with tempfile.TemporaryDirectory(prefix="claude-home-") as home, serving(messages_api(script, log)) as url:
            project = Path(home) / "project"
            project.mkdir()
            env = client_env(
                Path(home),
                ANTHROPIC_BASE_URL=url,
                ANTHROPIC_API_KEY=STANDIN_KEY,
                **{TOOL_SEARCH: "true" if tool_search else "false"},
            )
            argv = [
                str(self.binary),
                "-p",
                PROMPT,
                "--mcp-config",
                json.dumps(server.mcp_config()),
                "--strict-mcp-config",
                # Every tool of this server may run without a prompt (-p cannot ask anyone).
                "--allowedTools",
                f"mcp__{server.name}",
                "--output-format",
                "json",
                "--no-session-persistence",
            ]
            try:
                done = Running(argv, env=env, cwd=project).finish(timeout)
            finally:
                leftovers = end_leftovers(Path(home))
        if done.returncode != 0:
            raise RuntimeError(f"claude -p exited {done.returncode}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
        return Session(MESSAGES, list(log.entries), done.stdout, done.stderr, leftovers)


def client_env(home: Path, **extra: str) -> dict[str, str]:
    """A minimal environment: nothing of the caller's (no real key, no CLAUDE_* or ANTHROPIC_* setting)."""
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(home), "LANG": "C.UTF-8", "TMPDIR": str(home)}
    return {**env, **QUIET_NODE_ENV, **extra}
