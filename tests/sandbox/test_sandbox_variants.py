"""Optional behaviours: v2 routes, v2_only, the "real" dialect, leaked secrets."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import httpx
import pytest

from databasin_mcp.sandbox.seed import (
    BIG_CATALOG,
    BIG_CONNECTOR_ID,
    BIG_SCHEMA,
    INACTIVE_CONNECTOR_ID,
    WIDE_TABLE,
    WRONG_PASSWORD_CONNECTOR_ID,
)

pytestmark = pytest.mark.anyio

MakeClient = Callable[..., Awaitable[httpx.AsyncClient]]  # the make_client fixture
ENVELOPE = {
    "connectorID": BIG_CONNECTOR_ID,
    "connectorName": "Enterprise Snowflake Warehouse",
    "connectorType": "Snowflake",
}


async def test_v2_routes_are_off_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/api/v2/connector/catalogs/{BIG_CONNECTOR_ID}")
    assert response.status_code == 404
    assert (await client.get("/api/my/projects")).status_code == 404


async def test_v2_metadata_envelopes(make_client: MakeClient) -> None:
    client = await make_client(v2_routes=True)
    catalogs = (await client.get(f"/api/v2/connector/catalogs/{BIG_CONNECTOR_ID}")).json()
    assert catalogs == ENVELOPE | {"objects": catalogs["objects"]}
    assert catalogs["objects"][0] == BIG_CATALOG
    schemas = (
        await client.get(f"/api/v2/connector/schemas/{BIG_CONNECTOR_ID}", params={"catalog": BIG_CATALOG})
    ).json()
    assert schemas["objects"][0] == BIG_SCHEMA
    tables = await client.get(
        f"/api/v2/connector/tables/{BIG_CONNECTOR_ID}", params={"catalog": BIG_CATALOG, "schema": BIG_SCHEMA}
    )
    objects = tables.json()["objects"]
    assert len(objects) == 1500
    assert objects[0] == {"name": WIDE_TABLE, "type": "TABLE"}
    assert list(tables.json()) == ["connectorID", "connectorName", "connectorType", "objects"]


async def test_v2_post_columns(make_client: MakeClient) -> None:
    client = await make_client(v2_routes=True)
    body = {"connectorID": BIG_CONNECTOR_ID, "tableName": WIDE_TABLE, "schemaCatalog": f"{BIG_CATALOG}.{BIG_SCHEMA}"}
    columns = (await client.post("/api/connector/columns", json=body)).json()
    assert len(columns) == 250
    assert columns[0] == {"name": "id", "type": "BIGINT", "nullable": False}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"connectorID": 999, "tableName": "t"}, 404, "Connector with ID 999 not found"),
        ({"tableName": "t"}, 400, "Invalid connector ID: None"),
        ({"connectorID": BIG_CONNECTOR_ID}, 400, "Missing required field: tableName"),
        ({"connectorID": BIG_CONNECTOR_ID, "tableName": "t", "schemaCatalog": "x"}, 400, "Invalid schemaCatalog: 'x'"),
        ({"connectorID": BIG_CONNECTOR_ID, "tableName": "nope"}, 404, "Table 'nope' not found in schema"),
    ],
)
async def test_v2_post_columns_errors(
    make_client: MakeClient, body: dict[str, object], status: int, message: str
) -> None:
    client = await make_client(v2_routes=True)
    response = await client.post("/api/connector/columns", json=body)
    assert response.status_code == status
    assert response.json()["message"].startswith(message)


async def test_v2_projects(make_client: MakeClient) -> None:
    client = await make_client(v2_routes=True)
    projects = (await client.get("/api/my/projects")).json()
    assert len(projects) == 12
    assert all(list(p) == ["id", "internalID", "name", "organizationId", "organizationName"] for p in projects)
    assert projects[6] == {
        "id": 7,
        "internalID": "proj-007",
        "name": "Enterprise Data Warehouse",
        "organizationId": 3,
        "organizationName": "Fabrikam Finance",
    }


async def test_v2_only_drops_the_reference_metadata_routes(make_client: MakeClient) -> None:
    client = await make_client(v2_only=True)
    response = await client.get("/api/connector/101/catalogs")
    assert response.status_code == 404
    body = response.json()
    assert list(body) == ["timestamp", "status", "error", "path"]
    assert (body["status"], body["error"], body["path"]) == (404, "Not Found", "/api/connector/101/catalogs")
    assert body["timestamp"].endswith("+00:00")
    assert "X-RateLimit-Limit" in response.headers
    assert (await client.get("/api/v2/connector/catalogs/101")).status_code == 200
    assert (await client.get("/api/connector/101")).status_code == 200


async def test_real_dialect_list(make_client: MakeClient) -> None:
    client = await make_client(dialect="real")
    listed = {c["connectorID"]: c for c in (await client.get("/api/connector")).json()}
    assert all(isinstance(key, str) for key in listed)
    even, odd = listed["102"], listed[str(INACTIVE_CONNECTOR_ID)]
    assert "active" not in even
    assert "active" not in odd
    assert even["isActive"] in (0, 1)
    assert "connectorHealthStatus" not in even
    assert odd["connectorHealthStatus"] == "inactive"
    assert "isActive" not in odd


async def test_real_dialect_get_is_double_encoded(make_client: MakeClient) -> None:
    client = await make_client(dialect="real")
    response = await client.get("/api/connector/160")
    encoded = response.json()
    assert isinstance(encoded, str)
    inner = json.loads(encoded)
    assert (inner["connectorID"], inner["connectorName"], inner["isActive"]) == ("160", "東京 Warehouse", 1)


def secrets_in(text: str) -> list[str]:
    return [name for name in ("connectorPassword", "apiSecret", "privateKey", "jdbcUrl") if name in text]


async def test_no_secrets_by_default(client: httpx.AsyncClient) -> None:
    assert secrets_in((await client.get("/api/connector")).text) == []
    assert secrets_in((await client.get("/api/connector/101")).text) == []
    failure = (await client.post(f"/api/connector/{WRONG_PASSWORD_CONNECTOR_ID}/test")).json()
    assert "wrong'" not in failure["message"]


async def test_leak_secrets_in_connector_bodies(make_client: MakeClient) -> None:
    client = await make_client(leak_secrets=True)
    detail = (await client.get("/api/connector/104")).json()
    assert detail["connectorPassword"].startswith("pw-")
    assert detail["apiSecret"].startswith("sk_live_")
    assert detail["privateKey"].startswith("-----BEGIN PRIVATE KEY-----")
    expected_url = (
        f"postgresql://{detail['connectorUsername']}:{detail['connectorPassword']}@{detail['connectorHost']}"
        f":{detail['connectorPort']}/{detail['connectorDatabaseName']}"
    )
    assert detail["jdbcUrl"] == expected_url
    listed = (await client.get("/api/connector", params={"internalID": "proj-001"})).json()
    assert all(
        secrets_in(json.dumps(item)) == ["connectorPassword", "apiSecret", "privateKey", "jdbcUrl"] for item in listed
    )


async def test_leak_secrets_in_failures_and_errors(make_client: MakeClient) -> None:
    client = await make_client(leak_secrets=True)
    failure = (await client.post(f"/api/connector/{WRONG_PASSWORD_CONNECTOR_ID}/test")).json()
    assert failure["message"].endswith("(using password: 'wrong')")
    password = (await client.get(f"/api/connector/{BIG_CONNECTOR_ID}")).json()["connectorPassword"]
    error = (await client.get(f"/api/connector/{BIG_CONNECTOR_ID}/schemas", params={"catalog": "nope"})).json()
    assert error["status"] == 404
    assert password in error["message"]
