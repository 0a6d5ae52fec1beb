"""X-RateLimit-* headers on every /api response, and 429 past the limit."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import httpx
import pytest

from databasin_mcp.sandbox.ratelimit import FixedWindowLimiter

pytestmark = pytest.mark.anyio

MakeClient = Callable[..., Awaitable[httpx.AsyncClient]]  # the make_client fixture


async def test_headers_on_success_and_error_responses(client: httpx.AsyncClient) -> None:
    before = time.time()
    responses = [
        await client.get("/api/connector/101"),
        await client.get("/api/connector/999"),
        await client.get("/api/connector/101/nothing"),
        await client.get("/api/ping"),
    ]
    assert [r.status_code for r in responses] == [200, 404, 404, 200]
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["999", "998", "997", "996"]
    for response in responses:
        assert response.headers["X-RateLimit-Limit"] == "1000"
        assert before + 59 <= int(response.headers["X-RateLimit-Reset"]) <= time.time() + 61


async def test_unauthorized_responses_carry_headers_too(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/connector", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.headers["X-RateLimit-Remaining"] == "999"  # counted in the window of that token


async def test_429_past_the_limit(make_client: MakeClient) -> None:
    client = await make_client(rate_limit=3, rate_window=30)
    statuses = [(await client.get("/api/connector/101")).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    limited = await client.get("/api/connector/101")
    assert limited.status_code == 429
    assert limited.json() == {"error": "Too Many Requests", "message": "Rate limit exceeded", "status": 429}
    assert 1 <= int(limited.headers["Retry-After"]) <= 30
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["X-RateLimit-Limit"] == "3"


async def test_windows_are_per_token(make_client: MakeClient) -> None:
    client = await make_client(rate_limit=1)
    assert (await client.get("/api/connector/101")).status_code == 200
    assert (await client.get("/api/connector/101")).status_code == 429
    other = await client.get("/api/connector/101", headers={"Authorization": "Bearer someone-else"})
    assert other.status_code == 401  # not limited: its own window


async def test_zero_disables_limiting_and_headers(make_client: MakeClient) -> None:
    client = await make_client(rate_limit=0)
    for _ in range(5):
        response = await client.get("/api/ping")
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers


async def test_admin_routes_are_not_limited(make_client: MakeClient) -> None:
    client = await make_client(rate_limit=1)
    for _ in range(3):
        response = await client.get("/_sandbox/requests")
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers
    assert (await client.get("/api/connector/101")).status_code == 200


def test_window_resets_after_its_duration() -> None:
    now = [1000.0]
    limiter = FixedWindowLimiter(limit=2, window=10, clock=lambda: now[0])
    assert [limiter.hit("a").exceeded for _ in range(3)] == [False, False, True]
    assert limiter.hit("a").reset_at == 1010.0
    now[0] = 1010.0
    quota = limiter.hit("a")
    assert (quota.exceeded, quota.remaining, quota.reset_at) == (False, 1, 1020.0)
    assert quota.headers() == {"X-RateLimit-Limit": "2", "X-RateLimit-Remaining": "1", "X-RateLimit-Reset": "1020"}
    assert quota.retry_after(1019.5) == 1
