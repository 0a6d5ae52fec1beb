"""Memory and scale: the server's RSS over the task set and while serving a 20,000-table listing,
with the listing cache at its default (60 s) and off; then 50 concurrent tool calls over streamable HTTP.

RSS is read from /proc (VmRSS now, VmHWM = the peak since start) of the real server process.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio
from mcp import Client

from databasin_mcp.harness.processes import Sandbox
from databasin_mcp.harness.procfs import Memory, memory
from databasin_mcp.sandbox.seed import BIG_CATALOG, BIG_CONNECTOR_ID, HUGE_SCHEMA, PROJECT_95

from .processes import OURS, children, http_server, stdio_params
from .stats import Summary
from .tasks import AgentSession, listing_total, run_tasks, text_of

HUGE_TABLES = 20_000
HUGE_CALL = {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": HUGE_SCHEMA}
# First page, next page, last page, and the largest page a call can ask for (500 rows of every field).
HUGE_PAGES: tuple[dict[str, Any], ...] = (
    {"offset": 0},
    {"offset": 50},
    {"offset": HUGE_TABLES - 50},
    {"limit": 500, "fields": ["*"]},
)
CONCURRENT_CALLS = 50


@dataclass(frozen=True)
class ScaleRun:
    """One server process: after the task set, then after the 20,000-table listing (HUGE_PAGES)."""

    cache_ttl: str
    after_tasks: Memory
    after_huge: Memory
    huge_total: int  # rows the listing said it had
    huge_chars: int  # longest answer text of the pages (the cap is 20,000)
    page_ms: tuple[float, ...]  # wall time of each page call (the first one fetches all 20,000 rows)

    @property
    def peak_ratio(self) -> float:
        return self.after_huge.peak_mb / self.after_tasks.peak_mb


@dataclass(frozen=True)
class ConcurrencyRun:
    calls: int
    answered: int
    rounds: tuple[float, ...]  # wall seconds of each round of `calls` concurrent calls
    peak: Memory

    @property
    def throughput(self) -> float:
        """Calls per second, median over the rounds."""
        return self.calls / Summary("round", self.rounds).median


@dataclass(frozen=True)
class MemoryReport:
    scale: list[ScaleRun]
    concurrency: ConcurrencyRun


async def scale_run(sandbox: Sandbox, cache_ttl: str | None) -> ScaleRun:
    env = sandbox.env(**({"DATABASIN_CACHE_TTL": cache_ttl} if cache_ttl is not None else {}))
    before = children()
    async with Client(stdio_params(OURS, env), mode="legacy") as client:
        (pid,) = children() - before
        await run_tasks(AgentSession(client))
        after_tasks = memory(pid)
        pages, page_ms = [], []
        for page in HUGE_PAGES:
            started = time.perf_counter()
            pages.append(await client.call_tool("list_tables", {**HUGE_CALL, **page}))
            page_ms.append((time.perf_counter() - started) * 1000)
        after_huge = memory(pid)
    assert not any(page.is_error for page in pages)
    return ScaleRun(
        cache_ttl=cache_ttl or "60 (default)",
        after_tasks=after_tasks,
        after_huge=after_huge,
        huge_total=listing_total(text_of(pages[0])),
        huge_chars=max(len(getattr(page.content[0], "text", "")) for page in pages),
        page_ms=tuple(page_ms),
    )


def concurrent_calls(count: int) -> list[tuple[str, dict[str, Any]]]:
    """A mixed load: mostly single connectors (each a distinct upstream request), some listings."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for index in range(count):
        if index % 10 == 9:
            calls.append(("list_connectors", {"project_id": PROJECT_95, "offset": index}))
        else:
            calls.append(("get_connector", {"connector_id": 101 + index}))
    return calls


async def concurrency_run(env: Mapping[str, str], rounds: int) -> ConcurrencyRun:
    answered = 0
    walls: list[float] = []
    with http_server(OURS, env) as server:
        async with Client(server.url) as client:
            await client.list_tools()
            for _ in range(rounds):
                results: list[bool] = []

                async def call(tool: str, arguments: dict[str, Any], into: list[bool] = results) -> None:
                    into.append(not (await client.call_tool(tool, arguments)).is_error)

                started = time.perf_counter()
                async with anyio.create_task_group() as group:
                    for tool, arguments in concurrent_calls(CONCURRENT_CALLS):
                        group.start_soon(call, tool, arguments)
                walls.append(time.perf_counter() - started)
                answered = min(answered or CONCURRENT_CALLS, sum(results))
            peak = memory(server.pid)
    return ConcurrencyRun(CONCURRENT_CALLS, answered, tuple(walls), peak)


async def measure(huge_sandbox: Sandbox, rounds: int) -> MemoryReport:
    scale = [await scale_run(huge_sandbox, None), await scale_run(huge_sandbox, "0")]
    return MemoryReport(scale, await concurrency_run(huge_sandbox.env(), rounds))
