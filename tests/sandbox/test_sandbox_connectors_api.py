"""The reference connector endpoints: shapes, filters, CRUD, errors, auth."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from databasin_mcp.sandbox import SandboxConfig, create_app
from databasin_mcp.sandbox.seed import PROJECT_95
from databasin_mcp.sandbox.store import Store
from tests.reference import CREATE_BODY

pytestmark = pytest.mark.anyio

# Field names exactly as the reference prints them, plus testConnectorSupport (mentioned in its notes).
LIST_FIELDS = [
    "connectorID", "connectorName", "connectorType", "connectorHost", "connectorPort", "connectorDatabaseName",
    "institutionID", "internalID", "ownerID", "active", "testConnectorSupport", "createdDate", "lastModifiedDate",
]  # fmt: skip
DETAIL_FIELDS = {
    "connectorID", "connectorName", "connectorType", "connectorHost", "connectorPort", "connectorDatabaseName",
    "connectorUsername", "connectorAuthType", "institutionID", "internalID", "ownerID", "active",
    "connectorMaxConnections", "testConnectorSupport", "createdDate", "lastModifiedDate",
}  # fmt: skip
UNAUTHORIZED = {"error": "Unauthorized", "message": "Invalid or expired authentication token", "status": 401}


def bad_request(message: str) -> dict[str, Any]:
    return {"error": "Bad Request", "message": message, "status": 400}


def not_found(connector_id: object) -> dict[str, Any]:
    return {"error": "Not Found", "message": f"Connector with ID {connector_id} not found", "status": 404}


async def test_ping_needs_no_auth(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/ping", headers={"Authorization": ""})
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer wrong-token", "Basic dGVzdC10b2tlbg==", "bearer test-token", "test-token", "Bearer  test-token"],
)
async def test_anything_but_the_bearer_token_is_unauthorized(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    if authorization is None:
        del client.headers["Authorization"]
    response = await client.get("/api/connector", headers=headers)
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED


async def test_list_all(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/connector")
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 434
    assert all(list(item) == LIST_FIELDS for item in body)
    assert [item["connectorID"] for item in body] == list(range(101, 535))


async def test_list_filters(client: httpx.AsyncClient) -> None:
    project = (await client.get("/api/connector", params={"internalID": PROJECT_95})).json()
    assert len(project) == 95
    assert {c["internalID"] for c in project} == {PROJECT_95}
    both = await client.get("/api/connector", params={"institutionID": 3, "internalID": PROJECT_95})
    assert len(both.json()) == 95
    institution = (await client.get("/api/connector", params={"institutionID": 2})).json()
    assert institution
    assert {c["institutionID"] for c in institution} == {2}
    assert (await client.get("/api/connector", params={"internalID": "proj-999"})).json() == []


async def test_list_rejects_a_non_numeric_institution(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/connector", params={"institutionID": "acme"})
    assert (response.status_code, response.json()) == (
        400,
        bad_request("Invalid value for parameter institutionID: acme"),
    )


async def test_get_one(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/connector/160")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_FIELDS
    assert body["connectorID"] == 160
    assert body["connectorName"] == "東京 Warehouse"
    assert response.headers["content-type"] == "application/json"


async def test_get_unknown_and_malformed_ids(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/connector/999")
    assert (missing.status_code, missing.json()) == (404, not_found(999))
    malformed = await client.get("/api/connector/abc")
    assert (malformed.status_code, malformed.json()) == (400, bad_request("Invalid connector ID: abc"))


async def test_create(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/connector", json=CREATE_BODY)
    assert response.status_code == 200
    assert response.json() == {"connectorID": 535, "message": "Connector created successfully", "status": "success"}
    created = (await client.get("/api/connector/535")).json()
    expected = {k: v for k, v in CREATE_BODY.items() if k != "connectorPassword"}
    assert created | expected == created  # every sent field is stored as sent
    assert "connectorPassword" not in created
    assert created["active"] is True
    assert created["connectorMaxConnections"] == 8
    assert created["testConnectorSupport"] is True
    assert created["createdDate"] == created["lastModifiedDate"]
    assert len((await client.get("/api/connector")).json()) == 435


async def test_create_keeps_non_ascii_names_and_extra_fields(client: httpx.AsyncClient) -> None:
    body = CREATE_BODY | {"connectorName": "Ñandú Retail", "connectorType": "SFTP", "connectorPort": 22, "x": [1]}
    connector_id = (await client.post("/api/connector", json=body)).json()["connectorID"]
    created = (await client.get(f"/api/connector/{connector_id}")).json()
    assert (created["connectorName"], created["connectorPort"], created["x"]) == ("Ñandú Retail", "22", [1])
    assert created["testConnectorSupport"] is False


@pytest.mark.parametrize("field", ["connectorName", "connectorType", "institutionID", "internalID"])
async def test_create_requires_fields(client: httpx.AsyncClient, field: str) -> None:
    body = {k: v for k, v in CREATE_BODY.items() if k != field}
    response = await client.post("/api/connector", json=body)
    assert (response.status_code, response.json()) == (400, bad_request(f"Missing required field: {field}"))


async def test_create_reports_the_first_missing_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/connector", json={})
    assert response.json() == bad_request("Missing required field: connectorName")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "Malformed JSON request body"),
        (b"[1, 2]", "Request body must be a JSON object"),
    ],
)
async def test_create_rejects_malformed_bodies(client: httpx.AsyncClient, content: bytes, message: str) -> None:
    response = await client.post("/api/connector", content=content, headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()) == (400, bad_request(message))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("institutionID", "one", "Invalid value for field institutionID: expected an integer"),
        ("connectorType", "Oracle", "Invalid value for field connectorType: expected one of "),
        ("connectorMaxConnections", 0, "Invalid value for field connectorMaxConnections: expected a positive integer"),
        ("active", "yes", "Invalid value for field active: expected true or false"),
    ],
)
async def test_create_rejects_wrong_types(client: httpx.AsyncClient, field: str, value: object, message: str) -> None:
    response = await client.post("/api/connector", json=CREATE_BODY | {field: value})
    assert response.status_code == 400
    assert response.json()["message"].startswith(message)


async def test_update_changes_only_given_fields(client: httpx.AsyncClient) -> None:
    before = (await client.get("/api/connector/101")).json()
    change = {"connectorName": "Production MySQL - Updated", "connectorPassword": "new", "connectorMaxConnections": 16}
    response = await client.put("/api/connector/101", json=change)
    assert response.status_code == 200
    assert response.json() == {"connectorID": 101, "message": "Connector updated successfully", "status": "success"}
    after = (await client.get("/api/connector/101")).json()
    assert after["connectorName"] == "Production MySQL - Updated"
    assert after["connectorMaxConnections"] == 16
    assert after["lastModifiedDate"] > before["lastModifiedDate"]
    unchanged = set(before) - {"connectorName", "connectorMaxConnections", "lastModifiedDate"}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}


async def test_update_errors(client: httpx.AsyncClient) -> None:
    missing = await client.put("/api/connector/999", json={"connectorName": "x"})
    assert (missing.status_code, missing.json()) == (404, not_found(999))
    invalid = await client.put("/api/connector/101", json={"connectorName": ""})
    assert (invalid.status_code, invalid.json()) == (
        400,
        bad_request("Invalid value for field connectorName: expected a non-empty string"),
    )


async def test_delete(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/connector/101")
    assert (response.status_code, response.json()) == (
        200,
        {"message": "Connector deleted successfully", "status": "success"},
    )
    assert (await client.get("/api/connector/101")).status_code == 404
    again = await client.delete("/api/connector/101")
    assert (again.status_code, again.json()) == (404, not_found(101))


async def test_missing_routes_and_methods_answer_like_spring(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/nothing-here")
    body = missing.json()
    assert missing.status_code == 404
    assert list(body) == ["timestamp", "status", "error", "path"]
    assert (body["status"], body["error"], body["path"]) == (404, "Not Found", "/api/nothing-here")
    wrong_method = await client.patch("/api/connector/101")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "Method Not Allowed"
    assert set(wrong_method.headers["allow"].split(", ")) == {"GET", "HEAD", "PUT", "DELETE"}


async def test_unexpected_failures_answer_the_reference_500() -> None:
    store = Store.open(None, seed=7)
    app = create_app(SandboxConfig(token="t"), store)
    store.close()  # every query now fails inside the endpoint
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        response = await client.get("/api/connector/101", headers={"Authorization": "Bearer t"})
    assert response.status_code == 500
    assert response.json() == {
        "error": "Internal Server Error",
        "message": "An unexpected error occurred",
        "status": 500,
    }
    assert "X-RateLimit-Remaining" in response.headers
