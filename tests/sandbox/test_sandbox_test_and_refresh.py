"""POST /api/connector/{id}/test and /refresh."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest

from databasin_mcp.sandbox.metadata import ConnectorMetadata
from databasin_mcp.sandbox.seed import (
    BIG_CONNECTOR_ID,
    INACTIVE_CONNECTOR_ID,
    UNREACHABLE_CONNECTOR_ID,
    UNTESTABLE_CONNECTOR_ID,
    WRONG_PASSWORD_CONNECTOR_ID,
)

pytestmark = pytest.mark.anyio

MakeClient = Callable[..., Awaitable[httpx.AsyncClient]]  # the make_client fixture


async def test_successful_test(client: httpx.AsyncClient) -> None:
    response = await client.post(f"/api/connector/{BIG_CONNECTOR_ID}/test", json={})
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "success": True,
        "status": "success",
        "message": "Connection test successful",
        "details": {"connectorType": "Snowflake", "testDuration": body["details"]["testDuration"]},
    }
    assert body["details"]["testDuration"].endswith("s")


async def test_wrong_password_fails_authentication(client: httpx.AsyncClient) -> None:
    username = (await client.get(f"/api/connector/{WRONG_PASSWORD_CONNECTOR_ID}")).json()["connectorUsername"]
    response = await client.post(f"/api/connector/{WRONG_PASSWORD_CONNECTOR_ID}/test", json={})
    assert response.status_code == 200
    assert response.json() == {
        "success": False,
        "status": "error",
        "message": f"Connection failed: Access denied for user '{username}'@'10.0.0.5'",
        "error": "Authentication failure",
    }


@pytest.mark.parametrize(
    ("connector_id", "message", "error"),
    [
        (INACTIVE_CONNECTOR_ID, "Connection failed: connector is inactive", "Connector inactive"),
        (UNREACHABLE_CONNECTOR_ID, "Connection failed: Connection timed out", "Connection timed out"),
    ],
)
async def test_other_failures(client: httpx.AsyncClient, connector_id: int, message: str, error: str) -> None:
    response = await client.post(f"/api/connector/{connector_id}/test", json={})
    assert response.status_code == 200
    assert response.json() == {"success": False, "status": "error", "message": message, "error": error}


async def test_inactive_wins_over_other_failures(client: httpx.AsyncClient) -> None:
    await client.put(f"/api/connector/{WRONG_PASSWORD_CONNECTOR_ID}", json={"active": False})
    response = await client.post(f"/api/connector/{WRONG_PASSWORD_CONNECTOR_ID}/test", json={})
    assert response.json()["message"] == "Connection failed: connector is inactive"


async def test_created_connector_with_wrong_password(client: httpx.AsyncClient) -> None:
    body = {
        "connectorName": "New",
        "connectorType": "RDBMS",
        "institutionID": 1,
        "internalID": "proj-001",
        "connectorUsername": "bob",
        "connectorPassword": "wrong",
    }
    connector_id = (await client.post("/api/connector", json=body)).json()["connectorID"]
    response = await client.post(f"/api/connector/{connector_id}/test", json={})
    assert response.json()["message"] == "Connection failed: Access denied for user 'bob'@'10.0.0.5'"


async def test_untestable_type_is_a_bad_request(client: httpx.AsyncClient) -> None:
    response = await client.post(f"/api/connector/{UNTESTABLE_CONNECTOR_ID}/test", json={})
    assert response.status_code == 400
    assert response.json() == {
        "error": "Bad Request",
        "message": "Connection testing is not supported for connector type SFTP",
        "status": 400,
    }


async def test_test_unknown_connector(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/connector/999/test", json={})
    assert response.status_code == 404
    assert response.json()["message"] == "Connector with ID 999 not found"


async def test_refresh_reports_real_counts(client: httpx.AsyncClient) -> None:
    response = await client.post(f"/api/connector/{BIG_CONNECTOR_ID}/refresh", json={})
    counts = ConnectorMetadata(seed=7).counts(BIG_CONNECTOR_ID)
    assert response.status_code == 200
    assert response.json() == {
        "message": "Metadata refresh initiated",
        "status": "success",
        "catalogCount": counts.catalogs,
        "schemaCount": counts.schemas,
        "tableCount": counts.tables,
    }


async def test_refresh_takes_the_configured_time(make_client: MakeClient) -> None:
    client = await make_client(refresh_seconds=0.2)
    started = time.perf_counter()
    response = await client.post("/api/connector/101/refresh", json={})
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.2


async def test_refresh_unknown_connector(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/connector/999/refresh", json={})).status_code == 404


async def test_quirks_print_counts_with_thousands_separators(make_client: MakeClient) -> None:
    client = await make_client(quirks=True)
    counts = ConnectorMetadata(seed=7).counts(BIG_CONNECTOR_ID)
    response = await client.post(f"/api/connector/{BIG_CONNECTOR_ID}/refresh", json={})
    assert response.status_code == 200
    assert response.text == (
        '{"message": "Metadata refresh initiated", "status": "success", '
        f'"catalogCount": {counts.catalogs}, "schemaCount": {counts.schemas}, "tableCount": {counts.tables:,}}}'
    )
    assert "," in f"{counts.tables:,}"
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


async def test_quirks_below_a_thousand_is_still_json(make_client: MakeClient) -> None:
    client = await make_client(quirks=True)
    counts = ConnectorMetadata(seed=7).counts(101)
    assert counts.tables < 1000
    assert (await client.post("/api/connector/101/refresh", json={})).json()["tableCount"] == counts.tables
