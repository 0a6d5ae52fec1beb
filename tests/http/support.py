"""Helpers for the HTTP transport tests and the load tests (processes come from databasin_mcp.harness)."""

from __future__ import annotations

import fcntl
import json
import re
import socket
import struct
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from typing import Any

import httpx2
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from databasin_mcp.harness.processes import Sandbox
from databasin_mcp.harness.results import CALL_TIMEOUT

HTTP_TIMEOUT = 10.0
SIOCGIFADDR = 0x8915  # Linux ioctl: the IPv4 address of an interface


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
