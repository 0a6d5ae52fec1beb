"""The servers the benchmarks compare, as real processes.

Started with databasin_mcp.harness (as the tests start theirs): free loopback ports, readiness read
from the line a process prints (no sleeps), and a stop that always reaps.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mcp.client.stdio import StdioServerParameters

from databasin_mcp.harness.processes import watched_process
from databasin_mcp.harness.procfs import children_of

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ServerKind:
    """How to start one kind of MCP server: `python <argv>` for stdio, plus `http_args` for HTTP."""

    label: str
    argv: tuple[str, ...]
    http_args: tuple[str, ...]


OURS = ServerKind("databasin-mcp", ("-m", "databasin_mcp"), ("--transport", "streamable-http", "--port", "0"))
# The same server as if sniffio were not installed (the state before the fix).
OURS_WITHOUT_SNIFFIO = ServerKind(
    "databasin-mcp without sniffio", ("-m", "benchmarks.without", "sniffio", "databasin_mcp"), OURS.http_args
)
# The same server without rich and pygments, which this venv has only for dev tools (inline-snapshot,
# pytest): with them installed, `import httpx` also imports httpx's optional command line; a user install does not.
OURS_WITHOUT_RICH = ServerKind(
    "databasin-mcp without rich/pygments",
    ("-m", "benchmarks.without", "rich,pygments", "databasin_mcp"),
    OURS.http_args,
)
BARE = ServerKind("bare MCPServer", ("-m", "benchmarks.bare_server"), ("streamable-http",))


def stdio_params(kind: ServerKind, env: Mapping[str, str]) -> StdioServerParameters:
    """Parameters for the SDK's stdio client, which then owns (starts and stops) the process."""
    return StdioServerParameters(command=sys.executable, args=list(kind.argv), env=dict(env), cwd=ROOT)


@dataclass(frozen=True)
class HttpServer:
    url: str
    pid: int


@contextmanager
def http_server(kind: ServerKind, env: Mapping[str, str]) -> Iterator[HttpServer]:
    """The server on streamable HTTP on a free port; ready once it prints where it listens."""
    with watched_process([sys.executable, *kind.argv, *kind.http_args], env, cwd=ROOT) as (process, output):
        url = output.wait_for(r"streamable-http on (\S+)").group(1)
        yield HttpServer(url, process.pid)


def children() -> set[int]:
    """PIDs of this process's children (the stdio servers the SDK's client started)."""
    return set(children_of(os.getpid()))
