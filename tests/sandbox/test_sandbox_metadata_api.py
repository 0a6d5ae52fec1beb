"""GET /api/connector/{id}/catalogs|schemas|tables|columns."""

from __future__ import annotations

import time

import httpx
import pytest

from databasin_mcp.sandbox.seed import BIG_CATALOG, BIG_CONNECTOR_ID, BIG_SCHEMA, WIDE_TABLE

pytestmark = pytest.mark.anyio

BIG = f"/api/connector/{BIG_CONNECTOR_ID}"


def error(status: int, message: str) -> dict[str, object]:
    return {"error": {400: "Bad Request", 404: "Not Found"}[status], "message": message, "status": status}


async def test_catalogs(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{BIG}/catalogs")
    assert response.status_code == 200
    catalogs = response.json()
    assert catalogs[0] == {"catalogName": BIG_CATALOG, "description": "Enterprise data warehouse"}
    assert all(list(c) == ["catalogName", "description"] for c in catalogs)


async def test_schemas(client: httpx.AsyncClient) -> None:
    schemas = (await client.get(f"{BIG}/schemas", params={"catalog": BIG_CATALOG})).json()
    assert schemas[0] == {"schemaName": BIG_SCHEMA, "description": "Sales History schema"}
    assert all(list(s) == ["schemaName", "description"] for s in schemas)


async def test_1500_tables(client: httpx.AsyncClient) -> None:
    params = {"catalog": BIG_CATALOG, "schema": BIG_SCHEMA}
    response = await client.get(f"{BIG}/tables", params=params)
    tables = response.json()
    assert len(tables) == 1500
    assert all(list(t) == ["tableName", "tableType", "rowCount", "sizeInBytes"] for t in tables)
    started = time.perf_counter()
    await client.get(f"{BIG}/tables", params=params)
    assert time.perf_counter() - started < 0.25  # cached: a second listing is cheap


async def test_250_columns(client: httpx.AsyncClient) -> None:
    params = {"catalog": BIG_CATALOG, "schema": BIG_SCHEMA, "table": WIDE_TABLE}
    columns = (await client.get(f"{BIG}/columns", params=params)).json()
    assert len(columns) == 250
    assert columns[0] == {"columnName": "id", "dataType": "BIGINT", "isNullable": False, "isPrimaryKey": True}
    assert all(list(c) == ["columnName", "dataType", "isNullable", "isPrimaryKey"] for c in columns)


async def test_catalog_and_schema_are_optional(client: httpx.AsyncClient) -> None:
    explicit = await client.get(f"{BIG}/tables", params={"catalog": BIG_CATALOG, "schema": BIG_SCHEMA})
    assert (await client.get(f"{BIG}/tables")).json() == explicit.json()
    columns = await client.get(f"{BIG}/columns", params={"table": WIDE_TABLE})
    assert len(columns.json()) == 250


@pytest.mark.parametrize(
    ("path", "params", "status", "message"),
    [
        ("schemas", {"catalog": "nope"}, 404, f"Catalog 'nope' not found for connector {BIG_CONNECTOR_ID}"),
        (
            "tables",
            {"catalog": BIG_CATALOG, "schema": "nope"},
            404,
            f"Schema 'nope' not found in catalog '{BIG_CATALOG}'",
        ),
        (
            "columns",
            {"catalog": BIG_CATALOG, "schema": BIG_SCHEMA, "table": "nope"},
            404,
            f"Table 'nope' not found in schema '{BIG_CATALOG}.{BIG_SCHEMA}'",
        ),
        ("columns", {"catalog": BIG_CATALOG, "schema": BIG_SCHEMA}, 400, "Missing required parameter: table"),
    ],
)
async def test_errors(client: httpx.AsyncClient, path: str, params: dict[str, str], status: int, message: str) -> None:
    response = await client.get(f"{BIG}/{path}", params=params)
    assert (response.status_code, response.json()) == (status, error(status, message))


@pytest.mark.parametrize("path", ["catalogs", "schemas", "tables", "columns?table=x"])
async def test_unknown_connector(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"/api/connector/999/{path}")
    assert (response.status_code, response.json()) == (404, error(404, "Connector with ID 999 not found"))
