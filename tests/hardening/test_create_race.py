"""Two same-name creates in flight make one connector (issue 12, finding 3), end to end.

The real server over stdio against the sandbox with 500 ms of latency on every /api request: two
tools/call for the same create written back to back (what parallel tool calls, or a client that retries
on its own timeout, send). Before the fix both duplicate checks ran before either POST was answered,
and two connectors of that name were made.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import anyio
import pytest
from mcp_types import CallToolResult

from databasin_mcp.harness.processes import sandbox_process
from databasin_mcp.harness.results import call, text

from .support import SandboxApi, stdio_session

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

PROJECT = "proj-012"  # institution 4
NAME = "Race Orders"


async def test_two_same_name_creates_written_back_to_back_over_stdio_make_one_connector(tmp_path: Path) -> None:
    create = {"name": NAME, "connector_type": "RDBMS", "institution_id": 4, "project_id": PROJECT}
    results: list[CallToolResult] = []
    with sandbox_process("--latency-ms", "500") as sandbox:
        api = SandboxApi(sandbox)
        async with stdio_session(sandbox.env(), tmp_path / "server.log") as client:
            await client.list_tools()
            start = len(sandbox.requests())

            async def create_once() -> None:
                results.append(await call(client, "create_connector", create))

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(create_once)
                tasks.start_soon(create_once)

        created = api.named(NAME, PROJECT)
        sent = Counter((r["method"], r["path"]) for r in sandbox.requests()[start:])

    assert len(created) == 1
    assert sent[("POST", "/api/connector")] == 1
    new_id = created[0]["connectorID"]
    assert sorted(text(result) for result in results) == [
        f"Created connector {new_id} 'Race Orders' (RDBMS) in {PROJECT}.",
        f"Not created: the same create was already in flight and created connector {new_id} 'Race Orders' in "
        f"{PROJECT}. Use it (get_connector(connector_id={new_id})), or pass allow_duplicate=true to create another.",
    ]
