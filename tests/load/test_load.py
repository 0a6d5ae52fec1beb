"""Many MCP clients at once against the real server over streamable HTTP, one process or several workers.

Every call is checked against the sandbox's seed data; the sandbox counts the upstream requests it answers at
once (GET /_sandbox/stats), which must stay within DATABASIN_MAX_CONCURRENCY per server process and reach it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from mcp_types import CallToolResult

from databasin_mcp.harness.processes import Sandbox, http_server, sandbox_process, uvicorn_workers
from databasin_mcp.harness.procfs import vm_kib
from databasin_mcp.harness.results import call, text
from databasin_mcp.sandbox.metadata import ConnectorMetadata
from databasin_mcp.sandbox.seed import BIG_CATALOG, BIG_CONNECTOR_ID, BIG_SCHEMA, PROJECT_SIZES, seed_connectors
from tests.http.support import streamable_client, wait_for_upstream

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

# Every answer under load is checked against the data it should hold: structured output on, so it can be read.
CHECKED = {"DATABASIN_STRUCTURED_OUTPUT": "1"}

CLIENTS = 20
CALLS_PER_CLIENT = 10
LATENCY_MS = 50
LOAD_TIMEOUT = 120.0  # seconds for one whole load run; it takes a few
DEFAULT_MAX_CONCURRENCY = 8
RUNS = 3  # of 200 calls each, on one server process: the later runs must not raise the peak memory much
SEED = 7  # the sandbox's default seed

CONNECTORS = {record["connectorID"]: record for record in seed_connectors(SEED)}
CONNECTOR_IDS = sorted(CONNECTORS)
PROJECTS = sorted(PROJECT_SIZES)
METADATA = ConnectorMetadata(SEED)


@dataclass(frozen=True)
class PlannedCall:
    tool: str
    arguments: dict[str, Any]
    check: Callable[[CallToolResult], None]


def planned_call(n: int) -> PlannedCall:
    """Call number `n` of a load run: mixed tools, most of them needing their own upstream request."""
    kind = n % 5
    if kind in (0, 1):
        connector_id = CONNECTOR_IDS[(n * 7) % len(CONNECTOR_IDS)]
        record = CONNECTORS[connector_id]

        def check_connector(result: CallToolResult) -> None:
            assert result.structured_content is not None
            shown = result.structured_content["connector"]
            assert (shown["connectorID"], shown["connectorName"]) == (connector_id, record["connectorName"])
            assert text(result).splitlines()[1] == f"connectorName: {record['connectorName']}"

        return PlannedCall("get_connector", {"connector_id": connector_id}, check_connector)
    if kind == 2:
        connector_id = CONNECTOR_IDS[(n * 11 + 3) % len(CONNECTOR_IDS)]
        catalogs = [item["catalogName"] for item in METADATA.catalogs(connector_id)]

        def check_catalogs(result: CallToolResult) -> None:
            assert result.structured_content is not None
            assert result.structured_content["total"] == len(catalogs)
            rows = text(result).splitlines()[2:]
            assert [row.split(",")[0] for row in rows] == sorted(catalogs)

        return PlannedCall("list_catalogs", {"connector_id": connector_id}, check_catalogs)
    if kind == 3:
        project = PROJECTS[n % len(PROJECTS)]
        size = PROJECT_SIZES[project]

        def check_project(result: CallToolResult) -> None:
            assert result.structured_content is not None
            assert result.structured_content["total"] == size
            assert text(result).startswith(f"{size} connectors in {project}")

        return PlannedCall("list_connectors", {"project_id": project}, check_project)
    offset = 50 * (n % 30)

    def check_tables(result: CallToolResult) -> None:
        assert result.structured_content is not None
        assert (result.structured_content["total"], result.structured_content["offset"]) == (1500, offset)
        assert f"showing {offset + 1:,}–{offset + 50:,}" in text(result).splitlines()[0]

    arguments = {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA, "offset": offset}
    return PlannedCall("list_tables", arguments, check_tables)


@dataclass
class LoadRun:
    calls: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    max_in_flight: int = 0

    @property
    def throughput(self) -> float:
        return self.calls / self.seconds


async def run_load(url: str, sandbox: Sandbox, *, clients: int = CLIENTS, mode: str = "auto") -> LoadRun:
    """`clients` MCP clients connect, then all send their CALLS_PER_CLIENT calls at once; every answer is checked."""
    run = LoadRun()
    connected = 0
    everyone_connected = anyio.Event()
    go = anyio.Event()

    async def one_call(client: Any, planned: PlannedCall) -> None:
        try:
            result = await call(client, planned.tool, planned.arguments)
            assert not result.is_error, text(result)
            planned.check(result)
        except Exception as error:
            run.failures.append(f"{planned.tool}({planned.arguments}): {error!r}")
        else:
            run.calls += 1

    async def one_client(first: int) -> None:
        nonlocal connected
        async with streamable_client(url, mode=mode) as client:
            connected += 1
            if connected == clients:
                everyone_connected.set()
            await go.wait()
            async with anyio.create_task_group() as calls:
                for n in range(first, first + CALLS_PER_CLIENT):
                    calls.start_soon(one_call, client, planned_call(n))

    with anyio.fail_after(LOAD_TIMEOUT):
        async with anyio.create_task_group() as everyone:
            for index in range(clients):
                everyone.start_soon(one_client, index * CALLS_PER_CLIENT)
            await everyone_connected.wait()
            await anyio.to_thread.run_sync(sandbox.admin, "DELETE", "/_sandbox/stats")
            started = time.perf_counter()
            go.set()
        run.seconds = time.perf_counter() - started
    stats = await anyio.to_thread.run_sync(sandbox.admin, "GET", "/_sandbox/stats")
    run.max_in_flight = stats["max_in_flight"]
    return run


def report(label: str, run: LoadRun, **figures: Any) -> None:
    extra = "".join(f", {name} {value}" for name, value in figures.items())
    print(
        f"\n{label}: {run.calls} calls in {run.seconds:.2f} s = {run.throughput:.0f} calls/s, "
        f"max upstream in flight {run.max_in_flight}{extra}"
    )


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox with 50 ms of latency on every API request and no rate limit (the load is the point)."""
    with sandbox_process("--latency-ms", str(LATENCY_MS), "--rate-limit", "0") as running:
        yield running


async def test_200_calls_from_20_clients_are_all_answered_with_bounded_upstream_concurrency(sandbox: Sandbox) -> None:
    runs: list[LoadRun] = []
    peaks: list[int] = []  # VmHWM, KiB: before the first run, then after each
    with http_server(sandbox.env(**CHECKED), "streamable-http") as server:
        pid = server.process.pid
        async with streamable_client(server.url) as warm_up:
            assert not (await call(warm_up, "get_connector", {"connector_id": 104})).is_error
        peaks.append(vm_kib(pid, "VmHWM"))
        for _ in range(RUNS):
            runs.append(await run_load(server.url, sandbox))
            peaks.append(vm_kib(pid, "VmHWM"))
        rss_after = vm_kib(pid, "VmRSS")

    for run in runs:
        assert run.failures == []
        assert run.calls == CLIENTS * CALLS_PER_CLIENT
        # Bounded by DATABASIN_MAX_CONCURRENCY (default 8), and the load is enough to reach the bound.
        assert run.max_in_flight == DEFAULT_MAX_CONCURRENCY
    # Flat memory: after the first 200 calls, 400 more raise the peak by a few MiB at most (measured 1-10 MiB: the
    # peak depends on how many calls the server holds at once, which the machine's load decides). A leak of 40 KB
    # per call would add 16 MiB.
    assert peaks[-1] - peaks[1] < 16 * 1024, peaks
    for number, run in enumerate(runs, 1):
        report(f"1 process, run {number}", run)
    figures = ", ".join(f"{peak / 1024:.1f}" for peak in peaks)
    print(
        f"server peak RSS (VmHWM) before and after each run: {figures} MiB; RSS at the end {rss_after / 1024:.1f} MiB"
    )


async def test_a_slow_upstream_does_not_hold_up_other_calls() -> None:
    slow_connector = 104
    slow_path = f"/api/connector/{slow_connector}"
    # A sandbox of its own: the stuck request stays in flight there for a minute, whatever the server does.
    with (
        sandbox_process("--latency-ms", str(LATENCY_MS), "--rate-limit", "0") as sandbox,
        http_server(sandbox.env(**CHECKED), "streamable-http") as server,
    ):
        sandbox.script_faults([{"kind": "delay", "seconds": 60}], path=slow_path)
        async with anyio.create_task_group() as background, streamable_client(server.url) as slow_client:
            slow_done = anyio.Event()

            async def slow_call() -> None:
                await slow_client.call_tool("get_connector", {"connector_id": slow_connector})
                slow_done.set()

            background.start_soon(slow_call)
            await anyio.to_thread.run_sync(wait_for_upstream, sandbox, slow_path)

            started = time.perf_counter()
            others = await run_load(server.url, sandbox, clients=5)
            took = time.perf_counter() - started

            assert others.failures == []
            assert others.calls == 5 * CALLS_PER_CLIENT
            assert not slow_done.is_set()  # still waiting on the API, and the others were answered meanwhile
            assert others.max_in_flight <= DEFAULT_MAX_CONCURRENCY  # the stuck request included
            assert took < 10, f"{took:.1f} s"
            background.cancel_scope.cancel()
    report("beside a call stuck upstream", others)


async def test_two_stateless_workers_behind_one_port_under_load(sandbox: Sandbox) -> None:
    per_worker = 3
    env = sandbox.env(**CHECKED, DATABASIN_MCP_STATELESS="1", DATABASIN_MAX_CONCURRENCY=str(per_worker))
    with uvicorn_workers(env, 2) as workers:
        worker_pids = workers.worker_pids()
        assert len(worker_pids) == 2
        modern = await run_load(workers.url, sandbox)
        legacy = await run_load(workers.url, sandbox, clients=5, mode="legacy")
        peaks = [vm_kib(pid, "VmHWM") / 1024 for pid in worker_pids]
        assert "Traceback" not in workers.output.text()

    assert modern.failures == []
    assert modern.calls == CLIENTS * CALLS_PER_CLIENT
    # Each worker bounds its own upstream requests; more than one worker's bound proves both were busy at once.
    assert per_worker < modern.max_in_flight <= 2 * per_worker
    assert legacy.failures == []
    assert legacy.calls == 5 * CALLS_PER_CLIENT
    report("2 stateless workers", modern, **{"peak RSS per worker": " / ".join(f"{p:.1f} MiB" for p in peaks)})
    report("2 stateless workers, legacy-mode clients", legacy)
