"""The real backend's differences from the reference: respx for the client, the sandbox for the whole path."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
import respx
from mcp import Client

from databasin_mcp.config import Settings
from databasin_mcp.sandbox import SandboxConfig, running_sandbox
from databasin_mcp.sandbox.seed import BIG_CATALOG, BIG_CONNECTOR_ID, BIG_SCHEMA, WIDE_TABLE
from databasin_mcp.server import create_server

from .conftest import ServerFactory

pytestmark = pytest.mark.anyio

SPRING_404 = {"timestamp": "2026-11-28T10:00:00Z", "status": 404, "error": "Not Found", "path": "/x"}


def text(result: Any) -> str:
    return result.content[0].text  # type: ignore[no-any-return]


# --- metadata routes: fall back to v2 once, then remember ----------------------------------------


async def test_metadata_falls_back_to_the_v2_routes_once_and_remembers(mcp: Client, router: respx.Router) -> None:
    reference = router.route(path__regex=r"^/api/connector/\d+/(catalogs|schemas|tables|columns)$").respond(
        404, json=SPRING_404
    )
    catalogs = router.get("/api/v2/connector/catalogs/7").respond(
        json={"connectorID": 7, "connectorName": "x", "objects": ["sales", "analytics"]}
    )
    schemas = router.get("/api/v2/connector/schemas/7").respond(json={"schemas": ["public"]})
    tables = router.get("/api/v2/connector/tables/7").respond(
        json={"objects": [{"name": "orders", "type": "TABLE"}, "customers"]}
    )
    columns = router.post("/api/connector/columns").respond(
        json=[{"name": "id", "type": "INT", "nullable": False}, {"name": "note", "type": "TEXT"}]
    )

    first = await mcp.call_tool("list_catalogs", {"connector_id": 7})
    second = await mcp.call_tool("list_schemas", {"connector_id": 7, "catalog": "sales"})
    third = await mcp.call_tool("list_tables", {"connector_id": 7, "catalog": "sales", "schema": "public"})
    fourth = await mcp.call_tool("list_columns", {"connector_id": 7, "schema": "public", "table": "orders"})

    # Fields the v2 routes never send (description, rowCount) are not shown as empty columns.
    assert text(first) == "2 catalogs in connector 7\ncatalogName\nanalytics\nsales"
    assert text(second).splitlines()[1:] == ["schemaName", "public"]
    assert text(third).splitlines()[1:] == ["tableName,tableType", "customers,", "orders,TABLE"]
    assert text(fourth).splitlines()[1:] == [
        "columnName,dataType,isNullable",  # v2 never says which column is the key: the title says nothing
        "id,INT,false",
        "note,TEXT,",
    ]
    assert reference.call_count == 1  # learnt once; every later call went straight to v2
    assert (catalogs.call_count, schemas.call_count, tables.call_count, columns.call_count) == (1, 1, 1, 1)
    assert dict(schemas.calls.last.request.url.params) == {"catalog": "sales"}
    assert dict(tables.calls.last.request.url.params) == {"catalog": "sales", "schema": "public"}
    # The shape the vendor's client sends (issue 17 #7).
    assert json.loads(columns.calls.last.request.content) == {
        "connectorID": 7,
        "objects": ["orders"],
        "chosenDatabaseSchema": "public",
    }


async def test_a_missing_connector_is_not_found_on_both_families(mcp: Client, router: respx.Router) -> None:
    reference = router.get("/api/connector/999/catalogs").respond(
        404, json={"error": "Not Found", "message": "Connector with ID 999 not found", "status": 404}
    )
    v2 = router.get("/api/v2/connector/catalogs/999").respond(404, json=SPRING_404)

    result = await mcp.call_tool("list_catalogs", {"connector_id": 999})

    assert text(result).startswith("Connector 999 not found.")
    assert (reference.call_count, v2.call_count) == (1, 1)


async def test_once_the_reference_family_works_a_404_is_final(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector/7/catalogs").respond(json=[{"catalogName": "sales"}])
    router.get("/api/connector/8/catalogs").respond(404, json={"message": "Connector with ID 8 not found"})
    v2 = router.get(path__startswith="/api/v2/").respond(json={"objects": []})

    await mcp.call_tool("list_catalogs", {"connector_id": 7})
    result = await mcp.call_tool("list_catalogs", {"connector_id": 8})

    assert text(result).startswith("Connector 8 not found.")
    assert v2.call_count == 0


# --- projects with names ---------------------------------------------------------------------------


async def test_list_projects_shows_names_from_my_projects(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector").respond(
        json=[
            {"connectorID": "1", "connectorType": "RDBMS", "internalID": "N1r8Do", "institutionID": 4, "isActive": 1},
            {"connectorID": "2", "connectorType": "S3", "internalID": "N1r8Do", "institutionID": 4},
        ]
    )
    projects = router.get("/api/my/projects").respond(
        json=[
            {"id": 11, "internalId": "{N1r8Do}", "name": "Finance, EMEA", "institutionId": 4},
            {"id": 12, "internalID": "Q7xx", "name": "Empty project", "organizationId": 4, "organizationName": "Acme"},
        ]
    )

    result = await mcp.call_tool("list_projects", {})
    again = await mcp.call_tool("list_projects", {})

    assert text(result) == (
        "2 projects with 2 connectors\n"
        "project_id,name,institution_id,connectors,types\n"
        'N1r8Do,"Finance, EMEA",4,2,RDBMS:1 S3:1\n'
        "Q7xx,Empty project,4,0,"
    )
    assert text(again) == text(result)
    assert projects.call_count == 1  # cached with the connector list


async def test_without_my_projects_the_listing_works_as_before_and_asks_once(
    make_server: ServerFactory, router: respx.Router
) -> None:
    router.get("/api/connector").respond(json=[{"connectorID": 1, "connectorType": "RDBMS", "internalID": "p"}])
    projects = router.get("/api/my/projects").respond(404, json=SPRING_404)

    async with Client(make_server(cache_ttl=0)) as client:
        first = await client.call_tool("list_projects", {})
        await client.call_tool("list_projects", {})

    assert text(first) == "1 project with 1 connector\nproject_id,institution_id,connectors,types\np,,1,RDBMS:1"
    assert projects.call_count == 1  # the missing route is remembered even with the cache off


async def test_a_failing_my_projects_does_not_fail_the_listing(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector").respond(json=[{"connectorID": 1, "connectorType": "RDBMS", "internalID": "p"}])
    router.get("/api/my/projects").respond(500)

    result = await mcp.call_tool("list_projects", {})

    assert not result.is_error
    assert text(result).splitlines()[1] == "project_id,institution_id,connectors,types"


# --- connector types: the real backend's category + subtype ------------------------------------------

# The production backend's connectorType is a category ("database", "file & api"); the product is in
# connectorSubType ("postgres"), which the reference does not have.
TYPED = [
    {
        "connectorID": "1",
        "connectorName": "Orders",
        "connectorType": "database",
        "connectorSubType": "postgres",
        "internalID": "p",
        "isActive": 1,
    },
    {
        "connectorID": "2",
        "connectorName": "Landing",
        "connectorType": "file & api",
        "connectorSubType": "s3",
        "internalID": "p",
        "isActive": 1,
    },
    {
        "connectorID": "3",
        "connectorName": "Ledger",
        "connectorType": "database",
        "connectorSubType": "mysql",
        "internalID": "p",
        "isActive": 1,
    },
]


async def test_find_connectors_matches_the_subtype(mcp: Client, router: respx.Router) -> None:
    listing = router.get("/api/connector").respond(json=TYPED)

    result = await mcp.call_tool("find_connectors", {"query": "Postgres"})

    assert text(result).splitlines()[1:] == [
        "connectorID,connectorName,connectorType,internalID",
        "1,Orders,database,p",
    ]
    assert listing.call_count == 1


async def test_connector_type_filters_on_the_category_or_the_subtype(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector").respond(json=TYPED)

    by_subtype = await mcp.call_tool("list_connectors", {"project_id": "p", "connector_type": "MySQL"})
    by_category = await mcp.call_tool("list_connectors", {"project_id": "p", "connector_type": "database"})

    assert text(by_subtype).splitlines()[2:] == ["3,Ledger,database"]
    assert text(by_category).splitlines()[2:] == ["1,Orders,database", "3,Ledger,database"]


# --- ping -------------------------------------------------------------------------------------------


async def test_ping_sends_no_token(make_server: ServerFactory, router: respx.Router) -> None:
    route = router.get("/api/ping").respond(json={"isLoggedIn": False, "message": "pong"})
    server = make_server(token=None)

    async with server.operations.client as client:
        assert await client.ping() == {"isLoggedIn": False, "message": "pong"}
    assert "Authorization" not in route.calls.last.request.headers


# --- the same against the sandbox, end to end in-process ------------------------------------------------


@pytest.fixture
async def sandboxed() -> AsyncIterator[Any]:
    async def start(**config: Any) -> Client:
        sandbox = await stack.enter_async_context(running_sandbox(SandboxConfig(port=0, **config)))
        settings = Settings(api_url=sandbox.url, token=sandbox.token, structured_output=True)
        return await stack.enter_async_context(Client(create_server(settings)))

    async with AsyncExitStack() as stack:
        yield start


@pytest.mark.parametrize("v2_only", [False, True])
async def test_both_route_families_give_the_same_answers(sandboxed: Any, v2_only: bool) -> None:
    reference = await sandboxed()
    other = await sandboxed(v2_routes=True, v2_only=v2_only)
    calls = [
        ("list_catalogs", {"connector_id": BIG_CONNECTOR_ID}),
        ("list_schemas", {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG}),
        (
            "list_tables",
            {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA, "fields": ["tableName"]},
        ),
        (
            "list_columns",
            {
                "connector_id": BIG_CONNECTOR_ID,
                "catalog": BIG_CATALOG,
                "schema": BIG_SCHEMA,
                "table": WIDE_TABLE,
                "fields": ["columnName", "dataType", "isNullable"],
            },
        ),
    ]
    for name, arguments in calls:
        expected = await reference.call_tool(name, arguments)
        got = await other.call_tool(name, arguments)
        if name in ("list_catalogs", "list_schemas") and v2_only:
            # v2 answers carry names only: the description column is empty, the names are the same.
            assert [line.split(",")[0] for line in text(got).splitlines()] == [
                line.split(",")[0] for line in text(expected).splitlines()
            ]
        else:
            assert text(got) == text(expected), name


async def test_the_real_dialect_reads_like_the_reference(sandboxed: Any) -> None:
    reference = await sandboxed()
    real = await sandboxed(dialect="real")

    for name, arguments in [
        ("list_connectors", {"project_id": "proj-007", "limit": 200}),
        ("get_connector", {"connector_id": 142}),
        ("get_connector", {"connector_id": 133}),
    ]:
        expected, got = await reference.call_tool(name, arguments), await real.call_tool(name, arguments)
        assert not got.is_error
        if name == "get_connector":
            # The real dialect also says activity its own way (a short extra, shown as it is sent);
            # everything else matches line for line.
            differing = set(text(got).splitlines()) ^ set(text(expected).splitlines())
            assert all(line.startswith(("connectorHealthStatus: ", "connectorSubType: ")) for line in differing), (
                differing
            )
        else:
            assert text(got) == text(expected)


async def test_sandbox_projects_have_names_with_v2(sandboxed: Any) -> None:
    client = await sandboxed(v2_routes=True)

    result = await client.call_tool("list_projects", {})

    lines = text(result).splitlines()
    assert lines[1] == "project_id,name,institution_id,connectors,types"
    assert lines[2].startswith("proj-001,")
    assert len(lines) == 14


async def test_a_405_from_the_v2_columns_route_means_no_v2_family(mcp: Client, router: respx.Router) -> None:
    """POST /api/connector/columns lands on /api/connector/{id} where no v2 family exists: 405, not a crash."""
    router.get("/api/connector/142/columns").respond(404, json={"message": "Table 'nope' not found"})
    v2 = router.post("/api/connector/columns").respond(405, json={"status": 405, "error": "Method Not Allowed"})

    result = await mcp.call_tool("list_columns", {"connector_id": 142, "table": "nope"})

    assert text(result) == (
        "Table 'nope' not found. "
        "Check the names with list_catalogs(connector_id=142) or list_schemas(connector_id=142)."
    )
    assert v2.call_count == 1


# --- the vendor's token location ---------------------------------------------------------------------


async def test_the_token_in_the_home_folder_is_sent(make_server: ServerFactory, router: respx.Router) -> None:
    (Path.home() / ".databasin").mkdir()
    (Path.home() / ".databasin" / ".token").write_text("home-token-1234\n")
    route = router.get("/api/connector").respond(json=[])

    async with Client(make_server(token=None)) as client:
        await client.call_tool("list_projects", {})

    assert route.calls.last.request.headers["Authorization"] == "Bearer home-token-1234"


async def test_the_sandbox_accepts_the_token_from_the_home_folder(isolated_environment: Path) -> None:
    async with running_sandbox(SandboxConfig(port=0)) as sandbox:
        (Path.home() / ".databasin").mkdir()
        (Path.home() / ".databasin" / ".token").write_text(sandbox.token + "\n")
        async with Client(create_server(Settings(api_url=sandbox.url))) as client:
            result = await client.call_tool("list_projects", {})

    assert not result.is_error
    assert text(result).startswith("12 projects with 434 connectors")
    assert not (isolated_environment / ".token").exists()  # it really came from ~/.databasin/.token
