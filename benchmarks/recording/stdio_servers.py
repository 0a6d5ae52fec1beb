"""The stdio MCP servers a client is pointed at: ours on its embedded sandbox, and the probe server."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVER_NAME = "databasin"
PROBE_NAME = "probe"


@dataclass(frozen=True)
class StdioServer:
    """A server command line, as a client config names it."""

    name: str
    command: str
    args: tuple[str, ...] = ()

    def mcp_config(self) -> dict[str, Any]:
        """The `mcpServers` document Claude Code (and Claude Desktop) read."""
        return {"mcpServers": {self.name: {"type": "stdio", "command": self.command, "args": list(self.args)}}}


def databasin_server(*, structured_output: bool = False) -> StdioServer:
    """`<venv>/bin/databasin-mcp --sandbox`: the installed command on the sandbox it starts itself.

    `structured_output` adds `--structured-output` (structuredContent beside the text, for programs).
    """
    script = Path(sys.executable).parent / "databasin-mcp"
    return StdioServer(
        SERVER_NAME, str(script), ("--sandbox", *(("--structured-output",) if structured_output else ()))
    )


def probe_server() -> StdioServer:
    return StdioServer(PROBE_NAME, sys.executable, (str(HERE / "probe_server.py"),))
