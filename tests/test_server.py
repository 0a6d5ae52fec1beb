"""The server's surface: the pinned tool list, annotations, modes that shrink it, the lifespan."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import respx
from mcp import Client

from databasin_mcp.config import Settings
from databasin_mcp.errors import ConfigurationError
from databasin_mcp.server import INSTRUCTIONS, compact_schema, select_tools

from .conftest import ServerFactory

pytestmark = pytest.mark.anyio

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools.json"
OUTPUT_SCHEMAS_SNAPSHOT = Path(__file__).parent / "snapshots" / "output-schemas.json"
WRITE_TOOLS = {"create_connector", "update_connector", "delete_connector", "refresh_connector_metadata"}


async def tool_list(client: Client) -> list[dict[str, Any]]:
    tools = (await client.list_tools()).tools
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]


def matches_snapshot(current: Any, snapshot: Path) -> bool:
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(json.dumps(current, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return bool(current == json.loads(snapshot.read_text(encoding="utf-8")))


async def test_the_tool_list_matches_the_snapshot(make_server: ServerFactory) -> None:
    """A changed name, description, schema or annotation must show up as a reviewed diff.

    After an intended change: UPDATE_SNAPSHOTS=1 make test, then review `git diff tests/snapshots`.
    """
    async with Client(make_server(structured_output=False, allow_secret_arguments=False)) as client:
        assert matches_snapshot(await tool_list(client), SNAPSHOT)


async def test_the_output_schemas_match_their_snapshot(make_server: ServerFactory) -> None:
    """With structured output on, each tool also declares what its structuredContent holds."""
    async with Client(make_server(structured_output=True, allow_secret_arguments=False)) as client:
        schemas = {tool.name: tool.output_schema for tool in (await client.list_tools()).tools}
    assert matches_snapshot(schemas, OUTPUT_SCHEMAS_SNAPSHOT)


async def test_every_tool_is_annotated(mcp: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}

    assert len(tools) == 15
    for name, tool in tools.items():
        hints = tool.annotations
        assert hints is not None, name
        assert hints.read_only_hint is (name not in WRITE_TOOLS), name
        # The tools that reach the connector's source, beyond the Databasin API.
        assert hints.open_world_hint is (name in ("test_connector", "preview_table", "run_query")), name
    assert tools["delete_connector"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert tools["update_connector"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert tools["create_connector"].annotations.destructive_hint is False  # type: ignore[union-attr]
    assert tools["create_connector"].annotations.idempotent_hint is False  # type: ignore[union-attr]
    assert tools["list_tables"].annotations.idempotent_hint is True  # type: ignore[union-attr]


async def test_schemas_are_compact_and_require_the_project(mcp: Client) -> None:
    tools = {tool.name: tool for tool in (await mcp.list_tools()).tools}
    text = json.dumps([tool.input_schema for tool in tools.values()])

    assert '"title"' not in text
    assert '"anyOf"' not in text
    assert tools["list_connectors"].input_schema["required"] == ["project_id"]
    assert tools["create_connector"].input_schema["required"] == [
        "project_id",
        "name",
        "connector_type",
    ]
    assert tools["get_connector"].input_schema["properties"]["connector_id"] == {"minimum": 1, "type": "integer"}


async def test_a_default_project_is_named_in_the_schema(make_server: ServerFactory) -> None:
    async with Client(make_server(project="proj-007")) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    schema = tools["list_connectors"].input_schema
    assert "required" not in schema
    assert schema["properties"]["project_id"]["description"] == "internalID; default proj-007"


async def test_instructions_give_the_cheap_path(mcp: Client) -> None:
    assert mcp.instructions == INSTRUCTIONS
    assert "list_projects -> list_connectors(project_id) -> get_connector(connector_id)" in INSTRUCTIONS


async def test_read_only_mode_does_not_register_write_tools(make_server: ServerFactory, router: respx.Router) -> None:
    async with Client(make_server(read_only=True)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        result = await client.call_tool("delete_connector", {"connector_id": 1, "confirm": True})

    assert names.isdisjoint(WRITE_TOOLS)
    assert "test_connector" in names
    assert {"preview_table", "run_query"} <= names  # they only read
    assert len(names) == 11
    assert result.is_error
    assert len(router.calls) == 0


@pytest.mark.parametrize(
    ("tools", "expected"),
    [
        # metadata is read-only: the refresh, which changes what the API holds, is a write (issue 16)
        ("metadata", {"list_catalogs", "list_schemas", "list_tables", "list_columns"}),
        ("list_projects, get_connector", {"list_projects", "get_connector"}),
        (
            "read,delete_connector",
            {
                "list_projects",
                "list_connectors",
                "find_connectors",
                "get_connector",
                "test_connector",
                "delete_connector",
            },
        ),
    ],
)
async def test_tools_option_picks_tools_and_groups(make_server: ServerFactory, tools: str, expected: set[str]) -> None:
    async with Client(make_server(tools=tools)) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}

    assert names == expected


def test_an_unknown_tool_name_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as caught:
        select_tools(Settings(tools="read,list_everything"))
    assert str(caught.value).startswith(
        "Unknown tool or group in --tools/DATABASIN_TOOLS: list_everything. "
        "Groups: read, write, metadata, data; tools: "
    )


def test_the_data_group_selects_the_data_tools_and_allow_queries_0_drops_them() -> None:
    assert {spec.name for spec in select_tools(Settings(tools="data"))} == {"preview_table", "run_query"}
    dropped = {spec.name for spec in select_tools(Settings(allow_queries=False))}
    assert dropped.isdisjoint({"preview_table", "run_query"})
    assert len(dropped) == 13
    assert select_tools(Settings(tools="data,run_query", allow_queries=False)) == []


def test_allow_queries_is_read_from_its_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASIN_ALLOW_QUERIES", "0")
    assert {spec.name for spec in select_tools(Settings())}.isdisjoint({"preview_table", "run_query"})


def test_read_only_wins_over_tools() -> None:
    names = {spec.name for spec in select_tools(Settings(tools="write,list_projects", read_only=True))}
    assert names == {"list_projects"}


def test_compact_schema_keeps_constraints_and_drops_noise() -> None:
    schema = {
        "title": "fArguments",
        "type": "object",
        "properties": {
            "a": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}], "default": None, "title": "A"},
            "b": {"type": "integer", "default": 5, "maximum": 9, "title": "B"},
            "c": {"anyOf": [{"type": "integer"}, {"type": "string"}], "title": "C"},
        },
        "required": ["b"],
    }
    assert compact_schema(schema) == {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "minimum": 1},
            "b": {"type": "integer", "default": 5, "maximum": 9},
            "c": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        },
        "required": ["b"],
    }


async def test_one_api_client_serves_every_session(make_server: ServerFactory, router: respx.Router) -> None:
    """Sessions share the pooled client: opened by the first session, closed after the last."""
    router.get("/api/connector").respond(json=[])
    server = make_server()
    client = server.operations.client
    assert client._http is None

    async with Client(server) as first:
        await first.call_tool("list_projects", {})
        http = client._http
        assert http is not None
        async with Client(server) as second:
            await second.call_tool("list_projects", {})
            assert client._http is http
        assert client._http is http  # still open for the first session
        await first.call_tool("list_projects", {})

    assert client._http is None
    assert len(router.calls) == 1  # one client, one cache
