"""The request log and token rotation admin routes."""

from __future__ import annotations

import time

import httpx
import pytest

pytestmark = pytest.mark.anyio


async def test_request_log_records_every_api_request_in_order(client: httpx.AsyncClient) -> None:
    before = time.time()
    await client.get("/api/connector", params={"internalID": "proj-007", "institutionID": 3})
    await client.post("/api/connector", json={"connectorName": "x"})
    await client.get("/api/connector/101", headers={"Authorization": "Bearer wrong"})
    await client.get("/_sandbox/faults")  # admin routes are not logged
    log = (await client.get("/_sandbox/requests")).json()
    assert [{k: v for k, v in entry.items() if k != "at"} for entry in log] == [
        {"method": "GET", "path": "/api/connector", "query": "internalID=proj-007&institutionID=3"},
        {"method": "POST", "path": "/api/connector", "query": ""},
        {"method": "GET", "path": "/api/connector/101", "query": ""},
    ]
    stamps = [entry["at"] for entry in log]
    assert stamps == sorted(stamps)
    assert before <= stamps[0] <= time.time()


async def test_request_log_can_be_cleared(client: httpx.AsyncClient) -> None:
    await client.get("/api/ping")
    assert (await client.delete("/_sandbox/requests")).json() == {"cleared": 1}
    assert (await client.get("/_sandbox/requests")).json() == []


async def test_count_creates(client: httpx.AsyncClient) -> None:
    body = {"connectorName": "Once", "connectorType": "RDBMS", "institutionID": 1, "internalID": "proj-001"}
    await client.post("/api/connector", json=body)
    log = (await client.get("/_sandbox/requests")).json()
    assert sum(e["method"] == "POST" and e["path"] == "/api/connector" for e in log) == 1


async def test_token_rotation(client: httpx.AsyncClient) -> None:
    response = await client.post("/_sandbox/token", json={"token": "rotated"})
    assert response.json() == {"token": "rotated"}
    assert (await client.get("/api/connector/101")).status_code == 401
    rotated = await client.get("/api/connector/101", headers={"Authorization": "Bearer rotated"})
    assert rotated.status_code == 200


async def test_token_rotation_without_a_token_issues_one(client: httpx.AsyncClient) -> None:
    token = (await client.post("/_sandbox/token", json={})).json()["token"]
    assert len(token) >= 24
    response = await client.get("/api/connector/101", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


async def test_admin_routes_need_no_auth(client: httpx.AsyncClient) -> None:
    del client.headers["Authorization"]
    assert (await client.get("/_sandbox/requests")).status_code == 200
    assert (await client.delete("/_sandbox/faults")).json() == {"cleared": 0}
