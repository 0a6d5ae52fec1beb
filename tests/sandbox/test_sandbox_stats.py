"""GET/DELETE /_sandbox/stats: how many /api requests are answered at once (to check a client's concurrency bound)."""

from __future__ import annotations

import anyio
import httpx
import pytest

pytestmark = pytest.mark.anyio


async def stats(client: httpx.AsyncClient) -> dict[str, int]:
    response = await client.get("/_sandbox/stats")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


async def test_a_fresh_sandbox_has_nothing_in_flight(client: httpx.AsyncClient) -> None:
    assert await stats(client) == {"in_flight": 0, "max_in_flight": 0}


async def test_counts_requests_in_flight_and_the_most_at_once(client: httpx.AsyncClient) -> None:
    # Three requests held by a long delay, then released by cancelling them.
    held_for_a_minute = [{"kind": "delay", "seconds": 60}] * 3
    queued = await client.post("/_sandbox/faults", json={"path": "/api/connector/", "script": held_for_a_minute})
    assert queued.json()["queued"] == 3
    with anyio.fail_after(10):
        async with anyio.create_task_group() as held:
            for connector_id in (101, 102, 103):
                held.start_soon(client.get, f"/api/connector/{connector_id}")
            await anyio.wait_all_tasks_blocked()  # in-process app: the three are parked in the scripted delay
            # Admin requests are not counted; two more /api requests, one after the other, raise the maximum to four.
            answered = [await client.get("/api/connector/104"), await client.get("/api/connector/105")]
            assert [r.status_code for r in answered] == [200, 200]
            assert await stats(client) == {"in_flight": 3, "max_in_flight": 4}
            held.cancel_scope.cancel()

    assert await stats(client) == {"in_flight": 0, "max_in_flight": 4}


async def test_delete_resets_the_maximum_and_answers_the_previous_one(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/connector")).status_code == 200
    assert await stats(client) == {"in_flight": 0, "max_in_flight": 1}

    reset = await client.delete("/_sandbox/stats")

    assert reset.json() == {"max_in_flight": 1}
    assert await stats(client) == {"in_flight": 0, "max_in_flight": 0}


async def test_errors_and_faults_are_counted_and_released(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/faults", json={"script": [{"status": 503}]})
    failed = await client.get("/api/connector/101")
    missing = await client.get("/api/connector/999999")
    unauthenticated = await client.get("/api/connector", headers={"Authorization": "Bearer wrong"})

    assert [failed.status_code, missing.status_code, unauthenticated.status_code] == [503, 404, 401]
    assert await stats(client) == {"in_flight": 0, "max_in_flight": 1}
