"""The real databasin-mcp process against a real sandbox process, over stdio, streamable HTTP and SSE."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.client.sse import sse_client

from databasin_mcp.harness.processes import Sandbox, http_server, stdio_server
from databasin_mcp.harness.results import call, created_id, text
from databasin_mcp.sandbox.seed import BIG_CATALOG, BIG_CONNECTOR_ID, BIG_SCHEMA, PROJECT_95, WIDE_TABLE

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]


@asynccontextmanager
async def connect(sandbox: Sandbox, transport: str, *args: str, **settings: str) -> AsyncIterator[Client]:
    """An MCP client session with a fresh databasin-mcp process on `transport`."""
    env = sandbox.env(DATABASIN_RETRY_BACKOFF="0.05", **settings)
    if transport == "stdio":
        async with Client(stdio_server(env, *args), mode="legacy") as client:
            yield client
        return
    with http_server(env, transport, *args) as server:
        if transport == "sse":
            async with Client(sse_client(server.url), mode="legacy") as client:
                yield client
        else:
            async with Client(server.url) as client:
                yield client


TRANSPORTS = [
    pytest.param(("stdio",), id="stdio"),
    pytest.param(("streamable-http",), id="streamable-http"),
    pytest.param(("streamable-http", "--stateless"), id="streamable-http-stateless"),
    pytest.param(("sse",), id="sse"),
]


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_create_update_test_delete_round_trip(
    sandbox: Sandbox, transport: tuple[str, ...], tmp_path: Path
) -> None:
    name = f"E2E {'-'.join(transport)} Postgres"
    log_file = tmp_path / "server.log"
    async with connect(sandbox, *transport, DATABASIN_LOG_FILE=str(log_file), DATABASIN_LOG_FORMAT="json") as client:
        created = await call(
            client,
            "create_connector",
            {
                "name": name,
                "connector_type": "RDBMS",
                "institution_id": 3,
                "project_id": PROJECT_95,
                "host": "pg.e2e.local",
                "port": 5432,
                "username": "svc",
                "test": True,
            },
        )
        assert not created.is_error, text(created)
        connector_id = created_id(text(created))
        created_line, tested_line = text(created).splitlines()
        assert created_line == f"Created connector {connector_id} {name!r} (RDBMS) in {PROJECT_95}."
        assert tested_line.startswith(f"Connector {connector_id} test passed: Connection test successful in ")

        renamed = await call(client, "update_connector", {"connector_id": connector_id, "name": f"{name} v2"})
        assert text(renamed).splitlines()[1] == f"connectorName: {name} → {name} v2"

        tested = await call(client, "test_connector", {"connector_id": connector_id})
        assert text(tested).startswith(f"Connector {connector_id} test passed")

        unconfirmed = await call(client, "delete_connector", {"connector_id": connector_id})
        assert text(unconfirmed).startswith("Not deleted: confirm is false.")
        deleted = await call(client, "delete_connector", {"connector_id": connector_id, "confirm": True})
        assert text(deleted).startswith(f"Deleted connector {connector_id} '{name} v2'")

        gone = await call(client, "get_connector", {"connector_id": connector_id})
        assert gone.is_error
        assert text(gone).startswith(f"Connector {connector_id} not found.")

    log = sandbox.requests()
    writes = [(r["method"], r["path"]) for r in log if r["path"].startswith(f"/api/connector/{connector_id}")]
    assert writes.count(("DELETE", f"/api/connector/{connector_id}")) == 1
    assert writes.count(("PUT", f"/api/connector/{connector_id}")) == 1

    # One audit line for each write, in the log file (the server has stopped: everything is written).
    written = log_file.read_text(encoding="utf-8")
    entries = [json.loads(line) for line in written.splitlines()]
    audit = [entry["audit"] for entry in entries if entry["logger"] == "databasin_mcp.audit"]
    assert [(a["tool"], a["outcome"], a.get("reason"), a.get("connector_id")) for a in audit] == [
        ("create_connector", "ok", None, connector_id),
        ("update_connector", "ok", None, connector_id),
        ("delete_connector", "no_change", "not_confirmed", connector_id),
        ("delete_connector", "ok", None, connector_id),
    ]
    assert {a["project"] for a in audit} == {PROJECT_95}
    assert [a["connector_name"] for a in audit] == [name, name, f"{name} v2", f"{name} v2"]
    assert all(a["client"].startswith("mcp/") for a in audit)
    if transport[0] != "stdio":
        assert {a["peer"] for a in audit} == {"127.0.0.1"}
    if transport == ("sse",):
        assert len({a["session"] for a in audit}) == 1  # one session, named by a digest of its ID
    assert "e2e-pa55word" not in written
    assert sandbox.token not in written


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_the_agent_tasks_answer_in_one_call(sandbox: Sandbox, transport: tuple[str, ...]) -> None:
    async with connect(sandbox, *transport) as client:
        projects = await call(client, "list_projects", {})
        assert text(projects).startswith("12 projects with ")

        listed = await call(client, "list_connectors", {"project_id": PROJECT_95})
        assert text(listed).startswith(f"95 connectors in {PROJECT_95}, showing 1–25 (")

        found = await call(client, "find_connectors", {"query": "zurich"})
        assert "311,Zürich Finance,Snowflake,proj-009" in text(found)

        one = await call(client, "get_connector", {"connector_id": BIG_CONNECTOR_ID})
        assert text(one).splitlines()[1] == "connectorName: Enterprise Snowflake Warehouse"

        tables = await call(
            client, "list_tables", {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA}
        )
        assert text(tables).startswith(
            f"1,500 tables in connector {BIG_CONNECTOR_ID}, {BIG_CATALOG}.{BIG_SCHEMA}, showing 1–50; next: offset=50"
        )

        columns = await call(
            client,
            "list_columns",
            {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA, "table": WIDE_TABLE},
        )
        assert text(columns).startswith(f"250 columns of {BIG_CATALOG}.{BIG_SCHEMA}.{WIDE_TABLE}")


async def test_a_transient_5xx_is_retried_away(sandbox: Sandbox) -> None:
    async with connect(sandbox, "stdio") as client:
        sandbox.script_faults([{"status": 503}, {"status": 500}], path=f"/api/connector/{BIG_CONNECTOR_ID}")
        result = await call(client, "get_connector", {"connector_id": BIG_CONNECTOR_ID})

    assert not result.is_error, text(result)
    gets = [r for r in sandbox.requests() if r["path"] == f"/api/connector/{BIG_CONNECTOR_ID}"]
    assert len(gets) >= 3


async def test_a_429_burst_is_waited_out(sandbox: Sandbox) -> None:
    async with connect(sandbox, "stdio") as client:
        sandbox.script_faults([{"status": 429, "retry_after": 1}], path="/api/connector/104")
        started = anyio.current_time()
        result = await call(client, "get_connector", {"connector_id": 104})
        waited = anyio.current_time() - started

    assert text(result).splitlines()[1] == "connectorName: Café Orders"
    assert waited >= 1.0  # it honoured Retry-After instead of hammering the API


async def test_a_non_json_502_gives_a_clear_error(sandbox: Sandbox) -> None:
    async with connect(sandbox, "stdio") as client:
        sandbox.script_faults([{"kind": "html", "status": 502}] * 3, path="/api/connector/105")
        result = await call(client, "get_connector", {"connector_id": 105})
        after = await call(client, "get_connector", {"connector_id": 105})

    assert result.is_error
    assert text(result) == (
        "Databasin API error 502 Bad Gateway (not a JSON body): 502 Bad Gateway. Try again; "
        "if it keeps failing, the Databasin API is having trouble."
    )
    assert not after.is_error  # the server is still there for the next call
