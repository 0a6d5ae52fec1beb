"""The real backend's own shapes (issue 17 #5-#7): what a delete breaks, a create that names only the project,
columns and schemas asked in the vendor client's shapes, connector records in the configuration shape."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
import respx
from mcp import Client
from mcp_types import CallToolResult

from databasin_mcp.config import Settings
from databasin_mcp.sandbox import SandboxConfig, running_sandbox
from databasin_mcp.sandbox.pipelines import PINNED_PIPELINES
from databasin_mcp.sandbox.seed import BIG_CONNECTOR_ID, PROJECT_95
from databasin_mcp.server import create_server

pytestmark = pytest.mark.anyio

CONNECTOR = {
    "connectorID": "7",
    "connectorName": "Orders",
    "connectorType": "database",
    "connectorSubType": "postgres",
    "internalID": "N1r8Do",
    "institutionID": 3,
    "ownerID": 12,
    "isActive": 1,
    "configuration": {"host": "pg.example.com", "port": 5432, "database": "orders", "username": "svc", "ssl": True},
    "createdAt": "2025-01-15T10:30:00Z",
    "updatedAt": "2025-01-20T14:45:00Z",
}
PIPELINES = [
    {"pipelineID": 1, "pipelineName": "Orders to lake", "items": [{"sourceConnectionID": 7, "targetConnectionID": 9}]},
    {
        "pipelineID": 2,
        "pipelineName": "Lake to orders",
        "targetConnectorId": "7",
        "sourceConnectorId": "9",
        "items": [],
    },
    {"pipelineID": 3, "pipelineName": "Other", "items": [{"sourceConnectionID": 70, "targetConnectionID": 9}]},
]


def text(result: CallToolResult) -> str:
    return result.content[0].text  # type: ignore[union-attr]


# --- connector records in the configuration shape ---------------------------------------------------------


async def test_a_record_in_the_configuration_shape_reads_under_the_reference_names(
    mcp: Client, router: respx.Router
) -> None:
    router.get("/api/connector/7").respond(json=CONNECTOR)
    result = await mcp.call_tool("get_connector", {"connector_id": 7, "fields": ["*"]})
    lines = text(result).split("\n")
    for line in (
        "connectorHost: pg.example.com",
        "connectorPort: 5432",
        "connectorDatabaseName: orders",
        "connectorUsername: svc",
        "active: true",
        "createdDate: 2025-01-15T10:30:00Z",
        "lastModifiedDate: 2025-01-20T14:45:00Z",
        "configuration: {ssl: true}",
    ):
        assert line in lines, (line, lines)


# --- the delete preview names the pipelines it breaks -----------------------------------------------------


async def test_the_delete_preview_names_the_pipelines_using_it_as_numbers_or_strings(
    mcp: Client, router: respx.Router
) -> None:
    router.get("/api/connector/7").respond(json=CONNECTOR)
    router.get("/api/my/account").respond(json={"id": 457, "email": "a@example.com"})
    listed = router.get("/api/pipeline").respond(json=PIPELINES)
    delete = router.delete("/api/connector/7").respond(json={"status": "success"})

    result = await mcp.call_tool("delete_connector", {"connector_id": 7})

    assert delete.call_count == 0
    assert dict(listed.calls.last.request.url.params) == {
        "internalID": "N1r8Do",
        "institutionID": "3",
        "ownerID": "457",
    }
    assert text(result) == (
        "Not deleted: confirm is false. This would delete connector 7 'Orders' (database, project N1r8Do). "
        "2 pipelines of N1r8Do use it and will fail: 1 'Orders to lake' (source), 2 'Lake to orders' (target). "
        "To delete it, call delete_connector(connector_id=7, confirm=true)."
    )
    assert result.structured_content is not None
    assert result.structured_content["pipelines"] == [
        {"pipelineID": "1", "pipelineName": "Orders to lake", "role": "source"},
        {"pipelineID": "2", "pipelineName": "Lake to orders", "role": "target"},
    ]


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (
            {"status_code": 400, "json": {"message": "Required request parameter 'ownerID' is not present"}},
            "Whether pipelines use it could not be checked (the pipeline list could not be read: Databasin API error "
            "400 Bad Request: Required request parameter 'ownerID' is not present); any that do will fail.",
        ),
        (
            {"status_code": 404, "json": {"status": 404, "error": "Not Found", "path": "/api/pipeline"}},
            "Whether pipelines use it could not be checked (this Databasin API has no pipeline list); any that do "
            "will fail.",
        ),
        ({"status_code": 200, "json": []}, "No pipeline of N1r8Do uses it."),
    ],
)
async def test_a_pipeline_check_that_cannot_be_made_is_said_and_never_blocks(
    mcp: Client, router: respx.Router, answer: dict[str, Any], said: str
) -> None:
    router.get("/api/connector/7").respond(json=CONNECTOR)
    router.get("/api/pipeline").respond(**answer)
    result = await mcp.call_tool("delete_connector", {"connector_id": 7})
    assert not result.is_error
    assert said in text(result), text(result)
    deleted = router.delete("/api/connector/7").respond(json={"status": "success"})
    confirmed = await mcp.call_tool("delete_connector", {"connector_id": 7, "confirm": True})
    assert (confirmed.is_error, deleted.call_count) == (False, 1)


async def test_without_the_account_route_the_connectors_owner_asks_for_the_pipelines(
    mcp: Client, router: respx.Router
) -> None:
    router.get("/api/connector/7").respond(json=CONNECTOR)
    listed = router.get("/api/pipeline").respond(json=[])
    await mcp.call_tool("delete_connector", {"connector_id": 7})
    assert listed.calls.last.request.url.params["ownerID"] == "12"


# --- a create that names only the project -----------------------------------------------------------------

CREATE = {"name": "New PG", "connector_type": "RDBMS", "project_id": "N1r8Do", "host": "h.example.com", "port": 5432}


async def test_create_takes_the_institution_from_the_project_record_and_the_owner_from_the_account(
    mcp: Client, router: respx.Router
) -> None:
    router.get("/api/connector").respond(json=[])
    router.get("/api/project/N1r8Do").respond(json={"id": 9, "internalId": "N1r8Do", "institutionId": 4})
    router.get("/api/my/account").respond(json={"id": 457})
    create = router.post("/api/connector").respond(json={"connectorID": 88, "status": "success"})

    result = await mcp.call_tool("create_connector", CREATE)

    assert not result.is_error, text(result)
    body = json.loads(create.calls.last.request.content)
    assert (body["institutionID"], body["ownerID"], body["internalID"]) == (4, 457, "N1r8Do")


async def test_create_takes_the_institution_its_project_connectors_say(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector").respond(json=[CONNECTOR])
    project = router.get("/api/project/N1r8Do").respond(json={"internalId": "N1r8Do", "institutionId": 4})
    create = router.post("/api/connector").respond(json={"connectorID": 88, "status": "success"})

    result = await mcp.call_tool("create_connector", CREATE)

    assert not result.is_error, text(result)
    body = json.loads(create.calls.last.request.content)
    assert body["institutionID"] == 3
    assert "ownerID" not in body  # no account route: the API is left to decide
    assert project.call_count == 0


async def test_create_says_which_value_to_give_when_the_api_cannot_tell(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector").respond(json=[])
    router.get("/api/my/projects").respond(json=[{"internalId": "N1r8Do", "name": "Mine"}])
    create = router.post("/api/connector").respond(json={"connectorID": 88})

    result = await mcp.call_tool("create_connector", CREATE)

    assert create.call_count == 0
    assert text(result) == (
        "institution_id is needed: the institution of N1r8Do could not be looked up (no connector in it says, and "
        "the API serves no project record that does); pass institution_id=.... Nothing was created."
    )


async def test_a_create_refused_for_want_of_an_owner_names_owner_id(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector").respond(json=[CONNECTOR])
    router.post("/api/connector").respond(400, json={"message": "Missing required field: ownerID"})

    result = await mcp.call_tool("create_connector", CREATE)

    assert text(result) == (
        "owner_id is needed: the API refused the create without it (Missing required field: ownerID) and does not "
        "say it; pass owner_id=.... Nothing was created."
    )


# --- metadata in the vendor client's shapes ---------------------------------------------------------------


def v2_backend(router: respx.Router) -> None:
    """A backend with the v2 family only: the reference's metadata routes are missing."""
    router.get("/api/connector/7/columns").respond(404, json={"status": 404, "error": "Not Found"})
    router.get("/api/connector/7/schemas").respond(404, json={"status": 404, "error": "Not Found"})


async def test_columns_are_asked_in_the_vendor_clients_shape(mcp: Client, router: respx.Router) -> None:
    v2_backend(router)
    columns = router.post("/api/connector/columns").respond(
        json={"columns": [{"name": "id", "type": "bigint", "nullable": False}]}
    )
    result = await mcp.call_tool("list_columns", {"connector_id": 7, "table": "orders", "schema": "public"})
    assert text(result).split("\n")[1:] == ["columnName,dataType,isNullable", "id,bigint,false"]
    assert json.loads(columns.calls.last.request.content) == {
        "connectorID": 7,
        "objects": ["orders"],
        "chosenDatabaseSchema": "public",
    }


async def test_the_declared_columns_shape_is_sent_only_where_the_first_is_refused(
    mcp: Client, router: respx.Router
) -> None:
    v2_backend(router)
    columns = router.post("/api/connector/columns").mock(
        side_effect=lambda request: (
            respx.MockResponse(400, json={"message": "Missing required field: tableName"})
            if "objects" in json.loads(request.content)
            else respx.MockResponse(json=[{"name": "id", "type": "bigint"}])
        )
    )
    result = await mcp.call_tool("list_columns", {"connector_id": 7, "table": "orders", "catalog": "c", "schema": "s"})
    assert not result.is_error, text(result)
    assert columns.call_count == 2
    assert json.loads(columns.calls.last.request.content) == {
        "connectorID": 7,
        "tableName": "orders",
        "schemaCatalog": "c.s",
    }


async def test_a_relational_connectors_schemas_come_from_the_catalogs_route_where_v2_refuses(
    mcp: Client, router: respx.Router
) -> None:
    v2_backend(router)
    router.get("/api/v2/connector/schemas/7").respond(400, json={"message": "catalog is required"})
    rdbms = router.get("/api/connector/catalogs/7").respond(
        json={"connectorID": 7, "connectorType": "postgres", "objects": ["public", "sales"]}
    )
    result = await mcp.call_tool("list_schemas", {"connector_id": 7})
    assert rdbms.call_count == 1
    assert text(result).split("\n")[2:] == ["public", "sales"]


# --- against both sandbox dialects ------------------------------------------------------------------------


@pytest.fixture
async def sandboxed() -> AsyncIterator[Any]:
    async def start(**config: Any) -> Client:
        sandbox = await stack.enter_async_context(running_sandbox(SandboxConfig(port=0, rate_limit=0, **config)))
        settings = Settings(api_url=sandbox.url, token=sandbox.token)
        return await stack.enter_async_context(Client(create_server(settings)))

    async with AsyncExitStack() as stack:
        yield start


@pytest.mark.parametrize("dialect", ["reference", "real"])
async def test_create_with_only_project_name_type_and_settings_succeeds_on_both_dialects(
    sandboxed: Any, dialect: str
) -> None:
    client = await sandboxed(dialect=dialect)
    arguments = {"project_id": PROJECT_95, "name": "Only What I Know", "connector_type": "RDBMS"}
    result = await client.call_tool("create_connector", {**arguments, "host": "db.example.com", "port": 5432})
    assert not result.is_error, text(result)
    assert text(result).startswith("Created connector ")


async def test_the_delete_preview_names_the_sandboxs_pipelines_in_the_real_dialect(sandboxed: Any) -> None:
    client = await sandboxed(dialect="real")
    result = await client.call_tool("delete_connector", {"connector_id": BIG_CONNECTOR_ID})
    named = ", ".join(f"{pid} {name!r} (target)" for pid, name, _, _, _ in PINNED_PIPELINES)
    assert f"pipelines of {PROJECT_95} use it and will fail: {named}" in text(result), text(result)


async def test_the_delete_preview_says_it_could_not_check_on_the_reference(sandboxed: Any) -> None:
    client = await sandboxed()
    result = await client.call_tool("delete_connector", {"connector_id": BIG_CONNECTOR_ID})
    assert "Whether pipelines use it could not be checked (this Databasin API has no pipeline list)" in text(result)
