"""Scripted faults (/_sandbox/faults) and random faults (config)."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from databasin_mcp.sandbox import SandboxConfig, running_sandbox
from databasin_mcp.sandbox.faults import huge_json_array

pytestmark = pytest.mark.anyio

MakeClient = Callable[..., Awaitable[httpx.AsyncClient]]  # the make_client fixture
HTML_502 = "<html><body><h1>502 Bad Gateway</h1></body></html>"


async def script(client: httpx.AsyncClient, *actions: dict[str, Any], **match: str) -> None:
    response = await client.post("/_sandbox/faults", json={"script": list(actions), **match})
    assert response.status_code == 200
    assert response.json()["queued"] == len(actions)


async def test_status_faults_use_reference_bodies(client: httpx.AsyncClient) -> None:
    await script(client, {"status": 503}, {"status": 500}, {"status": 401})
    responses = [await client.get("/api/connector/101") for _ in range(4)]
    assert [r.status_code for r in responses] == [503, 500, 401, 200]
    assert responses[0].json() == {
        "error": "Service Unavailable",
        "message": "Service temporarily unavailable",
        "status": 503,
    }
    assert responses[1].json() == {
        "error": "Internal Server Error",
        "message": "An unexpected error occurred",
        "status": 500,
    }
    assert responses[2].json() == {
        "error": "Unauthorized",
        "message": "Invalid or expired authentication token",
        "status": 401,
    }
    assert all("X-RateLimit-Limit" in r.headers for r in responses)


async def test_429_fault_sets_retry_after_and_reset(client: httpx.AsyncClient) -> None:
    await script(client, {"status": 429, "retry_after": 2, "reset_in": 5})
    before = time.time()
    response = await client.get("/api/connector")
    assert response.status_code == 429
    assert response.json()["error"] == "Too Many Requests"
    assert response.headers["Retry-After"] == "2"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(before) + 4 <= int(response.headers["X-RateLimit-Reset"]) <= time.time() + 5


async def test_html_502(client: httpx.AsyncClient) -> None:
    await script(client, {"kind": "html", "status": 502})
    response = await client.get("/api/connector")
    assert (response.status_code, response.text) == (502, HTML_502)
    assert response.headers["content-type"].startswith("text/html")


async def test_invalid_json(client: httpx.AsyncClient) -> None:
    await script(client, {"kind": "invalid_json"})
    response = await client.get("/api/connector/101")
    assert (response.status_code, response.text) == (200, '{"connectorID": 1, "connectorName": ')
    with pytest.raises(json.JSONDecodeError):
        response.json()


async def test_huge_is_a_valid_array_of_the_requested_size_without_length(client: httpx.AsyncClient) -> None:
    await script(client, {"kind": "huge", "bytes": 1_000_000})
    response = await client.get("/api/connector")
    assert response.status_code == 200
    assert "content-length" not in response.headers
    assert len(response.content) == 1_000_000
    items = response.json()
    assert isinstance(items, list)
    assert len(items) > 10_000


@pytest.mark.parametrize("size", [0, 2, 50, 91, 92, 93, 200, 65_536 * 3 + 7])
async def test_huge_array_sizes_are_exact(size: int) -> None:
    body = b"".join([chunk async for chunk in huge_json_array(size, chunk_size=1024)])
    assert len(body) == max(size, 2)
    assert isinstance(json.loads(body), list)


async def test_delay_then_normal_answer(client: httpx.AsyncClient) -> None:
    await script(client, {"kind": "delay", "seconds": 0.2})
    started = time.perf_counter()
    response = await client.get("/api/connector/101")
    assert time.perf_counter() - started >= 0.2
    assert response.status_code == 200
    assert response.json()["connectorID"] == 101


async def test_empty_body(client: httpx.AsyncClient) -> None:
    await script(client, {"kind": "empty", "status": 502})
    response = await client.get("/api/connector")
    assert (response.status_code, response.content) == (502, b"")


async def test_path_and_method_matching(client: httpx.AsyncClient) -> None:
    await script(client, {"status": 503}, path="/api/connector/101", method="GET")
    assert (await client.get("/api/connector/102")).status_code == 200
    assert (await client.put("/api/connector/101", json={})).status_code == 200
    assert (await client.get("/api/connector/101/catalogs")).status_code == 503  # prefix match
    assert (await client.get("/api/connector/101")).status_code == 200  # script used up


async def test_scripts_apply_in_order_and_can_be_listed_and_cleared(client: httpx.AsyncClient) -> None:
    await script(client, {"status": 500})
    await script(client, {"status": 503}, {"kind": "empty"})
    pending = (await client.get("/_sandbox/faults")).json()["pending"]
    assert [[a["status"] for a in s["script"]] for s in pending] == [[500], [503, 502]]
    assert (await client.get("/api/ping")).status_code == 500
    assert (await client.delete("/_sandbox/faults")).json() == {"cleared": 2}
    assert (await client.get("/api/ping")).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"script": []},
        {"script": [{"kind": "explode"}]},
        {"script": [{"status": 99}]},
        {"script": [{"kind": "huge", "bytes": -1}]},
        {"script": [{}]},
        {"path": 3, "script": [{"status": 500}]},
        [],
    ],
)
async def test_invalid_scripts_are_rejected(client: httpx.AsyncClient, body: object) -> None:
    response = await client.post("/_sandbox/faults", json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "Bad Request"
    assert (await client.get("/_sandbox/faults")).json() == {"pending": []}


async def test_drop_closes_the_connection_mid_body() -> None:
    async with running_sandbox(SandboxConfig(port=0, token="t")) as sandbox:
        headers = {"Authorization": "Bearer t"}
        async with httpx.AsyncClient(base_url=sandbox.url, headers=headers, trust_env=False) as client:
            await script(client, {"kind": "drop"})
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get("/api/connector")
            assert (await client.get("/api/connector/101")).status_code == 200  # the server itself is fine


async def statuses(client: httpx.AsyncClient, count: int) -> list[int]:
    return [(await client.get("/api/connector/101")).status_code for _ in range(count)]


async def test_random_errors_are_reproducible(make_client: MakeClient) -> None:
    first = await statuses(await make_client(error_rate=0.3, fault_seed=1), 60)
    again = await statuses(await make_client(error_rate=0.3, fault_seed=1), 60)
    other = await statuses(await make_client(error_rate=0.3, fault_seed=2), 60)
    assert first == again
    assert first != other
    assert set(first) == {200, 500, 503}


async def test_error_rate_one_fails_everything_with_reference_bodies(make_client: MakeClient) -> None:
    client = await make_client(error_rate=1.0)
    response = await client.get("/api/connector")
    assert response.status_code in (500, 503)
    assert set(response.json()) == {"error", "message", "status"}


async def test_html_502_rate(make_client: MakeClient) -> None:
    client = await make_client(html_502_rate=1.0)
    response = await client.get("/api/connector")
    assert (response.status_code, response.text) == (502, HTML_502)


async def test_bursts_of_three_429s(make_client: MakeClient) -> None:
    client = await make_client(burst_429_every=4)
    assert await statuses(client, 12) == [200, 200, 200, 429, 429, 429, 200, 429, 429, 429, 200, 429]
    limited = await client.get("/api/connector/101")
    assert limited.headers["Retry-After"] == "1"


async def test_latency(make_client: MakeClient) -> None:
    client = await make_client(latency_ms=150)
    started = time.perf_counter()
    await client.get("/api/ping")
    assert time.perf_counter() - started >= 0.15


async def test_a_body_fault_answers_any_json_with_any_status_and_headers(client: httpx.AsyncClient) -> None:
    await script(
        client,
        {"kind": "body", "body": {"status": "error", "message": "Missing connectorHost"}},
        {"kind": "body", "status": 301, "body": None, "headers": {"Location": "https://elsewhere.example/api"}},
        method="POST",
    )
    refused = await client.post("/api/connector", json={"connectorName": "x"})
    moved = await client.post("/api/connector", json={"connectorName": "x"})
    assert (refused.status_code, refused.json()) == (200, {"status": "error", "message": "Missing connectorHost"})
    assert (moved.status_code, moved.headers["Location"]) == (301, "https://elsewhere.example/api")
    assert "X-RateLimit-Limit" in refused.headers


async def test_a_headers_fault_lets_the_endpoint_answer_with_those_headers(client: httpx.AsyncClient) -> None:
    await script(client, {"kind": "headers", "headers": {"X-RateLimit-Reset": "inf", "Retry-After": "1e300"}})
    response = await client.get("/api/connector/101")
    assert response.status_code == 200
    assert response.json()["connectorID"] == 101  # the endpoint answered
    assert (response.headers["X-RateLimit-Reset"], response.headers["Retry-After"]) == ("inf", "1e300")


async def test_status_faults_take_extra_headers(client: httpx.AsyncClient) -> None:
    await script(client, {"status": 429, "headers": {"Retry-After": "99999999999999999999"}})
    response = await client.get("/api/connector")
    assert (response.status_code, response.headers["Retry-After"]) == (429, "99999999999999999999")


@pytest.mark.parametrize(
    ("action", "says"),
    [
        ({"kind": "body"}, 'needs a "body"'),
        ({"kind": "headers"}, 'needs "headers"'),
        ({"kind": "headers", "headers": {"X": 1}}, "headers must be an object of strings"),
        ({"kind": "headers", "headers": {"X": "a\r\nInjected: yes"}}, "cannot be sent"),
    ],
)
async def test_bad_header_and_body_scripts_are_refused(
    client: httpx.AsyncClient, action: dict[str, Any], says: str
) -> None:
    response = await client.post("/_sandbox/faults", json={"script": [action]})
    assert response.status_code == 400
    assert says in response.json()["message"]
