"""The MCP Inspector CLI (a 2025-11-25 handshake client) against the real server: stdio, streamable HTTP, SSE."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from databasin_mcp.harness.children import run_all
from databasin_mcp.harness.node import NodeTools, node_env
from databasin_mcp.harness.processes import Sandbox, http_server
from databasin_mcp.sandbox.seed import BIG_CATALOG, BIG_CONNECTOR_ID, BIG_SCHEMA, PROJECT_95

from .nodetools import ROOT
from .servers import SERVER_SCRIPT

pytestmark = pytest.mark.e2e

CALL_TIMEOUT = 120.0  # seconds per Inspector run; five run at once on a shared 2-core machine
SNAPSHOT = json.loads((ROOT / "tests" / "snapshots" / "tools.json").read_text(encoding="utf-8"))


def tool_call(name: str, *arguments: str) -> list[str]:
    return ["--method", "tools/call", "--tool-name", name, *(["--tool-arg", *arguments] if arguments else [])]


CALLS = {
    "tools/list": ["--method", "tools/list"],
    "list_projects": tool_call("list_projects"),
    "list_connectors": tool_call("list_connectors", f"project_id={PROJECT_95}"),
    "get_connector": tool_call("get_connector", f"connector_id={BIG_CONNECTOR_ID}"),
    "list_tables": tool_call(
        "list_tables", f"connector_id={BIG_CONNECTOR_ID}", f"catalog={BIG_CATALOG}", f"schema={BIG_SCHEMA}"
    ),
}


@dataclass
class Target:
    """How the Inspector reaches the server: arguments before the method, and after it."""

    before: list[str]
    after: list[str] = field(default_factory=list)


@pytest.fixture(params=["stdio", "streamable-http", "sse"])
def target(request: pytest.FixtureRequest, sandbox: Sandbox) -> Iterator[Target]:
    transport: str = request.param
    if transport == "stdio":
        # The Inspector starts `databasin-mcp` itself, with only the environment given by -e.
        settings = {"DATABASIN_API_URL": sandbox.url, "DATABASIN_TOKEN": sandbox.token}
        yield Target(
            before=[arg for k, v in settings.items() for arg in ("-e", f"{k}={v}")], after=["--", SERVER_SCRIPT]
        )
        return
    with http_server(sandbox.env(), transport) as server:
        yield Target(before=[server.url])  # the Inspector picks http for /mcp and sse for /sse


def text_of(result: dict[str, Any]) -> list[str]:
    assert result["isError"] is False, result
    assert [item["type"] for item in result["content"]] == ["text"]
    return str(result["content"][0]["text"]).splitlines()


def test_the_inspector_sees_the_whole_contract_and_the_expected_answers(
    node_tools: NodeTools, target: Target, home: Path
) -> None:
    commands = {name: node_tools.inspector(*target.before, *call, *target.after) for name, call in CALLS.items()}
    runs = run_all(commands, env=node_env(home), timeout=CALL_TIMEOUT)
    for name, run in runs.items():
        assert run.returncode == 0, f"{name}: exit {run.returncode}\n{run.stdout}\n{run.stderr}"
    results = {name: json.loads(run.stdout) for name, run in runs.items()}

    # tools/list: all 13 tools, exactly as pinned (names, descriptions, input and output schemas, annotations).
    assert [tool["name"] for tool in results["tools/list"]["tools"]] == [tool["name"] for tool in SNAPSHOT]
    assert results["tools/list"]["tools"] == SNAPSHOT

    projects = text_of(results["list_projects"])
    assert projects[:2] == ["12 projects with 434 connectors", "project_id,institution_id,connectors,types"]
    assert (
        "proj-007,3,95,RDBMS:27 Snowflake:15 S3:13 Salesforce:8 MongoDB:8 Redshift:7 Databricks:6 REST:5 SFTP:4 "
        "BigQuery:2" in projects
    )
    assert len(projects) == 2 + 12

    connectors = text_of(results["list_connectors"])
    assert connectors[:3] == [
        f"95 connectors in {PROJECT_95}, showing 1–25 (7 inactive, on this page: 110, 125, 133); next: offset=25",
        "connectorID,connectorName,connectorType",
        "103,Marketing PostgreSQL,RDBMS",
    ]
    assert f"{BIG_CONNECTOR_ID},Enterprise Snowflake Warehouse,Snowflake" in connectors
    assert "160,東京 Warehouse,Redshift" in connectors  # UTF-8 intact through the Node client
    assert len(connectors) == 2 + 25
    # Structured output is off by default (issue 13): the text above is all a client gets, and all it needs.
    assert "structuredContent" not in results["list_connectors"]

    connector = text_of(results["get_connector"])
    assert connector[:3] == [
        f"connectorID: {BIG_CONNECTOR_ID}",
        "connectorName: Enterprise Snowflake Warehouse",
        "connectorType: Snowflake",
    ]
    assert f"internalID: {PROJECT_95}" in connector
    assert "structuredContent" not in results["get_connector"]

    tables = text_of(results["list_tables"])
    assert tables[:3] == [
        f"1,500 tables in connector {BIG_CONNECTOR_ID}, {BIG_CATALOG}.{BIG_SCHEMA}, showing 1–50; next: offset=50",
        "tableName,tableType,rowCount",
        "accounts,TABLE,2302083",
    ]
    assert len(tables) == 2 + 50
    assert "structuredContent" not in results["list_tables"]
