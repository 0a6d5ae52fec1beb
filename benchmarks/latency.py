"""Latency of one tool call (get_connector) over stdio and streamable HTTP, beside its two floors.

Measured side by side in one run, every series open at once and sampled round-robin in small batches,
so that the noise of a shared 2-core machine falls on all of them alike:
- the same upstream request made directly: httpx.AsyncClient (keep-alive), http.client (persistent);
- a bare MCPServer tool that does nothing, over the same transport: the SDK's own cost;
- our server as if sniffio were not installed: the before side of that fix.
The client's output-schema validation (jsonschema, in the client process) is timed apart: it is the
client's cost, not the server's. Beside wall time, the CPU time each server process (or, for the direct
requests, this process) spends per call is read from /proc: unlike wall time, it does not grow when
other work competes for the two cores.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from mcp import Client

from databasin_mcp.harness.processes import Sandbox
from databasin_mcp.harness.procfs import cpu_seconds

from .processes import BARE, OURS, OURS_WITHOUT_SNIFFIO, ServerKind, children, http_server, stdio_params
from .stats import Summary
from .tasks import FOUND_CONNECTOR_ID

TOOL, ARGUMENTS = "get_connector", {"connector_id": FOUND_CONNECTOR_ID}
PATH = f"/api/connector/{FOUND_CONNECTOR_ID}"
WARM_UP = 30

Call = Callable[[], Awaitable[Any]]


@dataclass(frozen=True)
class Probe:
    call: Call
    cpu: Callable[[], float]  # CPU seconds used so far by the process doing the measured work


# Series keys: "<transport>/<what>".
STDIO_OURS, STDIO_NO_SNIFFIO, STDIO_BARE = "stdio/ours", "stdio/ours-without-sniffio", "stdio/bare"
HTTP_OURS, HTTP_BARE = "http/ours", "http/bare"
DIRECT_HTTPX, DIRECT_HTTP_CLIENT = "direct/httpx", "direct/http.client"


@dataclass(frozen=True)
class LatencyReport:
    series: dict[str, Summary]
    cpu_ms: dict[str, float]  # CPU ms per call of the process doing each series' work
    validation_ms: dict[str, float]  # the client's output-schema check of one result, median: ours / bare

    def added(self, transport: str) -> float:
        """Median ms our server adds beyond the SDK's floor and the upstream request it makes."""
        ours, bare = self.series[f"{transport}/ours"].median, self.series[f"{transport}/bare"].median
        client_side = self.validation_ms["ours"] - self.validation_ms["bare"]
        return ours - bare - self.series[DIRECT_HTTPX].median - client_side

    def added_cpu(self, transport: str) -> float:
        """CPU ms per call our server process spends beyond the bare server's and the direct httpx request's."""
        return self.cpu_ms[f"{transport}/ours"] - self.cpu_ms[f"{transport}/bare"] - self.cpu_ms[DIRECT_HTTPX]


@dataclass(frozen=True)
class Connected:
    client: Client
    pid: int  # the server process

    def probe(self, tool: str, arguments: dict[str, Any]) -> Probe:
        async def call() -> Any:
            result = await self.client.call_tool(tool, arguments)
            if result.is_error:
                raise RuntimeError(f"{tool} failed: {result.content}")
            return result

        return Probe(call, lambda: cpu_seconds(self.pid))


async def open_mcp(stack: AsyncExitStack, kind: ServerKind, env: dict[str, str], transport: str) -> Connected:
    if transport == "stdio":
        before = children()
        client = await stack.enter_async_context(Client(stdio_params(kind, env), mode="legacy"))
        (pid,) = children() - before
    else:
        server = stack.enter_context(http_server(kind, env))
        client = await stack.enter_async_context(Client(server.url))
        pid = server.pid
    await client.list_tools()  # the client caches output schemas from this
    return Connected(client, pid)


def http_client_probe(url: str, token: str) -> tuple[Call, Callable[[], None]]:
    """GET over one persistent standard-library connection (the cheapest Python client there is)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    async def call() -> bytes:
        connection.request("GET", PATH, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"direct GET answered {response.status}")
        return body

    return call, connection.close


async def sample(probes: dict[str, Probe], rounds: int, batch: int) -> tuple[dict[str, Summary], dict[str, float]]:
    """(wall-time summaries, CPU ms per call) of every probe, sampled round-robin in batches."""
    for probe in probes.values():
        for _ in range(WARM_UP):
            await probe.call()
    samples: dict[str, list[float]] = {name: [] for name in probes}
    cpu = dict.fromkeys(probes, 0.0)
    for _ in range(rounds):
        for name, probe in probes.items():
            cpu_before = probe.cpu()
            for _ in range(batch):
                started = time.perf_counter()
                await probe.call()
                samples[name].append((time.perf_counter() - started) * 1000)
            cpu[name] += probe.cpu() - cpu_before
    calls = rounds * batch
    return {n: Summary(n, tuple(v)) for n, v in samples.items()}, {n: s * 1000 / calls for n, s in cpu.items()}


async def validation_ms(client: Client, tool: str, result: Any, repeat: int = 500) -> float:
    """Median ms of the client's own check of a result against the tool's output schema."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await client.session.validate_tool_result(tool, result)
        times.append((time.perf_counter() - started) * 1000)
    return Summary("validation", tuple(times)).median


async def measure(sandbox: Sandbox, rounds: int, batch: int) -> LatencyReport:
    env = sandbox.env()
    async with AsyncExitStack() as stack:
        ours = await open_mcp(stack, OURS, env, "stdio")
        bare = await open_mcp(stack, BARE, env, "stdio")
        probes = {
            STDIO_OURS: ours.probe(TOOL, ARGUMENTS),
            STDIO_NO_SNIFFIO: (await open_mcp(stack, OURS_WITHOUT_SNIFFIO, env, "stdio")).probe(TOOL, ARGUMENTS),
            STDIO_BARE: bare.probe("noop", {}),
            HTTP_OURS: (await open_mcp(stack, OURS, env, "http")).probe(TOOL, ARGUMENTS),
            HTTP_BARE: (await open_mcp(stack, BARE, env, "http")).probe("noop", {}),
        }
        direct = await stack.enter_async_context(
            httpx.AsyncClient(base_url=sandbox.url, headers={"Authorization": f"Bearer {sandbox.token}"})
        )
        probes[DIRECT_HTTPX] = Probe(lambda: direct.get(PATH), time.process_time)
        call, close = http_client_probe(sandbox.url, sandbox.token)
        probes[DIRECT_HTTP_CLIENT] = Probe(call, time.process_time)
        stack.callback(close)
        series, cpu = await sample(probes, rounds, batch)
        checks = {
            "ours": await validation_ms(ours.client, TOOL, await probes[STDIO_OURS].call()),
            "bare": await validation_ms(bare.client, "noop", await probes[STDIO_BARE].call()),
        }
    return LatencyReport(series, cpu, checks)
