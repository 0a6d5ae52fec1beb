"""The sandbox's query route: real SQL in each connector's dialect over deterministic sample rows (issue 17 #4)."""

from __future__ import annotations

from typing import Any

import pytest

from databasin_mcp.sandbox.samples import PLANTED, SAMPLE_CONNECTORS, SAMPLE_ROWS, SAMPLE_SCHEMA
from databasin_mcp.sandbox.seed import BIG_CATALOG, BIG_CONNECTOR_ID, BIG_SCHEMA, UNREACHABLE_CONNECTOR_ID, WIDE_TABLE

from .conftest import MakeClient

pytestmark = pytest.mark.anyio


async def query(make_client: MakeClient, connector_id: int, sql: str) -> Any:
    client = await make_client()
    response = await client.post(f"/api/connector/{connector_id}/query", json={"sql": sql})
    assert response.status_code == 200, response.text
    return response.json()


# The same awkward names, quoted as each dialect quotes them.
AWKWARD = {
    "postgres": 'SELECT "Order ID", "Unit Price" FROM "Sample Data"."Order Items" ORDER BY "Order ID" LIMIT 2',
    "mysql": "SELECT `Order ID`, `Unit Price` FROM `Sample Data`.`Order Items` ORDER BY `Order ID` LIMIT 2",
    "snowflake": 'SELECT "Order ID", "Unit Price" FROM "Sample Data"."Order Items" ORDER BY "Order ID" LIMIT 2',
    "bigquery": "SELECT `Order ID`, `Unit Price` FROM `Sample Data`.`Order Items` ORDER BY `Order ID` LIMIT 2",
    "tsql": "SELECT TOP 2 [Order ID], [Unit Price] FROM [Sample Data].[Order Items] ORDER BY [Order ID]",
}


@pytest.mark.parametrize("dialect", sorted(AWKWARD))
async def test_names_with_spaces_are_read_in_each_connectors_own_dialect(make_client: MakeClient, dialect: str) -> None:
    body = await query(make_client, SAMPLE_CONNECTORS[dialect], AWKWARD[dialect])
    assert body["success"] is True, body
    assert body["columns"] == ["Order ID", "Unit Price"]
    assert [row["Order ID"] for row in body["rows"]] == [1, 2]
    assert body["rowCount"] == 2


async def test_reserved_words_mixed_case_and_other_scripts_are_names(make_client: MakeClient) -> None:
    body = await query(
        make_client,
        SAMPLE_CONNECTORS["postgres"],
        'SELECT g."order", g."from", s."Größe", s."日付" FROM "Sample Data"."group" AS g '
        'JOIN "Sample Data"."Städte 東京" AS s ON s."Größe" = g."order" ORDER BY 1 LIMIT 1',
    )
    assert body["success"] is True, body
    assert body["columns"] == ["order", "from", "Größe", "日付"]


async def test_an_unquoted_name_matches_in_any_case_and_a_quoted_one_exactly(make_client: MakeClient) -> None:
    connector = SAMPLE_CONNECTORS["snowflake"]
    found = await query(make_client, connector, 'SELECT count(*) AS n FROM "Sample Data".customeraccounts')
    assert found["rows"] == [{"n": SAMPLE_ROWS}]
    missed = await query(make_client, connector, 'SELECT count(*) AS n FROM "Sample Data"."customeraccounts"')
    assert missed["success"] is False
    assert missed["error"] == 'Object \'"Sample Data"."customeraccounts"\' does not exist or not authorized'


async def test_the_rows_are_the_same_in_every_run_and_one_holds_an_instruction(make_client: MakeClient) -> None:
    sql = 'SELECT "Order ID", notes FROM "Sample Data"."Order Items" ORDER BY 1'
    first = await query(make_client, SAMPLE_CONNECTORS["postgres"], sql)
    second = await query(make_client, SAMPLE_CONNECTORS["postgres"], sql)
    assert first["rows"] == second["rows"]
    # Its duration too is the same in every run (made from the work, not a clock): answers can be compared.
    assert first["executionTime"] == second["executionTime"] == 4 + SAMPLE_ROWS * 2 // 50
    assert len(first["rows"]) == SAMPLE_ROWS
    assert sum(row["notes"] == PLANTED for row in first["rows"]) == 1


async def test_any_table_of_the_metadata_can_be_queried_the_wide_one_too(make_client: MakeClient) -> None:
    body = await query(make_client, BIG_CONNECTOR_ID, f"SELECT * FROM {BIG_CATALOG}.{BIG_SCHEMA}.{WIDE_TABLE} LIMIT 3")
    assert body["success"] is True
    assert len(body["columns"]) == 250
    assert len(body["rows"]) == 3


async def test_a_with_and_a_union_run(make_client: MakeClient) -> None:
    body = await query(
        make_client,
        SAMPLE_CONNECTORS["mysql"],
        "WITH big AS (SELECT `order` AS n FROM `Sample Data`.`group` WHERE `order` > 298) "
        "SELECT n FROM big UNION SELECT 0 ORDER BY n",
    )
    assert body["rows"] == [{"n": 0}, {"n": 299}, {"n": 300}]


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELECT * FROM nowhere", "Object 'nowhere' does not exist or not authorized"),
        ('DELETE FROM "Sample Data"."group"', "Only a single SELECT statement can be run here"),
        ("SELECT 1; SELECT 2", "Only a single SELECT statement can be run here"),
    ],
)
async def test_what_the_database_refuses_is_an_answer_with_success_false(
    make_client: MakeClient, sql: str, error: str
) -> None:
    body = await query(make_client, SAMPLE_CONNECTORS["postgres"], sql)
    assert (body["success"], body["error"]) == (False, error)


async def test_an_unreachable_source_fails_like_a_real_one(make_client: MakeClient) -> None:
    body = await query(make_client, UNREACHABLE_CONNECTOR_ID, "SELECT 1")
    assert body["success"] is False
    assert body["error"].startswith("Could not connect to unreachable-pg.internal.example.com")


async def test_a_connector_without_sql_and_a_body_without_sql_are_400(make_client: MakeClient) -> None:
    client = await make_client()
    no_sql = await client.post("/api/connector/105/query", json={"sql": "SELECT 1"})
    assert (no_sql.status_code, no_sql.json()["message"]) == (400, "Connector type S3 does not support SQL queries")
    empty = await client.post(f"/api/connector/{SAMPLE_CONNECTORS['postgres']}/query", json={})
    assert (empty.status_code, empty.json()["message"]) == (400, "Missing required field: sql")


async def test_the_sample_schema_is_listed_last_so_the_default_schema_is_unchanged(make_client: MakeClient) -> None:
    client = await make_client()
    schemas = (await client.get(f"/api/connector/{SAMPLE_CONNECTORS['tsql']}/schemas")).json()
    assert schemas[-1]["schemaName"] == SAMPLE_SCHEMA
    tables = await client.get(f"/api/connector/{SAMPLE_CONNECTORS['tsql']}/tables", params={"schema": SAMPLE_SCHEMA})
    assert [t["tableName"] for t in tables.json()] == ["Order Items", "CustomerAccounts", "group", "Städte 東京"]
