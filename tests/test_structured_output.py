"""What a client forwards to the model: the text block by default; with structured output on, the same facts twice.

Claude Code forwards structuredContent instead of the text whenever a result has it (benchmarks/recording), so
by default no tool declares an output schema or answers structuredContent: every client's model reads the compact
text. `DATABASIN_STRUCTURED_OUTPUT=1` adds both for programs; then each block alone says what the other says.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp_types import CallToolResult, TextContent

from databasin_mcp.config import Settings
from databasin_mcp.harness.results import created_id
from databasin_mcp.ops.directory import PROJECT_CELLS
from databasin_mcp.sandbox import SandboxConfig, running_sandbox
from databasin_mcp.sandbox.seed import (
    BIG_CATALOG,
    BIG_CONNECTOR_ID,
    BIG_SCHEMA,
    LONG_EXTRAS_CONNECTOR_ID,
    PROJECT_95,
    WIDE_TABLE,
)
from databasin_mcp.server import create_server
from databasin_mcp.shaping import cell, plain

pytestmark = pytest.mark.anyio

TABLES = {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA}
NEW = "<the created connector>"
# Every tool, called as an agent would; the writes act on the connector the create made.
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("list_projects", {}),
    ("list_connectors", {"project_id": PROJECT_95}),
    ("list_connectors", {"project_id": PROJECT_95, "name_contains": "zzzz"}),
    ("find_connectors", {"query": "snowflake", "limit": 3}),
    ("get_connector", {"connector_id": BIG_CONNECTOR_ID}),
    ("get_connector", {"connector_id": LONG_EXTRAS_CONNECTOR_ID}),
    ("list_catalogs", {"connector_id": BIG_CONNECTOR_ID}),
    ("list_schemas", {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG}),
    ("list_tables", TABLES),
    ("list_columns", {**TABLES, "table": WIDE_TABLE}),
    ("preview_table", {**TABLES, "table": WIDE_TABLE}),
    ("run_query", {"connector_id": BIG_CONNECTOR_ID, "sql": f"SELECT id, email FROM {BIG_SCHEMA}.{WIDE_TABLE}"}),
    (
        "create_connector",
        {"name": "Facts Orders", "connector_type": "RDBMS", "institution_id": 3, "project_id": PROJECT_95},
    ),
    (
        "create_connector",
        {"name": "Facts Orders", "connector_type": "RDBMS", "institution_id": 3, "project_id": PROJECT_95},
    ),
    ("update_connector", {"connector_id": NEW, "host": "facts.example.com"}),
    ("test_connector", {"connector_id": BIG_CONNECTOR_ID}),
    ("refresh_connector_metadata", {"connector_id": BIG_CONNECTOR_ID}),
    ("delete_connector", {"connector_id": NEW}),
    ("delete_connector", {"connector_id": NEW, "confirm": True}),
]
LISTINGS = {"list_projects", "list_connectors", "find_connectors", "list_catalogs", "list_schemas", "list_tables"}
LISTINGS |= {"list_columns"}
DATA = {"preview_table", "run_query"}


@pytest.fixture
async def connect() -> AsyncIterator[Any]:
    """Start a sandbox and an in-process client of a server with the given settings."""

    async def start(mode: str = "auto", **settings: Any) -> Client:
        sandbox = await stack.enter_async_context(running_sandbox(SandboxConfig(port=0, refresh_seconds=0)))
        config = Settings(api_url=sandbox.url, token=sandbox.token, **settings)
        return await stack.enter_async_context(Client(create_server(config), mode=mode))

    async with AsyncExitStack() as stack:
        yield start


def text(result: CallToolResult) -> str:
    assert len(result.content) == 1
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def call_all(client: Client) -> list[tuple[str, CallToolResult]]:
    results = []
    created: int | None = None
    for name, arguments in CALLS:
        given = {key: created if value == NEW else value for key, value in arguments.items()}
        result = await client.call_tool(name, given)
        assert not result.is_error, text(result)
        if name == "create_connector" and created is None:
            created = created_id(text(result))
        results.append((name, result))
    return results


# --- by default: text only ---------------------------------------------------------------------------------


async def test_by_default_no_tool_declares_or_answers_structured_content(connect: Any) -> None:
    client = await connect()
    tools = (await client.list_tools()).tools
    assert [tool.name for tool in tools if tool.output_schema is not None] == []
    for name, result in await call_all(client):
        assert result.structured_content is None, name
        assert text(result)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_only_tools_are_declared_and_resources_are_not_served(connect: Any, mode: str) -> None:
    # A declared resources capability makes Claude Code add three resource tools the model would pay for.
    client = await connect(mode=mode)
    capabilities = client.server_capabilities
    assert capabilities.tools is not None
    assert (capabilities.resources, capabilities.prompts, capabilities.logging) == (None, None, None)
    with pytest.raises(MCPError, match="not found"):
        await client.list_resources()


# --- with structured output on: the same facts in both blocks ---------------------------------------------


async def test_structured_content_says_what_the_text_says_for_every_tool(connect: Any) -> None:
    client = await connect(structured_output=True)
    tools = (await client.list_tools()).tools
    assert all(tool.output_schema is not None for tool in tools)
    results = await call_all(client)
    assert {name for name, _ in results} == {tool.name for tool in tools}
    for name, result in results:
        data = result.structured_content
        assert data is not None, name
        lines = text(result).split("\n")
        if name in LISTINGS:
            assert_same_listing(lines, data)
        elif name in DATA:  # a listing whose first note (that the rows are data) comes before the table
            assert lines[1] == data["notes"][0]
            assert_same_listing([lines[0], *lines[2:]], {**data, "notes": data["notes"][1:]})
        elif name == "get_connector":
            assert data["summary"] == lines[0]
            assert_same_record(lines, data)
        else:
            assert data["summary"] == text(result), name  # a sentence or two: all of it


def assert_same_listing(lines: list[str], data: dict[str, Any]) -> None:
    """Title, rows and notes of the text against the data's summary, items and notes."""
    title = lines[0]
    assert data["summary"] == title
    total = re.match(r"([\d,]+) ", title)
    assert total is not None, title
    assert int(total.group(1).replace(",", "")) == data["total"], title
    following = re.search(r"next: offset=(\d+)", title)
    assert (int(following.group(1)) if following else None) == data["next_offset"], title
    shown = len(data["items"])
    table = lines[1 : 1 + shown + 1] if shown else []
    assert lines[1 + len(table) :] == data["notes"]
    if not shown:
        return
    header = table[0].split(",")
    assert set(header) <= set(data["fields"])
    shown = PROJECT_CELLS if data["summary"].split(" ", 2)[1] == "projects" else {}
    for line, item in zip(table[1:], data["items"], strict=True):
        assert line == ",".join(cell(shown[name](item[name]) if name in shown else item[name]) for name in header)
    # A field the title says once ("inactive: 110", "primary key: id") is a field of every item.
    for name in set(data["fields"]) - set(header):
        assert all(name in item for item in data["items"])


def assert_same_record(lines: list[str], data: dict[str, Any]) -> None:
    connector = data["connector"]
    said = dict(line.split(": ", 1) for line in lines[1:] if ": " in line and not line.startswith(("empty:", "more")))
    for name, value in said.items():
        assert plain(connector[name]) == value, name
    empty = next((line.removeprefix("empty: ").split(", ") for line in lines if line.startswith("empty: ")), [])
    assert all(connector[name] in (None, "") for name in empty)
    assert set(said) | set(empty) | {"connectorID"} == set(connector)
    more = next((line for line in lines if line.startswith("more fields: ")), None)
    assert (more is not None) == bool(data["omitted_fields"])
    if more:
        assert more.startswith(f"more fields: {', '.join(data['omitted_fields'])} ")
    assert data["notes"] == [line for line in lines[1:] if line.startswith(("more fields: ", "could not be read"))]


async def test_the_structured_block_is_held_under_the_cap_too(connect: Any) -> None:
    client = await connect(structured_output=True, max_chars=6_000)
    result = await client.call_tool("list_tables", {**TABLES, "fields": ["*"], "limit": 500})
    data = result.structured_content
    assert data is not None
    as_sent = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    assert len(as_sent) <= 6_000
    assert len(text(result)) <= 6_000
    assert data["truncated"] is True
    assert data["next_offset"] == len(data["items"])
    assert data["notes"] == [text(result).split("\n")[-1]]
    assert data["notes"][0].startswith(f"… cut to {len(data['items'])} rows by the 6,000-character cap")


async def test_text_only_answers_are_not_cut_for_the_size_of_data_nobody_is_sent(connect: Any) -> None:
    arguments = {**TABLES, "fields": ["*"], "limit": 500}
    plain_rows = await (await connect(max_chars=6_000)).call_tool("list_tables", arguments)
    structured = await (await connect(structured_output=True, max_chars=6_000)).call_tool("list_tables", arguments)
    assert structured.structured_content is not None
    kept = len(structured.structured_content["items"])
    assert len(text(plain_rows).split("\n")) > kept + 2  # more rows fit as CSV than as JSON items
