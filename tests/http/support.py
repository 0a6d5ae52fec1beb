"""Helpers for the HTTP transport tests and the load tests (processes come from tests.e2e.processes)."""

from __future__ import annotations

import fcntl
import json
import re
import socket
import struct
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult

from tests.e2e.processes import STARTUP_TIMEOUT, LineReader, Sandbox, watched_process

CALL_TIMEOUT = 30.0  # seconds: every call is bounded; a hang fails the test instead of the run
HTTP_TIMEOUT = 10.0
SIOCGIFADDR = 0x8915  # Linux ioctl: the IPv4 address of an interface


def text(result: CallToolResult) -> str:
    return result.content[0].text  # type: ignore[union-attr]


def port_of(url: str) -> int:
    match = re.match(r"http://[^/]+:(\d+)/", url)
    assert match, url
    return int(match.group(1))


def non_loopback_ipv4() -> str | None:
    """An IPv4 address of this machine that is not loopback, or None when it has none.

    Read from the interfaces themselves (no packet is sent), then from the address a UDP socket
    would use for a route out (connect() on UDP sends nothing).
    """
    found: list[str] = []
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with probe:
        for _, name in socket.if_nameindex():
            with suppress(OSError):
                packed = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
                found.append(socket.inet_ntoa(packed[20:24]))
        with suppress(OSError):
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only the routing table is consulted
            found.append(probe.getsockname()[0])
    return next((address for address in found if not address.startswith("127.") and address != "0.0.0.0"), None)


def connects(host: str, port: int) -> bool:
    """Whether a TCP connection to (host, port) is accepted; False when it is refused."""
    try:
        with socket.create_connection((host, port), timeout=HTTP_TIMEOUT):
            return True
    except ConnectionRefusedError:
        return False


def wait_for_upstream(sandbox: Sandbox, path: str, timeout: float = CALL_TIMEOUT) -> None:
    """Return once the sandbox has received a request for `path` (a server's upstream call has started).

    The request log is read until the request appears: it is the event, there is no fixed wait.
    """
    deadline = time.monotonic() + timeout
    while not any(entry["path"] == path for entry in sandbox.requests()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the sandbox received no request for {path} within {timeout} s")
        time.sleep(0.02)


def vm_kib(pid: int, field: str) -> int:
    """A memory figure of a process from /proc/<pid>/status, in KiB (VmHWM: peak RSS, VmRSS: now)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise LookupError(f"{field} not in /proc/{pid}/status")


def children_of(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


# --- MCP clients ------------------------------------------------------------------------------------


@asynccontextmanager
async def streamable_client(
    url: str, *, headers: Mapping[str, str] | None = None, mode: str = "auto"
) -> AsyncIterator[Client]:
    """The MCP SDK client over streamable HTTP, sending `headers` on every request."""
    timeout = httpx2.Timeout(CALL_TIMEOUT, read=CALL_TIMEOUT)
    async with (
        httpx2.AsyncClient(headers=dict(headers or {}), timeout=timeout) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode) as client,
    ):
        yield client


@asynccontextmanager
async def sse_session(url: str, *, headers: Mapping[str, str] | None = None) -> AsyncIterator[Client]:
    """The MCP SDK client over SSE (a handshake-era transport, so legacy mode)."""
    async with Client(sse_client(url, headers=dict(headers or {}), timeout=HTTP_TIMEOUT), mode="legacy") as client:
        yield client


def mcp_client(transport: str, url: str, *, headers: Mapping[str, str] | None = None) -> Any:
    return sse_session(url, headers=headers) if transport == "sse" else streamable_client(url, headers=headers)


async def call(client: Client, name: str, arguments: dict[str, Any]) -> CallToolResult:
    with anyio.fail_after(CALL_TIMEOUT):
        return await client.call_tool(name, arguments)


# --- raw JSON-RPC over HTTP -----------------------------------------------------------------------

MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def initialize_request(request_id: int = 1, *, padding: str = "") -> dict[str, Any]:
    """A handshake-era initialize request; `padding` makes its body as large as a test needs."""
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": f"tests{padding}", "version": "1"},
        },
    }


async def first_sse_data(response: Any) -> dict[str, Any]:
    """The first `data:` of an SSE response (httpx, streamed), as JSON."""
    async for line in response.aiter_lines():
        if line.startswith("data: "):
            return json.loads(line.removeprefix("data: "))  # type: ignore[no-any-return]
    raise AssertionError("the SSE response ended without data")


# --- uvicorn with several workers --------------------------------------------------------------------


@dataclass
class Workers:
    url: str
    process: subprocess.Popen[str]
    output: LineReader

    def worker_pids(self) -> list[int]:
        """The worker processes (not multiprocessing's resource tracker)."""
        return [
            pid for pid in children_of(self.process.pid) if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]


def free_port() -> int:
    """A port free on 127.0.0.1 right now (uvicorn --workers binds it itself)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def uvicorn_workers(env: Mapping[str, str], workers: int, *args: str) -> Iterator[Workers]:
    """`uvicorn --factory databasin_mcp.serving:app_from_environment --workers N`, ready when every worker is.

    Its own process group, so that workers left behind by a parent that failed to stop them are ended too.
    """
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "databasin_mcp.serving:app_from_environment"]
    command += ["--workers", str(workers), "--host", "127.0.0.1", "--port", str(port), *args]
    with watched_process(command, env, own_group=True) as (process, output):
        output.wait_for(rf"Uvicorn running on http://127\.0\.0\.1:{port}\b")
        for _ in range(workers):
            output.wait_for(r"Application startup complete", timeout=STARTUP_TIMEOUT)
        yield Workers(url=f"http://127.0.0.1:{port}/mcp", process=process, output=output)
