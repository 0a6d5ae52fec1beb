"""The Python SDK in both protocol generations: the 2025-11-25 handshake (mode="legacy") and the stateless
2026-07-28 protocol (the default mode, which discovers it), over stdio and streamable HTTP (with and without
sessions). The same calls must give the same answers, byte for byte."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client

from databasin_mcp.harness.processes import Sandbox, http_server, stdio_server
from databasin_mcp.sandbox.seed import BIG_CONNECTOR_ID, PROJECT_95

from .nodetools import ROOT

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

CALL_TIMEOUT = 60  # seconds: every call is bounded
SNAPSHOT = json.loads((ROOT / "tests" / "snapshots" / "tools.json").read_text(encoding="utf-8"))
# Programs are who structured output is for (it is off by default, issue 13), so this client turns it on.
STRUCTURED = {"DATABASIN_STRUCTURED_OUTPUT": "1"}
GENERATIONS = {"legacy": "2025-11-25", "auto": "2026-07-28"}  # Client(mode=...) -> negotiated protocol version

SCRIPT: list[tuple[str, dict[str, Any]]] = [
    ("list_projects", {}),
    ("list_connectors", {"project_id": PROJECT_95}),
    ("get_connector", {"connector_id": BIG_CONNECTOR_ID}),
    ("get_connector", {"connector_id": "one-four-two"}),  # an argument error
    ("list_connectors", {"projectId": PROJECT_95}),  # a misspelt argument
    ("get_connector", {"connector_id": 999}),  # not found
]


@asynccontextmanager
async def client_for(sandbox: Sandbox, transport: tuple[str, ...], mode: str) -> AsyncIterator[Client]:
    """A client in `mode`: over stdio it starts its own server; over HTTP it reaches `transport`'s URL."""
    if transport[0] == "stdio":
        async with Client(stdio_server(sandbox.env(**STRUCTURED)), mode=mode) as client:
            yield client
    else:
        async with Client(transport[1], mode=mode) as client:
            yield client


async def session(sandbox: Sandbox, transport: tuple[str, ...], mode: str) -> dict[str, Any]:
    """What one client sees: the negotiated version, the tool list, and the answers to SCRIPT."""
    with anyio.fail_after(CALL_TIMEOUT):
        async with AsyncExitStack() as stack:
            client = await stack.enter_async_context(client_for(sandbox, transport, mode))
            tools = await client.list_tools()
            answers = []
            for name, arguments in SCRIPT:
                result = await client.call_tool(name, arguments)
                answers.append(
                    {
                        "text": [item.text for item in result.content],  # type: ignore[union-attr]
                        "is_error": result.is_error,
                        "structured": result.structured_content,
                    }
                )
            return {
                "version": client.protocol_version,
                "tools": [
                    {"name": t.name, "description": t.description, "inputSchema": t.input_schema} for t in tools.tools
                ],
                "answers": answers,
            }


@pytest.mark.parametrize(
    "transport",
    [
        pytest.param(("stdio",), id="stdio"),
        pytest.param(("streamable-http",), id="streamable-http"),
        pytest.param(("streamable-http", "--stateless"), id="streamable-http-stateless"),
    ],
)
async def test_both_protocol_generations_get_identical_answers(sandbox: Sandbox, transport: tuple[str, ...]) -> None:
    seen: dict[str, dict[str, Any]] = {}

    async def run(target: tuple[str, ...], mode: str) -> None:
        seen[mode] = await session(sandbox, target, mode)

    async with AsyncExitStack() as stack:
        target = transport
        if transport[0] != "stdio":
            server = stack.enter_context(http_server(sandbox.env(**STRUCTURED), *transport))
            target = (transport[0], server.url)
        async with anyio.create_task_group() as both:  # the two clients at once, independent
            for mode in GENERATIONS:
                both.start_soon(run, target, mode)

    assert {mode: seen[mode]["version"] for mode in GENERATIONS} == GENERATIONS
    assert seen["auto"]["tools"] == seen["legacy"]["tools"]
    assert seen["legacy"]["tools"] == [
        {key: tool[key] for key in ("name", "description", "inputSchema")} for tool in SNAPSHOT
    ]
    assert seen["auto"]["answers"] == seen["legacy"]["answers"]

    projects, connectors, connector, invalid, misspelt, missing = seen["legacy"]["answers"]
    assert not projects["is_error"]
    assert projects["text"][0].splitlines()[0] == "12 projects with 434 connectors"
    assert projects["structured"]["total"] == 12
    assert not connectors["is_error"]
    assert connectors["text"][0].splitlines()[0] == (
        f"95 connectors in {PROJECT_95}, showing 1–25 (7 inactive, on this page: 110, 125, 133); next: offset=25"
    )
    assert connectors["structured"]["next_offset"] == 25
    assert not connector["is_error"]
    assert connector["text"][0].splitlines()[1] == "connectorName: Enterprise Snowflake Warehouse"
    assert connector["structured"]["connector"]["connectorID"] == BIG_CONNECTOR_ID
    assert invalid == {
        "text": [
            "Invalid argument: connector_id: Input should be a valid integer, unable to parse string as an integer. "
            "Fix and call again."
        ],
        "is_error": True,
        "structured": None,
    }
    assert misspelt == {
        "text": [
            "Unknown argument projectId for list_connectors; it takes: active, connector_type, fields, institution_id, "
            "limit, name_contains, offset, project_id."
        ],
        "is_error": True,
        "structured": None,
    }
    assert missing == {
        "text": [
            "Connector 999 not found. Find IDs with list_connectors(project_id=...) or find_connectors(query=...)."
        ],
        "is_error": True,
        "structured": None,
    }
