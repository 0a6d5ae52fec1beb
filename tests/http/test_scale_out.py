"""Several stateless worker processes behind one port (uvicorn --workers with the app factory).

The load on two workers is in tests/load; here, that clients of both protocol eras work when every request may
land on another worker, and that the workers end with their parent.
"""

from __future__ import annotations

import signal
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from databasin_mcp.harness.processes import Sandbox, uvicorn_workers
from databasin_mcp.harness.results import call, text
from databasin_mcp.sandbox.seed import seed_connectors
from databasin_mcp.specs import TOOL_NAMES

from .support import HTTP_TIMEOUT

pytestmark = pytest.mark.e2e

NAMES = {record["connectorID"]: record["connectorName"] for record in seed_connectors(7)}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("mode", "protocol"), [("auto", "2026-07-28"), ("legacy", "2025-11-25")], ids=["modern", "legacy"]
)
async def test_clients_work_when_each_request_may_reach_another_worker(
    sandbox: Sandbox, mode: str, protocol: str
) -> None:
    with uvicorn_workers(sandbox.env(DATABASIN_MCP_STATELESS="1"), 2) as workers:
        assert len(workers.worker_pids()) == 2
        # No keep-alive: every request opens a connection, which either worker may accept. A legacy client's
        # handshake and its calls are spread over both, so nothing may live in one worker's memory.
        no_keep_alive = httpx2.Limits(max_keepalive_connections=0)
        async with (
            httpx2.AsyncClient(limits=no_keep_alive, timeout=HTTP_TIMEOUT) as http,
            Client(streamable_http_client(workers.url, http_client=http), mode=mode) as client,
        ):
            assert client.session.protocol_version == protocol
            tools = await client.list_tools()
            answers = {}
            for connector_id in range(101, 121):
                answers[connector_id] = text(await call(client, "get_connector", {"connector_id": connector_id}))
        listed = sorted(tool.name for tool in tools.tools)
        log = workers.output.text()

    assert len(listed) == len(TOOL_NAMES)
    for connector_id, answer in answers.items():
        assert answer.splitlines()[1] == f"connectorName: {NAMES[connector_id]}"
    assert "Traceback" not in log


def test_sigterm_to_the_parent_ends_every_worker(sandbox: Sandbox) -> None:
    with uvicorn_workers(sandbox.env(DATABASIN_MCP_STATELESS="1"), 2) as workers:
        worker_pids = workers.worker_pids()
        workers.process.send_signal(signal.SIGTERM)
        code = workers.process.wait(timeout=10)
        workers.output.join()  # all of the output, up to its end
        log = workers.output.text()

    assert code == 0
    assert [pid for pid in worker_pids if Path(f"/proc/{pid}").exists()] == []
    assert log.count("Finished server process") == 2
    assert "Traceback" not in log
