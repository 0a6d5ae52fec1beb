"""Every tool through a real MCP client session, against respx: answers, errors, safety rules."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
import respx
from mcp import Client
from mcp_types import CallToolResult

from databasin_mcp.ops import Directory

from .conftest import ServerFactory

pytestmark = pytest.mark.anyio


def connector(cid: int, name: str, ctype: str, project: str, *, active: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "connectorID": cid,
        "connectorName": name,
        "connectorType": ctype,
        "connectorHost": f"host{cid}.example.com",
        "connectorPort": "5432",
        "connectorDatabaseName": f"db{cid}",
        "institutionID": 1 if project != "proj-003" else 2,
        "internalID": project,
        "ownerID": 456,
        "active": active,
        "createdDate": "2025-01-15T10:30:00Z",
        "lastModifiedDate": "2025-01-20T14:45:00Z",
        **extra,
    }


CONNECTORS = [
    connector(101, "Production MySQL", "RDBMS", "proj-001"),
    connector(102, "Finance Snowflake", "Snowflake", "proj-001"),
    connector(103, "Café Orders", "RDBMS", "proj-001", active=False),
    connector(104, "Marketing S3, Landing", "S3", "proj-001"),
    connector(105, "Müller ERP", "Salesforce", "proj-002"),
    connector(106, "Zürich Finance", "Snowflake", "proj-002"),
    connector(107, "東京 Warehouse", "BigQuery", "proj-003"),
]


def text(result: CallToolResult) -> str:
    assert len(result.content) == 1
    return result.content[0].text  # type: ignore[union-attr]


def by_project(request: httpx.Request) -> httpx.Response:
    """The list endpoint, filtering like the real API does."""
    project = request.url.params.get("internalID")
    institution = request.url.params.get("institutionID")
    rows = [
        c
        for c in CONNECTORS
        if (project is None or c["internalID"] == project)
        and (institution is None or str(c["institutionID"]) == institution)
    ]
    return httpx.Response(200, json=rows)


@pytest.fixture
def listing(router: respx.Router) -> respx.Route:
    return router.get("/api/connector").mock(side_effect=by_project)


# --- projects and connectors ------------------------------------------------------------------


async def test_list_projects_counts_connectors_by_type(mcp: Client, listing: respx.Route) -> None:
    result = await mcp.call_tool("list_projects", {})

    assert not result.is_error
    assert text(result) == (
        "3 projects with 7 connectors\n"
        "project_id,institution_id,connectors,types\n"
        "proj-001,1,4,RDBMS:2 Snowflake:1 S3:1\n"
        "proj-002,1,2,Salesforce:1 Snowflake:1\n"
        "proj-003,2,1,BigQuery:1"
    )
    assert result.structured_content is not None
    assert result.structured_content["total"] == 3
    assert listing.calls.last.request.url.query == b""


async def test_list_connectors_shows_the_default_columns_of_one_project(mcp: Client, listing: respx.Route) -> None:
    result = await mcp.call_tool("list_connectors", {"project_id": "proj-001"})

    assert text(result) == (
        "4 connectors in proj-001 (inactive: 103)\n"
        "connectorID,connectorName,connectorType\n"
        "101,Production MySQL,RDBMS\n"
        "102,Finance Snowflake,Snowflake\n"
        "103,Café Orders,RDBMS\n"
        '104,"Marketing S3, Landing",S3'
    )
    assert dict(listing.calls.last.request.url.params) == {"internalID": "proj-001"}
    data = result.structured_content
    assert data is not None
    assert (data["total"], data["offset"], data["limit"], data["next_offset"], data["truncated"]) == (
        4,
        0,
        25,
        None,
        False,
    )
    assert data["fields"] == ["connectorID", "connectorName", "connectorType", "active"]
    assert "connectorHost" in data["omitted_fields"]
    assert data["items"][2] == {
        "connectorID": 103,
        "connectorName": "Café Orders",
        "connectorType": "RDBMS",
        "active": False,
    }


async def test_list_connectors_pages_with_limit_and_offset(mcp: Client, listing: respx.Route) -> None:
    first = await mcp.call_tool("list_connectors", {"project_id": "proj-001", "limit": 2})
    second = await mcp.call_tool("list_connectors", {"project_id": "proj-001", "limit": 2, "offset": 2})

    assert text(first).splitlines()[0] == (
        "4 connectors in proj-001, showing 1–2 (1 inactive, none on this page); next: offset=2"
    )
    assert text(second).splitlines()[0] == "4 connectors in proj-001, showing 3–4 (inactive: 103)"
    assert [row.split(",")[0] for row in text(second).splitlines()[2:]] == ["103", "104"]
    assert listing.call_count == 1  # the second page came from the cache


async def test_list_connectors_filters_and_says_so(mcp: Client, listing: respx.Route) -> None:
    result = await mcp.call_tool(
        "list_connectors", {"project_id": "proj-001", "connector_type": "rdbms", "active": False}
    )

    assert text(result) == (
        "1 of 4 connectors in proj-001 matching connector_type='rdbms', active=false (inactive: 103)\n"
        "connectorID,connectorName,connectorType\n"
        "103,Café Orders,RDBMS"
    )


async def test_name_contains_ignores_case_and_accents(mcp: Client, listing: respx.Route) -> None:
    result = await mcp.call_tool("list_connectors", {"project_id": "proj-001", "name_contains": "CAFE"})

    assert text(result).splitlines()[2] == "103,Café Orders,RDBMS"


async def test_fields_picks_columns_and_star_shows_all(mcp: Client, listing: respx.Route) -> None:
    picked = await mcp.call_tool(
        "list_connectors", {"project_id": "proj-002", "fields": ["connectorID", "connectorHost"]}
    )
    everything = await mcp.call_tool("list_connectors", {"project_id": "proj-002", "fields": ["*"]})

    assert text(picked).splitlines()[1:] == [
        "connectorID,connectorHost",
        "105,host105.example.com",
        "106,host106.example.com",
    ]
    # "*" is every field the list answer carries: the reference's list has 12 of get_connector's 15.
    assert text(everything).splitlines()[1] == (
        "connectorID,connectorName,connectorType,connectorHost,connectorPort,connectorDatabaseName,"
        "institutionID,internalID,ownerID,active,createdDate,lastModifiedDate"
    )
    assert everything.structured_content is not None
    assert everything.structured_content["omitted_fields"] == []


async def test_a_field_the_list_answer_lacks_is_refused_naming_get_connector(mcp: Client, listing: respx.Route) -> None:
    """An empty connectorUsername column would read as "no username": the list answer just lacks it."""
    for tool, arguments in (
        ("list_connectors", {"project_id": "proj-002"}),
        ("find_connectors", {"query": "orders"}),
    ):
        result = await mcp.call_tool(tool, {**arguments, "fields": ["connectorID", "connectorUsername"]})
        assert result.is_error
        assert text(result) == (
            "fields: the API's connector list does not carry connectorUsername; "
            "get_connector(connector_id=...) shows every field of one connector."
        )


async def test_an_unknown_field_beside_star_is_refused(mcp: Client, listing: respx.Route) -> None:
    result = await mcp.call_tool("list_connectors", {"project_id": "proj-002", "fields": ["*", "bogus"]})

    assert result.is_error
    assert text(result).startswith("Unknown field in fields: bogus. Available: connectorID, connectorName,")


async def test_asking_for_active_shows_it_as_a_column(mcp: Client, listing: respx.Route) -> None:
    result = await mcp.call_tool("list_connectors", {"project_id": "proj-001", "fields": ["connectorID", "active"]})

    assert text(result).splitlines() == [
        "4 connectors in proj-001",
        "connectorID,active",
        "101,true",
        "102,true",
        "103,false",
        "104,true",
    ]


async def test_connectors_whose_state_is_unknown_are_named(router: respx.Router, mcp: Client) -> None:
    router.get("/api/connector").respond(
        json=[{"connectorID": 1, "internalID": "p"}, {"connectorID": 2, "internalID": "p", "active": False}]
    )

    result = await mcp.call_tool("list_connectors", {"project_id": "p"})

    assert text(result).splitlines()[0] == "2 connectors in p (inactive: 2; active unknown: 1)"


async def test_unknown_fields_are_named_with_the_available_ones(mcp: Client, listing: respx.Route) -> None:
    result = await mcp.call_tool("list_connectors", {"project_id": "proj-001", "fields": ["connectorID", "colour"]})

    assert result.is_error
    assert text(result).startswith("Unknown field in fields: colour. Available: connectorID, connectorName,")


async def test_project_id_is_required_without_a_default(mcp: Client, listing: respx.Route) -> None:
    result = await mcp.call_tool("list_connectors", {})

    assert result.is_error
    assert text(result) == (
        "project_id is required: pass project_id=... (the project's internalID; list_projects() shows them)."
    )
    assert listing.call_count == 0


async def test_a_default_project_makes_project_id_optional(make_server: ServerFactory, listing: respx.Route) -> None:
    async with Client(make_server(project="proj-002")) as client:
        result = await client.call_tool("list_connectors", {})

    assert text(result).splitlines()[0] == "2 connectors in proj-002 (all active)"


async def test_a_project_that_does_not_exist_is_an_error_with_the_nearest_id(mcp: Client, listing: respx.Route) -> None:
    # A typo must not read as an empty project (issue 16 #8): the API's connector list says what exists.
    result = await mcp.call_tool("list_connectors", {"project_id": "proj-404"})

    assert result.is_error
    assert text(result) == (
        "project_id: 'proj-404' is not a project of any connector this token can see; did you mean 'proj-003'? "
        "list_projects() shows them."
    )


async def test_a_project_the_user_has_but_with_no_connectors_is_an_empty_listing(
    mcp: Client, router: respx.Router, listing: respx.Route
) -> None:
    router.get("/api/my/projects").respond(json=[{"internalID": "proj-new", "name": "New", "institutionId": 1}])

    result = await mcp.call_tool("list_connectors", {"project_id": "proj-new"})

    assert not result.is_error
    assert text(result) == "0 connectors in proj-new\nCheck the project ID with list_projects()."


async def test_find_connectors_searches_every_project(mcp: Client, listing: respx.Route) -> None:
    result = await mcp.call_tool("find_connectors", {"query": "finance"})

    assert text(result) == (
        "2 of 7 connectors match 'finance' (all active)\n"
        "connectorID,connectorName,connectorType,internalID\n"
        "102,Finance Snowflake,Snowflake,proj-001\n"
        "106,Zürich Finance,Snowflake,proj-002"
    )


async def test_find_connectors_says_how_to_see_more_without_an_offset_it_does_not_take(
    mcp: Client, listing: respx.Route
) -> None:
    result = await mcp.call_tool("find_connectors", {"query": "finance", "limit": 1})

    assert text(result).splitlines()[0] == (
        "2 of 7 connectors match 'finance', showing 1–1 (all active); "
        "more: add words to the query, or raise limit (up to 50)"
    )
    assert result.structured_content is not None
    assert result.structured_content["next_offset"] is None  # there is no offset to pass


async def test_a_page_of_several_says_which_inactive_are_on_it_and_how_many_in_all(
    router: respx.Router, mcp: Client
) -> None:
    router.get("/api/connector").respond(
        json=[connector(n, f"C{n}", "RDBMS", "p", active=n not in (2, 4)) for n in range(1, 6)]
    )

    first = await mcp.call_tool("list_connectors", {"project_id": "p", "limit": 3})
    last = await mcp.call_tool("list_connectors", {"project_id": "p", "limit": 3, "offset": 3})

    assert text(first).splitlines()[0] == (
        "5 connectors in p, showing 1–3 (2 inactive, on this page: 2); next: offset=3"
    )
    assert text(last).splitlines()[0] == "5 connectors in p, showing 4–5 (2 inactive, on this page: 4)"


async def test_a_type_the_project_does_not_have_is_answered_with_the_types_it_has(
    mcp: Client, listing: respx.Route
) -> None:
    result = await mcp.call_tool("list_connectors", {"project_id": "proj-001", "connector_type": "Postgres"})

    assert text(result) == (
        "0 of 4 connectors in proj-001 matching connector_type='Postgres'\n"
        "connector_type: proj-001 has RDBMS, S3, Snowflake."
    )


async def test_a_pasted_project_id_loses_its_spaces(mcp: Client, listing: respx.Route) -> None:
    result = await mcp.call_tool("list_connectors", {"project_id": "  proj-002 "})

    assert text(result).splitlines()[0] == "2 connectors in proj-002 (all active)"
    assert listing.calls.last.request.url.params["internalID"] == "proj-002"


async def test_an_empty_answer_blames_the_institution_filter_when_one_was_given(
    mcp: Client, listing: respx.Route
) -> None:
    projects = await mcp.call_tool("list_projects", {"institution_id": 99})
    connectors = await mcp.call_tool("list_connectors", {"project_id": "proj-001", "institution_id": 2})

    assert text(projects) == (
        "0 projects with 0 connectors in institution 99\n"
        "None visible to this token; list_projects() without institution_id shows every institution's."
    )
    assert text(connectors) == (
        "0 connectors in proj-001 of institution 2\nCheck the project and institution IDs with list_projects()."
    )


async def test_find_connectors_ranks_name_matches_first_and_folds_accents(mcp: Client, listing: respx.Route) -> None:
    result = await mcp.call_tool("find_connectors", {"query": "zurich snowflake"})
    host = await mcp.call_tool("find_connectors", {"query": "host107"})

    assert text(result).splitlines()[2] == "106,Zürich Finance,Snowflake,proj-002"
    assert text(host).splitlines()[2] == "107,東京 Warehouse,BigQuery,proj-003"


async def test_projects_then_connectors_then_find_cost_one_upstream_call(mcp: Client, listing: respx.Route) -> None:
    await mcp.call_tool("list_projects", {})
    await mcp.call_tool("list_connectors", {"project_id": "proj-001"})
    await mcp.call_tool("find_connectors", {"query": "müller"})

    assert listing.call_count == 1


async def test_a_cache_ttl_of_zero_turns_the_cache_off(make_server: ServerFactory, listing: respx.Route) -> None:
    async with Client(make_server(cache_ttl=0)) as client:
        await client.call_tool("list_projects", {})
        await client.call_tool("list_projects", {})

    assert listing.call_count == 2


async def test_get_connector_shows_every_reference_field_and_names_the_extras(
    mcp: Client, router: respx.Router
) -> None:
    router.get("/api/connector/101").respond(
        json={**CONNECTORS[0], "connectorUsername": "databasin_user", "notes": "x" * 5000, "options": {"ssl": True}}
    )

    result = await mcp.call_tool("get_connector", {"connector_id": 101})

    assert text(result) == (
        "connectorID: 101\n"
        "connectorName: Production MySQL\n"
        "connectorType: RDBMS\n"
        "connectorHost: host101.example.com\n"
        "connectorPort: 5432\n"
        "connectorDatabaseName: db101\n"
        "connectorUsername: databasin_user\n"
        "institutionID: 1\n"
        "internalID: proj-001\n"
        "ownerID: 456\n"
        "active: true\n"
        "createdDate: 2025-01-15T10:30:00Z\n"
        "lastModifiedDate: 2025-01-20T14:45:00Z\n"
        "empty: connectorAuthType, connectorMaxConnections\n"
        "more fields: notes, options (ask with fields=[...])"
    )
    assert result.structured_content is not None
    assert result.structured_content["omitted_fields"] == ["notes", "options"]


async def test_get_connector_with_fields_shows_just_those(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector/101").respond(json={**CONNECTORS[0], "options": {"ssl": True, "mode": "verify"}})

    result = await mcp.call_tool("get_connector", {"connector_id": 101, "fields": ["options", "active"]})

    assert text(result) == "connectorID: 101\noptions: {ssl: true, mode: verify}\nactive: true"


# --- errors an agent can act on ------------------------------------------------------------------


async def test_not_found_says_how_to_find_ids(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector/999").respond(
        404, json={"error": "Not Found", "message": "Connector with ID 999 not found", "status": 404}
    )

    result = await mcp.call_tool("get_connector", {"connector_id": 999})

    assert result.is_error
    assert text(result) == (
        "Connector 999 not found. Find IDs with list_connectors(project_id=...) or find_connectors(query=...)."
    )


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"connector_id": -1}, "Invalid argument: connector_id: Input should be greater than or equal to 1."),
        ({"connector_id": "abc"}, "Invalid argument: connector_id: Input should be a valid integer"),
        ({"connector_id": 2**64}, "Invalid argument: connector_id: must be at most 9,223,372,036,854,775,807."),
        ({"connector_id": True}, "Invalid argument: connector_id: must be a number, not true or false. Fix and"),
        ({}, "Invalid argument: connector_id is required. Fix and call again."),
        ({"connector_id": 1, "fields": ["a b"]}, "Invalid argument: fields: 'a b' is not a field name"),
        ({"connectorId": 5}, "Unknown argument connectorId for get_connector; it takes: connector_id, fields."),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    mcp: Client, router: respx.Router, arguments: dict[str, Any], expected: str
) -> None:
    route = router.route().respond(json={})

    result = await mcp.call_tool("get_connector", arguments)

    assert result.is_error
    assert text(result).startswith(expected)
    assert route.call_count == 0


async def test_a_refused_password_is_never_echoed_in_the_argument_error(mcp: Client, router: respx.Router) -> None:
    route = router.route().respond(json={})

    result = await mcp.call_tool("update_connector", {"connector_id": 1, "password": "x" * 1001 + "SECRETVALUE"})

    assert text(result) == "Invalid argument: password: must be at most 1,000 characters. Fix and call again."
    assert route.call_count == 0


async def test_missing_token_answers_where_it_looked(make_server: ServerFactory, router: respx.Router) -> None:
    route = router.route().respond(json=[])
    async with Client(make_server(token=None)) as client:
        result = await client.call_tool("list_projects", {})

    assert result.is_error
    assert text(result).startswith("No Databasin API token found: DATABASIN_TOKEN is not set and there is no token in ")
    assert route.call_count == 0


async def test_rate_limited_answer_says_when_to_retry(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector").respond(429, headers={"Retry-After": "300"})

    result = await mcp.call_tool("list_projects", {})

    assert result.is_error
    assert text(result).startswith("The Databasin API is rate limiting this token; try again in 300 s (at ")


async def test_server_errors_on_reads_suggest_trying_again(mcp: Client, router: respx.Router) -> None:
    route = router.get("/api/connector/1/catalogs").respond(502, text="<html>Bad Gateway</html>")

    result = await mcp.call_tool("list_catalogs", {"connector_id": 1})

    assert text(result) == (
        "Databasin API error 502 Bad Gateway (not a JSON body): Bad Gateway. Try again; "
        "if it keeps failing, the Databasin API is having trouble."
    )
    assert route.call_count == 3


async def test_an_unexpected_crash_is_an_error_result_without_a_traceback(
    mcp: Client, router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(self: Any, **_: Any) -> Any:
        raise KeyError("internal detail")

    monkeypatch.setattr(Directory, "list_projects", boom)

    result = await mcp.call_tool("list_projects", {})

    assert result.is_error
    assert text(result) == (
        "databasin-mcp failed unexpectedly in list_projects (KeyError); the details are in the server log."
    )


# --- writes --------------------------------------------------------------------------------------------


CREATE_ARGS = {
    "name": "Orders Postgres",
    "connector_type": "RDBMS",
    "institution_id": 1,
    "project_id": "proj-001",
    "host": "pg.example.com",
    "port": 5432,
    "username": "svc",
    "password": "pa55-w0rd-x",
}


async def test_create_posts_once_and_names_the_new_connector(
    mcp: Client, router: respx.Router, listing: respx.Route
) -> None:
    create = router.post("/api/connector").respond(
        json={"connectorID": 789, "message": "Connector created successfully", "status": "success"}
    )

    result = await mcp.call_tool("create_connector", CREATE_ARGS)

    assert text(result) == "Created connector 789 'Orders Postgres' (RDBMS) in proj-001."
    assert result.structured_content == {"summary": text(result), "created": True, "connector_id": 789}
    assert create.call_count == 1
    assert json.loads(create.calls.last.request.content) == {
        "connectorName": "Orders Postgres",
        "connectorType": "RDBMS",
        "connectorHost": "pg.example.com",
        "connectorPort": "5432",
        "connectorUsername": "svc",
        "connectorPassword": "pa55-w0rd-x",
        "institutionID": 1,
        "internalID": "proj-001",
    }


async def test_create_with_test_reports_both(mcp: Client, router: respx.Router, listing: respx.Route) -> None:
    router.post("/api/connector").respond(json={"connectorID": 789, "status": "success"})
    router.post("/api/connector/789/test").respond(
        json={"success": True, "message": "Connection test successful", "details": {"testDuration": "1.2s"}}
    )

    result = await mcp.call_tool("create_connector", {**CREATE_ARGS, "test": True})

    assert text(result) == (
        "Created connector 789 'Orders Postgres' (RDBMS) in proj-001.\n"
        "Connector 789 test passed: Connection test successful in 1.2s"
    )


async def test_a_failing_test_after_create_keeps_the_create(
    mcp: Client, router: respx.Router, listing: respx.Route
) -> None:
    router.post("/api/connector").respond(json={"connectorID": 789})
    router.post("/api/connector/789/test").respond(500)

    result = await mcp.call_tool("create_connector", {**CREATE_ARGS, "test": True})

    assert not result.is_error
    assert text(result).splitlines() == [
        "Created connector 789 'Orders Postgres' (RDBMS) in proj-001.",
        "Test could not run: Databasin API error 500 Internal Server Error (empty body).",
    ]


async def test_a_retried_create_answers_with_the_existing_connector(
    mcp: Client, router: respx.Router, listing: respx.Route
) -> None:
    create = router.post("/api/connector").respond(json={"connectorID": 790})

    result = await mcp.call_tool("create_connector", {**CREATE_ARGS, "name": "production mysql"})

    assert text(result) == (
        "Not created: proj-001 already has connector 101 named 'Production MySQL' (RDBMS). "
        "Use it (get_connector(connector_id=101)), or pass allow_duplicate=true to create another."
    )
    assert result.structured_content == {
        "summary": text(result),
        "created": False,
        "connector_id": 101,
        "duplicate": True,
    }
    assert create.call_count == 0


async def test_allow_duplicate_creates_anyway(mcp: Client, router: respx.Router, listing: respx.Route) -> None:
    create = router.post("/api/connector").respond(json={"connectorID": 790})

    result = await mcp.call_tool(
        "create_connector", {**CREATE_ARGS, "name": "Production MySQL", "allow_duplicate": True}
    )

    assert text(result).startswith("Created connector 790")
    assert create.call_count == 1


async def test_a_create_is_seen_by_the_next_listing(mcp: Client, router: respx.Router, listing: respx.Route) -> None:
    router.post("/api/connector").respond(json={"connectorID": 789})

    await mcp.call_tool("list_connectors", {"project_id": "proj-001"})
    await mcp.call_tool("create_connector", CREATE_ARGS)
    await mcp.call_tool("list_connectors", {"project_id": "proj-001"})

    # list, duplicate check (cached), list again after the write emptied the cache
    assert listing.call_count == 2


async def test_an_ambiguous_create_failure_says_a_retry_is_safe(
    mcp: Client, router: respx.Router, listing: respx.Route
) -> None:
    create = router.post("/api/connector").mock(side_effect=httpx.ReadTimeout("slow"))

    result = await mcp.call_tool("create_connector", CREATE_ARGS)

    assert result.is_error
    assert text(result).endswith(
        "The connector may or may not have been created. It is safe to call create_connector again: "
        "it answers with the connector if the first attempt went through, and never makes a duplicate."
    )
    assert create.call_count == 1


@pytest.mark.parametrize(
    ("arguments", "refusal"),
    [
        (
            {"institution_id": 2},
            "institution_id: proj-001 belongs to institution 1; pass institution_id=1. Nothing was created.",
        ),
        (
            {"project_id": "PROJ-001"},
            "project_id: 'PROJ-001' is not a project of any connector this token can see; did you mean "
            "'proj-001'? Project IDs are case-sensitive. list_projects() shows them. Nothing was created.",
        ),
    ],
)
async def test_a_create_aimed_at_the_wrong_project_is_refused(
    mcp: Client, router: respx.Router, listing: respx.Route, arguments: dict[str, Any], refusal: str
) -> None:
    create = router.post("/api/connector").respond(json={"connectorID": 789})

    result = await mcp.call_tool("create_connector", {**CREATE_ARGS, **arguments})

    assert result.is_error
    assert text(result) == refusal
    assert create.call_count == 0


async def test_the_first_connector_of_a_listed_project_is_created_and_said_to_be_first(
    mcp: Client, router: respx.Router, listing: respx.Route
) -> None:
    router.get("/api/my/projects").respond(json=[{"internalID": "proj-new", "name": "New", "institutionID": 1}])
    create = router.post("/api/connector").respond(json={"connectorID": 789})

    result = await mcp.call_tool("create_connector", {**CREATE_ARGS, "project_id": "proj-new"})

    assert text(result) == (
        "Created connector 789 'Orders Postgres' (RDBMS) in proj-new.\n"
        "It is the first connector in proj-new: if that is unexpected, check the ID with list_projects()."
    )
    assert create.call_count == 1


async def test_a_project_no_connector_names_is_refused_where_the_api_lists_no_projects(
    mcp: Client, router: respx.Router, listing: respx.Route
) -> None:
    # Only the connector list says what exists: a typo (issue 16 #1) cannot be told from a new project.
    create = router.post("/api/connector").respond(json={"connectorID": 789})

    result = await mcp.call_tool("create_connector", {**CREATE_ARGS, "project_id": "nope"})

    assert result.is_error
    assert text(result) == (
        "project_id: 'nope' is not a project of any connector this token can see. list_projects() shows them. "
        "Nothing was created."
    )
    assert create.call_count == 0


async def test_a_project_the_api_does_not_list_for_the_user_is_refused(
    mcp: Client, router: respx.Router, listing: respx.Route
) -> None:
    router.get("/api/my/projects").respond(json=[{"internalID": "proj-001", "name": "Sales", "institutionID": 1}])
    create = router.post("/api/connector").respond(json={"connectorID": 789})

    result = await mcp.call_tool("create_connector", {**CREATE_ARGS, "project_id": "proj-typo"})

    assert text(result) == (
        "project_id: 'proj-typo' is not one of your projects. list_projects() shows them. Nothing was created."
    )
    assert create.call_count == 0


async def test_a_rename_to_a_name_the_project_has_goes_through_and_says_so(
    mcp: Client, router: respx.Router, listing: respx.Route
) -> None:
    router.get("/api/connector/101").respond(json=CONNECTORS[0])
    put = router.put("/api/connector/101").respond(json={"connectorID": 101, "status": "success"})

    result = await mcp.call_tool("update_connector", {"connector_id": 101, "name": "café orders "})

    assert put.call_count == 1
    assert text(result) == (
        "Updated connector 101 (Production MySQL):\n"
        "connectorName: Production MySQL → café orders \n"
        "Note: proj-001 has another connector with this name: 103."
    )


async def test_update_sends_only_the_given_fields_and_shows_before_and_after(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector/101").respond(json=CONNECTORS[0])
    put = router.put("/api/connector/101").respond(json={"connectorID": 101, "status": "success"})

    result = await mcp.call_tool(
        "update_connector", {"connector_id": 101, "name": "Prod MySQL", "password": "n3w-pa55word", "port": 5432}
    )

    assert json.loads(put.calls.last.request.content) == {
        "connectorName": "Prod MySQL",
        "connectorPort": "5432",
        "connectorPassword": "n3w-pa55word",
    }
    assert text(result) == (
        "Updated connector 101 (Production MySQL):\n"
        "connectorName: Production MySQL → Prod MySQL\n"
        "connectorPort: 5432 → 5432 (unchanged)\n"
        "connectorPassword: *** → *** (changed)"
    )
    assert "n3w-pa55word" not in json.dumps(result.structured_content)


async def test_update_with_nothing_to_change_sends_nothing(mcp: Client, router: respx.Router) -> None:
    route = router.route().respond(json={})

    result = await mcp.call_tool("update_connector", {"connector_id": 101})

    assert text(result) == (
        "Nothing to update: give at least one of name, host, port, database, username, password, auth_type, "
        "max_connections, active."
    )
    assert route.call_count == 0


async def test_delete_without_confirm_deletes_nothing(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector/103").respond(json=CONNECTORS[2])
    delete = router.delete("/api/connector/103").respond(json={"status": "success"})

    result = await mcp.call_tool("delete_connector", {"connector_id": 103})

    assert delete.call_count == 0
    assert not result.is_error
    assert text(result) == (
        "Not deleted: confirm is false. This would delete connector 103 'Café Orders' (RDBMS, project proj-001). "
        "Whether pipelines use it could not be checked (this Databasin API has no pipeline list); any that do will "
        "fail. To delete it, call delete_connector(connector_id=103, confirm=true)."
    )


async def test_delete_with_confirm_deletes_and_names_what_it_deleted(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector/103").respond(json=CONNECTORS[2])
    delete = router.delete("/api/connector/103").respond(json={"message": "Connector deleted successfully"})

    result = await mcp.call_tool("delete_connector", {"connector_id": 103, "confirm": True})

    assert delete.call_count == 1
    assert text(result) == (
        "Deleted connector 103 'Café Orders' (RDBMS, project proj-001). Pipelines that used it will now fail."
    )
    assert result.structured_content is not None
    assert result.structured_content["deleted"] is True


async def test_delete_of_a_missing_connector_sends_no_delete(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector/999").respond(404, json={"message": "Connector with ID 999 not found"})
    delete = router.delete("/api/connector/999").respond(json={})

    result = await mcp.call_tool("delete_connector", {"connector_id": 999, "confirm": True})

    assert text(result).startswith("Connector 999 not found.")
    assert delete.call_count == 0


# --- actions ----------------------------------------------------------------------------------------------


async def test_a_failed_test_does_not_say_its_error_twice_in_other_words(mcp: Client, router: respx.Router) -> None:
    # Before: "Connection failed: connector is inactive (Connector inactive)" (issue 16 #12).
    router.post("/api/connector/133/test").respond(
        json={
            "success": False,
            "status": "error",
            "message": "Connection failed: connector is inactive",
            "error": "Connector inactive",
        }
    )

    result = await mcp.call_tool("test_connector", {"connector_id": 133})

    assert text(result) == "Connector 133 test FAILED: Connection failed: connector is inactive"


async def test_a_failed_connection_test_is_reported_not_raised(mcp: Client, router: respx.Router) -> None:
    router.post("/api/connector/101/test").respond(
        json={
            "success": False,
            "status": "error",
            "message": "Connection failed: Access denied for user 'databasin_user'@'10.0.0.5'",
            "error": "Authentication failure",
        }
    )

    result = await mcp.call_tool("test_connector", {"connector_id": 101})

    assert not result.is_error
    assert text(result) == (
        "Connector 101 test FAILED: Connection failed: Access denied for user 'databasin_user'@'10.0.0.5' "
        "(Authentication failure)"
    )
    assert result.structured_content is not None
    assert result.structured_content["success"] is False


async def test_a_failed_test_does_not_repeat_itself(mcp: Client, router: respx.Router) -> None:
    router.post("/api/connector/101/test").respond(
        json={"success": False, "message": "Connection failed: Connection timed out", "error": "Connection timed out"}
    )

    result = await mcp.call_tool("test_connector", {"connector_id": 101})

    assert text(result) == "Connector 101 test FAILED: Connection failed: Connection timed out"


async def test_test_details_lists_what_the_api_measured(mcp: Client, router: respx.Router) -> None:
    router.post("/api/connector/101/test").respond(
        json={"success": True, "message": "ok", "details": {"connectorType": "RDBMS", "testDuration": "1.2s"}}
    )

    result = await mcp.call_tool("test_connector", {"connector_id": 101, "details": True})

    assert text(result) == "Connector 101 test passed: ok\nconnectorType: RDBMS\ntestDuration: 1.2s"


async def test_refresh_sends_progress_while_it_waits(
    mcp: Client, router: respx.Router, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("databasin_mcp.ops.actions.PROGRESS_INTERVAL", 0.01)
    progressed = anyio.Event()
    updates: list[tuple[float, str | None]] = []

    async def slow_refresh(request: httpx.Request) -> httpx.Response:
        with anyio.fail_after(5):
            await progressed.wait()  # answer only once a progress notification went out
        return httpx.Response(
            200,
            content=b'{"message": "Metadata refresh initiated", "catalogCount": 5, "schemaCount": 42, '
            b'"tableCount": 1,234}',
        )

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, message))
        progressed.set()

    router.post("/api/connector/101/refresh").mock(side_effect=slow_refresh)

    result = await mcp.call_tool("refresh_connector_metadata", {"connector_id": 101}, progress_callback=on_progress)

    assert (
        text(result) == "Metadata refresh of connector 101: 5 catalogs, 42 schemas, 1,234 tables. "
        "The API says: Metadata refresh initiated."
    )
    assert updates
    assert updates[0][1] is not None
    assert updates[0][1].startswith("Refreshing metadata of connector 101: ")


# --- metadata ------------------------------------------------------------------------------------------------


def tables(count: int) -> list[dict[str, Any]]:
    return [
        {"tableName": f"t{i:04d}", "tableType": "TABLE", "rowCount": i * 10, "sizeInBytes": i * 1000}
        for i in range(count)
    ]


async def test_list_tables_pages_a_big_schema(mcp: Client, router: respx.Router) -> None:
    route = router.get("/api/connector/7/tables").respond(json=tables(1500)[::-1])

    first = await mcp.call_tool("list_tables", {"connector_id": 7, "catalog": "prod", "schema": "events"})
    last = await mcp.call_tool(
        "list_tables", {"connector_id": 7, "catalog": "prod", "schema": "events", "offset": 1450}
    )

    lines = text(first).splitlines()
    assert lines[0] == "1,500 tables in connector 7, prod.events, showing 1–50; next: offset=50"
    assert lines[1] == "tableName,tableType,rowCount"
    assert lines[2] == "t0000,TABLE,0"  # sorted by name, whatever order the API used
    assert len(lines) == 52
    assert text(last).splitlines()[0] == "1,500 tables in connector 7, prod.events, showing 1,451–1,500"
    assert route.call_count == 1
    assert dict(route.calls.last.request.url.params) == {"catalog": "prod", "schema": "events"}


async def test_list_tables_name_contains(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector/7/tables").respond(json=tables(1500))

    result = await mcp.call_tool("list_tables", {"connector_id": 7, "name_contains": "T014", "fields": ["tableName"]})

    assert text(result).splitlines() == [
        "10 of 1,500 tables in connector 7 matching name_contains='T014' (the API's default catalog and schema)",
        "tableName",
        *[f"t014{i}" for i in range(10)],
    ]


async def test_list_columns_keeps_table_order(mcp: Client, router: respx.Router) -> None:
    route = router.get("/api/connector/7/columns").respond(
        json=[
            {"columnName": "id", "dataType": "INT", "isNullable": False, "isPrimaryKey": True},
            {"columnName": "email", "dataType": "VARCHAR(255)", "isNullable": False, "isPrimaryKey": False},
        ]
    )

    result = await mcp.call_tool("list_columns", {"connector_id": 7, "schema": "public", "table": "customers"})

    assert text(result) == (
        "2 columns of public.customers in connector 7 (the API's default catalog; primary key: id)\n"
        "columnName,dataType,isNullable\n"
        "id,INT,false\n"
        "email,VARCHAR(255),false"
    )
    assert dict(route.calls.last.request.url.params) == {"schema": "public", "table": "customers"}


COMPOSITE_KEY = [
    {"columnName": "tenant_id", "dataType": "INT", "isNullable": False, "isPrimaryKey": True},
    {"columnName": "note", "dataType": "TEXT", "isNullable": True, "isPrimaryKey": False},
    {"columnName": "order_id", "dataType": "INT", "isNullable": False, "isPrimaryKey": True},
]


async def test_the_primary_key_is_named_once_for_the_whole_table(mcp: Client, router: respx.Router) -> None:
    route = router.get("/api/connector/7/columns").respond(json=COMPOSITE_KEY)
    args = {"connector_id": 7, "table": "orders"}

    second_page = await mcp.call_tool("list_columns", {**args, "limit": 1, "offset": 1})
    asked = await mcp.call_tool("list_columns", {**args, "fields": ["columnName", "isPrimaryKey"]})

    # The key is a property of the table: named on a page that does not hold it too.
    assert text(second_page) == (
        "3 columns of orders in connector 7, showing 2–2 "
        "(the API's default catalog and schema; primary key: tenant_id, order_id); next: offset=2\n"
        "columnName,dataType,isNullable\n"
        "note,TEXT,true"
    )
    assert second_page.structured_content["items"] == [
        {"columnName": "note", "dataType": "TEXT", "isNullable": True, "isPrimaryKey": False}
    ]
    # Asked for by name, it is a column like any other.
    assert text(asked).splitlines()[1:] == [
        "columnName,isPrimaryKey",
        "tenant_id,true",
        "note,false",
        "order_id,true",
    ]
    assert route.call_count == 1


async def test_a_table_without_a_key_says_so(mcp: Client, router: respx.Router) -> None:
    keyless = [{**column, "isPrimaryKey": False} for column in COMPOSITE_KEY]
    router.get("/api/connector/7/columns").respond(json=keyless)

    result = await mcp.call_tool("list_columns", {"connector_id": 7, "table": "events"})

    assert (
        text(result).splitlines()[0]
        == "3 columns of events in connector 7 (the API's default catalog and schema; no primary key)"
    )


async def test_catalogs_and_schemas(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector/7/catalogs").respond(
        json=[{"catalogName": "sales_data", "description": "Sales database"}, {"catalogName": "analytics_prod"}]
    )
    router.get("/api/connector/7/schemas").respond(json=[{"schemaName": "public", "description": "Public schema"}])

    catalogs = await mcp.call_tool("list_catalogs", {"connector_id": 7})
    schemas = await mcp.call_tool("list_schemas", {"connector_id": 7, "catalog": "sales_data"})
    defaulted = await mcp.call_tool("list_schemas", {"connector_id": 7})

    assert text(catalogs) == (
        "2 catalogs in connector 7\ncatalogName,description\nanalytics_prod,\nsales_data,Sales database"
    )
    assert text(schemas) == "1 schema in connector 7, catalog sales_data\nschemaName,description\npublic,Public schema"
    # Without a catalog the API answers for its default one, not for the whole connector.
    assert text(defaulted).splitlines()[0] == "1 schema in connector 7 (the API's default catalog)"


async def test_a_missing_schema_is_reported_in_the_apis_words(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector/7/tables").respond(404, json={"message": "Schema 'nope' not found in catalog 'prod'"})

    result = await mcp.call_tool("list_tables", {"connector_id": 7, "catalog": "prod", "schema": "nope"})

    assert text(result) == (
        "Schema 'nope' not found in catalog 'prod'. "
        "Check the names with list_catalogs(connector_id=7) or list_schemas(connector_id=7)."
    )


# --- the size cap -------------------------------------------------------------------------------------------


async def test_every_answer_is_held_under_the_character_cap(make_server: ServerFactory, router: respx.Router) -> None:
    router.get("/api/connector/7/tables").respond(json=tables(1500))
    async with Client(make_server(max_chars=2000)) as client:
        result = await client.call_tool("list_tables", {"connector_id": 7, "fields": ["*"], "limit": 500})

    body = text(result)
    assert len(body) <= 2000
    last = body.splitlines()[-1]
    assert last.startswith("… cut to ")
    assert "-character cap: ask for fewer fields or limit=" in last
    data = result.structured_content
    assert data is not None
    assert data["truncated"] is True
    assert data["next_offset"] == len(data["items"])
    assert (
        body.splitlines()[0]
        == f"1,500 tables in connector 7, showing 1–{len(data['items'])} (the API's default catalog and schema); "
        f"next: offset={len(data['items'])}"
    )


# --- secrets ------------------------------------------------------------------------------------------------


LEAKED = ["hunter2-leaked", "s3cr3t-leaked", "tok-abcdef123456"]


async def test_no_tool_output_ever_carries_a_secret(mcp: Client, router: respx.Router) -> None:
    leaky = {
        **CONNECTORS[0],
        "connectorPassword": "hunter2-leaked",
        "apiSecret": "s3cr3t-leaked",
        "jdbcUrl": "postgresql://svc:hunter2-leaked@db:5432/x",
    }
    router.get("/api/connector").respond(json=[leaky])
    router.get("/api/connector/101").respond(json=leaky)
    router.post("/api/connector/101/test").respond(
        json={"success": False, "message": "password hunter2-leaked rejected; url jdbc://a:s3cr3t-leaked@h"}
    )
    router.get("/api/connector/101/tables").respond(
        json=[{"tableName": "t", "secretKey": "s3cr3t-leaked", "ddl": "CREATE USER x PASSWORD=hunter2-leaked"}]
    )
    router.put("/api/connector/101").respond(400, json={"message": "token=tok-abcdef123456 cannot set hunter2-leaked"})

    calls = [
        ("list_projects", {}),
        ("list_connectors", {"project_id": "proj-001", "fields": ["*"]}),
        ("find_connectors", {"query": "production", "fields": ["*"]}),
        ("get_connector", {"connector_id": 101, "fields": ["*"]}),
        ("get_connector", {"connector_id": 101}),
        ("test_connector", {"connector_id": 101, "details": True}),
        ("list_tables", {"connector_id": 101, "fields": ["*"]}),
        ("update_connector", {"connector_id": 101, "password": "hunter2-leaked"}),
    ]
    for name, arguments in calls:
        result = await mcp.call_tool(name, arguments)
        dumped = result.model_dump_json()
        for secret in LEAKED:
            assert secret not in dumped, (name, secret)


async def test_a_failed_look_up_before_a_write_says_nothing_changed(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector/101").respond(503)
    put = router.put("/api/connector/101").respond(json={"status": "success"})

    result = await mcp.call_tool("update_connector", {"connector_id": 101, "name": "x"})

    assert text(result) == ("Databasin API error 503 Service Unavailable (empty body). Nothing was changed; try again.")
    assert put.call_count == 0


async def test_a_create_that_never_left_can_be_retried_at_once(
    mcp: Client, router: respx.Router, listing: respx.Route
) -> None:
    create = router.post("/api/connector").mock(
        side_effect=[httpx.ConnectError("refused")] * 3 + [httpx.Response(200, json={"connectorID": 790})]
    )

    failed = await mcp.call_tool("create_connector", CREATE_ARGS)
    retried = await mcp.call_tool("create_connector", CREATE_ARGS)

    assert text(failed).endswith(
        "(refused or unreachable). Check DATABASIN_API_URL and that the API is up. Nothing was changed; try again."
    )
    assert text(retried).startswith("Created connector 790")
    assert create.call_count == 4


async def test_a_retry_after_an_unanswered_create_waits_instead_of_duplicating(
    mcp: Client, router: respx.Router, listing: respx.Route, monkeypatch: pytest.MonkeyPatch
) -> None:
    create = router.post("/api/connector").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json={"connectorID": 791})]
    )

    await mcp.call_tool("create_connector", CREATE_ARGS)
    waiting = await mcp.call_tool("create_connector", {**CREATE_ARGS, "name": " orders POSTGRES "})

    assert not waiting.is_error
    assert text(waiting).startswith(
        "Not created: a create of ' orders POSTGRES ' in proj-001 got no answer 0 s ago and may still go through. "
        "Check with find_connectors(query=' orders POSTGRES ') in a minute, or pass allow_duplicate=true"
    )
    assert waiting.structured_content == {
        "summary": text(waiting),
        "created": False,
        "connector_id": None,
        "pending": True,
    }
    assert create.call_count == 1

    monkeypatch.setattr("databasin_mcp.ops.writes.UNANSWERED_CREATE_WINDOW", 0.0)
    later = await mcp.call_tool("create_connector", CREATE_ARGS)

    assert text(later).startswith("Created connector 791")
    assert create.call_count == 2


# --- answers that must not misstate facts (issue 12, finding 17) ---------------------------------------


@pytest.mark.parametrize("confirm", ["yes", "true", "True", 1, 1.0, "1", "false", 0])
async def test_delete_is_confirmed_only_by_the_json_boolean_true(
    mcp: Client, router: respx.Router, confirm: Any
) -> None:
    route = router.route().respond(json=CONNECTORS[2])

    result = await mcp.call_tool("delete_connector", {"connector_id": 103, "confirm": confirm})

    assert result.is_error
    assert text(result) == (
        "Invalid argument: confirm: must be true or false (a JSON boolean, not text or a number). Fix and call again."
    )
    assert route.call_count == 0  # refused before any request: nothing looked up, nothing deleted


async def test_delete_connectors_confirm_stays_a_plain_boolean_in_the_schema(mcp: Client) -> None:
    (tool,) = [t for t in (await mcp.list_tools()).tools if t.name == "delete_connector"]

    assert tool.input_schema["properties"]["confirm"] == {"default": False, "type": "boolean"}


def ignores_filters(request: httpx.Request) -> httpx.Response:
    """An upstream that answers every connector whatever ?internalID= or ?institutionID= says."""
    return httpx.Response(200, json=CONNECTORS)


async def test_an_upstream_that_ignores_the_project_filter_lists_only_that_project(
    mcp: Client, router: respx.Router
) -> None:
    router.get("/api/connector").mock(side_effect=ignores_filters)

    result = await mcp.call_tool("list_connectors", {"project_id": "proj-002"})
    of_institution = await mcp.call_tool("list_connectors", {"project_id": "proj-003", "institution_id": 1})

    assert text(result) == (
        "2 connectors in proj-002 (all active)\n"
        "connectorID,connectorName,connectorType\n"
        "105,Müller ERP,Salesforce\n"
        "106,Zürich Finance,Snowflake"
    )
    assert text(of_institution).startswith("0 connectors in proj-003 of institution 1\n")


async def test_an_upstream_that_ignores_the_project_filter_names_no_other_projects_duplicate(
    mcp: Client, router: respx.Router
) -> None:
    router.get("/api/connector").mock(side_effect=ignores_filters)
    post = router.post("/api/connector").respond(json={"connectorID": 200, "message": "created"})

    # "Production MySQL" exists, but in proj-001: proj-002 has no connector of that name.
    result = await mcp.call_tool(
        "create_connector",
        {"name": "Production MySQL", "connector_type": "RDBMS", "institution_id": 1, "project_id": "proj-002"},
    )

    assert not result.is_error, text(result)
    assert text(result) == "Created connector 200 'Production MySQL' (RDBMS) in proj-002."
    assert post.call_count == 1


async def test_get_connector_refuses_an_answer_about_another_connector(mcp: Client, router: respx.Router) -> None:
    router.get("/api/connector/101").respond(json=CONNECTORS[1])  # connector 102's record

    result = await mcp.call_tool("get_connector", {"connector_id": 101})

    assert result.is_error
    assert text(result) == (
        "The Databasin API answered with connector 102 when asked for connector 101; that answer was not used. "
        "Try again; if it persists, the API or a proxy in front of it is mixing up answers."
    )


@pytest.mark.parametrize(
    ("tool", "arguments", "not_done"),
    [
        ("delete_connector", {"confirm": True}, "Nothing was deleted."),
        ("update_connector", {"host": "elsewhere.example.com"}, "Nothing was updated."),
    ],
)
async def test_a_write_is_not_sent_when_the_look_up_answers_about_another_connector(
    mcp: Client, router: respx.Router, tool: str, arguments: dict[str, Any], not_done: str
) -> None:
    router.get("/api/connector/101").respond(json=CONNECTORS[1])
    write = router.route(method__in=["PUT", "DELETE"]).respond(json={"message": "done"})

    result = await mcp.call_tool(tool, {"connector_id": 101, **arguments})

    assert result.is_error
    assert f"when asked for connector 101; that answer was not used. {not_done}" in text(result)
    assert write.call_count == 0
