"""One odd record never fails a listing (issue 12, finding 7).

A backend that serialises one record differently (a date in epoch milliseconds, a port as 3306.0, a flag as
"true" or "ACTIVE", a name that is a number) must not fail list_projects, list_connectors, find_connectors
or the duplicate check of create_connector for the other 479. Known shapes are read as what they mean;
anything still unreadable is left empty and said once in the listing's title; a record without a usable
ID cannot be shown and is left out, and that is said too.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from mcp import Client

from databasin_mcp.harness.results import call, text
from databasin_mcp.models import Catalog, Column, Connector, RefreshResult, Schema, Table, WriteResult
from databasin_mcp.real_records import Project
from tests.conftest import ServerFactory

pytestmark = pytest.mark.anyio

PROJECT = "proj-001"
ODD_ID = 105  # the sixth record: connectors[5]


def connector(cid: int, project: str = PROJECT, **fields: Any) -> dict[str, Any]:
    return {
        "connectorID": cid,
        "connectorName": f"Source {cid}",
        "connectorType": "RDBMS",
        "connectorHost": f"db{cid}.example.com",
        "connectorPort": "5432",
        "institutionID": 1,
        "internalID": project,
        "active": True,
        "createdDate": "2025-01-15T10:30:00Z",
        **fields,
    }


def fleet(odd: dict[str, Any]) -> list[dict[str, Any]]:
    """480 connectors over four projects; the sixth (connectors[5], ID 105) has the odd fields."""
    rows = [connector(100 + n, project=f"proj-00{1 + n % 4}" if n >= 10 else PROJECT) for n in range(480)]
    rows[5] = {**rows[5], **odd}
    return rows


def serve(router: respx.Router, rows: list[dict[str, Any]]) -> respx.Route:
    def listing(request: httpx.Request) -> httpx.Response:
        project = request.url.params.get("internalID")
        return httpx.Response(200, json=[r for r in rows if project is None or r.get("internalID") == project])

    router.post("/api/connector").respond(json={"connectorID": 900, "message": "created"})
    return router.get("/api/connector").mock(side_effect=listing)


# --- the shapes seen in the wild are read as what they mean ------------------------------------------

EPOCH_S = 1736937000  # 2025-01-15T10:30:00Z


@pytest.mark.parametrize(
    ("odd", "field", "read_as"),
    [
        ({"createdDate": EPOCH_S * 1000}, "createdDate", "2025-01-15T10:30:00Z"),
        ({"createdDate": EPOCH_S}, "createdDate", "2025-01-15T10:30:00Z"),
        ({"createdDate": str(EPOCH_S * 1000)}, "createdDate", "2025-01-15T10:30:00Z"),
        ({"lastModifiedDate": EPOCH_S * 1000 + 250}, "lastModifiedDate", "2025-01-15T10:30:00.250Z"),
        ({"lastModifiedDate": float(EPOCH_S)}, "lastModifiedDate", "2025-01-15T10:30:00Z"),
        ({"connectorPort": 3306.0}, "connectorPort", "3306"),
        ({"connectorPort": 3306}, "connectorPort", "3306"),
        ({"active": "ACTIVE"}, "active", True),
        ({"active": "Inactive"}, "active", False),
        ({"active": "enabled"}, "active", True),
        ({"active": "DISABLED"}, "active", False),
        ({"active": "yes"}, "active", True),
        ({"active": 0}, "active", False),
        ({"active": None, "isActive": "true"}, "active", True),
        ({"active": None, "isActive": "false"}, "active", False),
        ({"active": None, "isActive": "yes"}, "active", True),
        ({"active": None, "isActive": "1"}, "active", True),
        ({"active": None, "isActive": 0}, "active", False),
        ({"active": None, "isActive": 1.0}, "active", True),
        ({"connectorName": 12345}, "connectorName", "12345"),
        ({"connectorName": 12.5}, "connectorName", "12.5"),
        ({"connectorDatabaseName": 2024}, "connectorDatabaseName", "2024"),
        ({"internalID": 7}, "internalID", "7"),
        ({"institutionID": 1.0}, "institutionID", 1),
        ({"connectorMaxConnections": "8.0"}, "connectorMaxConnections", 8),
        ({"connectorMaxConnections": 8.0}, "connectorMaxConnections", 8),
        ({"connectorID": 105.0}, "connectorID", 105),
        ({"connectorID": "105"}, "connectorID", 105),
    ],
)
async def test_a_known_odd_shape_is_read_as_what_it_means(odd: dict[str, Any], field: str, read_as: Any) -> None:
    record = Connector.read(connector(ODD_ID, **odd))

    assert getattr(record, field) == read_as
    assert record.unread_fields == ()


@pytest.mark.parametrize(
    ("model", "raw", "expected"),
    [
        (Table, {"tableName": 2024, "rowCount": "12.0", "sizeInBytes": 4096.0}, {"tableName": "2024", "rowCount": 12}),
        (Table, {"tableName": "orders", "rowCount": "1,234", "tableType": 1}, {"rowCount": 1234, "tableType": "1"}),
        (Column, {"columnName": 7, "isNullable": "YES", "isPrimaryKey": "NO"}, {"columnName": "7", "isNullable": True}),
        (
            Column,
            {"columnName": "id", "isNullable": "N", "isPrimaryKey": 1},
            {"isNullable": False, "isPrimaryKey": True},
        ),
        (Catalog, {"catalogName": 1999, "description": 5}, {"catalogName": "1999", "description": "5"}),
        (Schema, {"schemaName": 2.0}, {"schemaName": "2"}),
        (Project, {"internalId": 42, "name": 17, "institutionId": 4.0}, {"internalID": "42", "name": "17"}),
        (RefreshResult, {"tableCount": "12.0", "catalogCount": 2.0}, {"tableCount": 12, "catalogCount": 2}),
        (WriteResult, {"connectorID": "901", "message": 200}, {"connectorID": 901, "message": "200"}),
    ],
)
async def test_metadata_and_other_records_read_the_same_shapes(
    model: type[Any], raw: dict[str, Any], expected: dict[str, Any]
) -> None:
    record = model.read(raw)

    assert {name: getattr(record, name) for name in expected} == expected
    assert record.unread_fields == ()


# --- the four tools the issue names, with each odd shape among 480 records ----------------------------

ODD_SHAPES = [
    {"createdDate": EPOCH_S * 1000},
    {"connectorPort": 3306.0},
    {"active": None, "isActive": "true"},
    {"active": "ACTIVE"},
    {"connectorName": 12345},
]


@pytest.mark.parametrize(
    "odd", ODD_SHAPES, ids=lambda odd: next(iter(odd.items()))[0] + "=" + repr(odd[next(iter(odd))])
)
async def test_one_odd_record_of_480_fails_no_listing_and_no_create(
    make_server: ServerFactory, router: respx.Router, odd: dict[str, Any]
) -> None:
    serve(router, fleet(odd))
    async with Client(make_server(cache_ttl=0)) as client:
        projects = await call(client, "list_projects", {})
        listed = await call(client, "list_connectors", {"project_id": PROJECT, "limit": 200})
        found = await call(client, "find_connectors", {"query": "Source 10", "limit": 50})
        created = await call(
            client,
            "create_connector",
            {"name": "Brand New", "connector_type": "RDBMS", "institution_id": 1, "project_id": PROJECT},
        )

    for result in (projects, listed, found, created):
        assert not result.is_error, text(result)
    assert text(projects).startswith("4 projects with 480 connectors\n")
    assert text(listed).startswith("127 connectors in proj-001 (all active)\n")
    assert "could not" not in text(listed)
    assert listed.structured_content is not None
    assert ODD_ID in [item["connectorID"] for item in listed.structured_content["items"]]
    assert text(created) == "Created connector 900 'Brand New' (RDBMS) in proj-001."


async def test_a_same_name_odd_record_still_stops_a_duplicate_create(
    make_server: ServerFactory, router: respx.Router
) -> None:
    post = router.post("/api/connector").respond(json={"connectorID": 900})
    serve(router, fleet({"connectorName": "Orders", "createdDate": EPOCH_S * 1000, "connectorPort": 3306.0}))
    async with Client(make_server()) as client:
        result = await call(
            client,
            "create_connector",
            {"name": "orders", "connector_type": "RDBMS", "institution_id": 1, "project_id": PROJECT},
        )

    assert text(result) == (
        "Not created: proj-001 already has connector 105 named 'Orders' (RDBMS). "
        "Use it (get_connector(connector_id=105)), or pass allow_duplicate=true to create another."
    )
    assert post.call_count == 0


# --- what still cannot be read is left empty and said once ----------------------------------------------


async def test_an_unreadable_field_is_left_empty_and_named_in_the_title(
    make_server: ServerFactory, router: respx.Router
) -> None:
    rows = [
        connector(101),
        connector(102, createdDate={"$date": "soon"}, active="maybe"),
        connector(103, connectorPort=[5432]),
    ]
    serve(router, rows)
    async with Client(make_server()) as client:
        listed = await call(
            client,
            "list_connectors",
            {"project_id": PROJECT, "fields": ["connectorID", "connectorPort", "createdDate"]},
        )
        default = await call(client, "list_connectors", {"project_id": PROJECT})

    assert not listed.is_error, text(listed)
    assert text(listed) == (
        "3 connectors in proj-001 (2 connectors could not be fully read: 102 (active, createdDate), "
        "103 (connectorPort))\n"
        "connectorID,connectorPort,createdDate\n"
        "101,5432,2025-01-15T10:30:00Z\n"
        "102,5432,\n"
        "103,,2025-01-15T10:30:00Z"
    )
    assert text(default).splitlines()[0] == (
        "3 connectors in proj-001 (2 connectors could not be fully read: 102 (active, createdDate), "
        "103 (connectorPort); active unknown: 102)"
    )


async def test_a_record_without_a_usable_id_is_left_out_and_said(
    make_server: ServerFactory, router: respx.Router
) -> None:
    rows = [
        connector(101),
        {**connector(0), "connectorID": "n/a"},
        {**connector(0), "connectorID": None},
        connector(104),
    ]
    serve(router, rows)
    async with Client(make_server()) as client:
        listed = await call(client, "list_connectors", {"project_id": PROJECT})
        projects = await call(client, "list_projects", {})

    assert not listed.is_error, text(listed)
    assert text(listed) == (
        "2 connectors in proj-001 (2 connectors left out: their connectorID could not be read; all active)\n"
        "connectorID,connectorName,connectorType\n"
        "101,Source 101,RDBMS\n"
        "104,Source 104,RDBMS"
    )
    assert text(projects).splitlines()[0] == (
        "1 project with 2 connectors (2 connectors left out: their connectorID could not be read)"
    )


async def test_get_connector_shows_what_it_could_read_and_names_the_rest(
    make_server: ServerFactory, router: respx.Router
) -> None:
    router.get("/api/connector/102").respond(json=connector(102, createdDate={"$date": 1}))
    async with Client(make_server()) as client:
        result = await call(client, "get_connector", {"connector_id": 102})

    assert not result.is_error, text(result)
    assert text(result).splitlines()[-1] == "could not be read: createdDate"
    assert result.structured_content is not None
    assert result.structured_content["connector"]["connectorHost"] == "db102.example.com"
    assert result.structured_content["connector"]["createdDate"] is None


async def test_one_odd_table_or_column_fails_no_metadata_listing(
    make_server: ServerFactory, router: respx.Router
) -> None:
    router.get("/api/connector/7/tables").respond(
        json=[
            {"tableName": "orders", "tableType": "TABLE", "rowCount": "n/a"},
            {"tableName": 2024, "tableType": "TABLE", "rowCount": 12.0},
            {"tableType": "VIEW", "rowCount": 3},
            {"tableName": "users", "tableType": "TABLE", "rowCount": "1,500"},
        ]
    )
    router.get("/api/connector/7/columns").respond(
        json=[
            {"columnName": "id", "dataType": "int", "isNullable": "NO", "isPrimaryKey": "YES"},
            {"columnName": "note", "dataType": {"name": "text"}, "isNullable": "YES", "isPrimaryKey": 0},
        ]
    )
    async with Client(make_server()) as client:
        tables = await call(client, "list_tables", {"connector_id": 7, "catalog": "c", "schema": "s"})
        columns = await call(client, "list_columns", {"connector_id": 7, "catalog": "c", "schema": "s", "table": "t"})

    assert text(tables) == (
        "3 tables in connector 7, c.s (1 table could not be fully read: orders (rowCount); "
        "1 table left out: its tableName could not be read)\n"
        "tableName,tableType,rowCount\n"
        "2024,TABLE,12\n"
        "orders,TABLE,\n"
        "users,TABLE,1500"
    )
    assert text(columns) == (
        "2 columns of c.s.t in connector 7 (1 column could not be fully read: note (dataType); primary key: id)\n"
        "columnName,dataType,isNullable\n"
        "id,int,false\n"
        "note,,true"
    )


async def test_an_odd_project_record_fails_no_project_listing(make_server: ServerFactory, router: respx.Router) -> None:
    serve(router, [connector(101)])
    router.get("/api/my/projects").respond(
        json=[
            {"internalID": PROJECT, "name": 2024, "institutionID": 1.0},
            {"internalID": "proj-009", "name": {"en": "Nine"}, "institutionID": 1},
            {"name": "No ID"},
        ]
    )
    async with Client(make_server()) as client:
        result = await call(client, "list_projects", {})

    assert not result.is_error, text(result)
    assert text(result) == (
        "2 projects with 1 connector (1 project could not be fully read: proj-009 (name); "
        "1 project left out: its internalID could not be read)\n"
        "project_id,name,institution_id,connectors,types\n"
        "proj-001,2024,1,1,RDBMS:1\n"
        "proj-009,,1,0,"
    )


async def test_an_odd_entry_of_a_v2_metadata_route_fails_no_listing(
    make_server: ServerFactory, router: respx.Router
) -> None:
    router.get("/api/connector/7/catalogs").respond(404, json={"status": 404, "error": "Not Found"})
    router.get("/api/v2/connector/catalogs/7").respond(json={"objects": ["sales", 2024, None, ["x"]]})
    async with Client(make_server()) as client:
        result = await call(client, "list_catalogs", {"connector_id": 7})

    assert not result.is_error, text(result)
    assert text(result) == (
        "2 catalogs in connector 7 (2 catalogs left out: their catalogName could not be read)\ncatalogName\n2024\nsales"
    )


async def test_a_create_answered_with_an_unreadable_id_is_still_reported_created(
    make_server: ServerFactory, router: respx.Router
) -> None:
    serve(router, [connector(101)])
    router.post("/api/connector").respond(json={"connectorID": "pending", "message": "Connector created"})
    async with Client(make_server()) as client:
        result = await call(
            client,
            "create_connector",
            {"name": "Brand New", "connector_type": "RDBMS", "institution_id": 1, "project_id": PROJECT},
        )

    assert not result.is_error, text(result)
    assert text(result) == (
        "Created 'Brand New' in proj-001, but the API did not return its ID (Connector created). "
        "Find it with find_connectors(query='Brand New')."
    )
