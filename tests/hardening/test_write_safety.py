"""Writes the upstream applied although the server never got a proper answer (issue 6).

The sandbox's scripted faults answer instead of the endpoint, so the write never happens; a real API
often applies the write and then times out or garbles its answer. A stateful respx upstream plays that
here: the server must neither repeat a create, nor report a write that went through as a failure that
sends the agent looking for a connector it just deleted.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
import respx
from mcp import Client
from mcp_types import CallToolResult

from databasin_mcp.client import DatabasinClient
from databasin_mcp.config import Settings
from databasin_mcp.harness.results import CALL_TIMEOUT, call, text
from databasin_mcp.ops import Operations
from tests.conftest import API_TOKEN, API_URL, ServerFactory, api_transport

pytestmark = pytest.mark.anyio


class Upstream:
    """Connectors in a dict; `write_fails` says how the next write is answered after it was applied."""

    def __init__(self, router: respx.Router) -> None:
        self.connectors: dict[int, dict[str, Any]] = {
            5: {"connectorID": 5, "connectorName": "Old Orders", "connectorType": "RDBMS", "internalID": "proj-001"}
        }
        self.writes: list[str] = []
        self.write_fails: str | None = None
        self.refuse_deletes = False  # answer DELETE with a 404 and delete nothing (a confused proxy)
        router.get("/api/connector").mock(side_effect=self.listing)
        router.post("/api/connector").mock(side_effect=self.create)
        router.get(path__regex=r"^/api/connector/(?P<cid>\d+)$").mock(side_effect=self.get)
        router.delete(path__regex=r"^/api/connector/(?P<cid>\d+)$").mock(side_effect=self.delete)

    def listing(self, request: httpx.Request) -> httpx.Response:
        project = request.url.params.get("internalID")
        rows = [c for c in self.connectors.values() if project in (None, c["internalID"])]
        return httpx.Response(200, json=rows)

    def get(self, request: httpx.Request, cid: str) -> httpx.Response:
        if int(cid) not in self.connectors:
            return httpx.Response(404, json={"message": f"Connector with ID {cid} not found"})
        return httpx.Response(200, json=self.connectors[int(cid)])

    def applied(self, request: httpx.Request, answer: httpx.Response) -> httpx.Response:
        """The write is done; now answer it the way `write_fails` says (once)."""
        self.writes.append(f"{request.method} {request.url.path}")
        failure, self.write_fails = self.write_fails, None
        if failure == "timeout":
            raise httpx.ReadTimeout("the answer never came", request=request)
        if failure == "invalid_json":
            return httpx.Response(200, content=b'{"connectorID": 9')
        return answer

    def create(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        cid = max(self.connectors) + 1
        self.connectors[cid] = {"connectorID": cid, **body}
        return self.applied(request, httpx.Response(200, json={"connectorID": cid, "message": "created"}))

    def delete(self, request: httpx.Request, cid: str) -> httpx.Response:
        self.writes.append(f"attempt {request.method} {request.url.path}")
        if self.refuse_deletes or self.connectors.pop(int(cid), None) is None:
            return httpx.Response(404, json={"message": f"Connector with ID {cid} not found"})
        return self.applied(request, httpx.Response(200, json={"message": "deleted"}))


CREATE = {"name": "New Finance", "connector_type": "RDBMS", "institution_id": 1, "project_id": "proj-001"}
OPERATION_CREATE = {**CREATE, "institution_id": 1}


@pytest.mark.parametrize("failure", ["timeout", "invalid_json"])
async def test_a_create_that_went_through_is_never_made_twice(
    make_server: ServerFactory, router: respx.Router, failure: str
) -> None:
    upstream = Upstream(router)
    upstream.write_fails = failure
    async with Client(make_server()) as client:
        first = await call(client, "create_connector", CREATE)
        again = await call(client, "create_connector", CREATE)  # what an agent does next

    assert first.is_error
    assert upstream.writes == ["POST /api/connector"]  # sent once: not retried, and not by the second call
    assert [c["connectorName"] for c in upstream.connectors.values()] == ["Old Orders", "New Finance"]
    assert not again.is_error
    assert text(again) == (
        "Not created: proj-001 already has connector 6 named 'New Finance' (RDBMS). "
        "Use it (get_connector(connector_id=6)), or pass allow_duplicate=true to create another."
    )


async def test_a_delete_whose_answer_was_lost_is_reported_as_done(
    make_server: ServerFactory, router: respx.Router
) -> None:
    """The DELETE times out after deleting; the retry meets a 404: the connector is gone, as asked."""
    upstream = Upstream(router)
    upstream.write_fails = "timeout"
    async with Client(make_server()) as client:
        result = await call(client, "delete_connector", {"connector_id": 5, "confirm": True})

    assert upstream.writes == [
        "attempt DELETE /api/connector/5",
        "DELETE /api/connector/5",
        "attempt DELETE /api/connector/5",
    ]
    assert 5 not in upstream.connectors
    assert not result.is_error, text(result)
    assert text(result).startswith("Deleted connector 5 'Old Orders' (RDBMS, project proj-001).")


async def test_a_delete_answered_404_is_not_reported_done_while_the_connector_is_there(
    make_server: ServerFactory, router: respx.Router
) -> None:
    upstream = Upstream(router)
    upstream.refuse_deletes = True
    async with Client(make_server()) as client:
        result = await call(client, "delete_connector", {"connector_id": 5, "confirm": True})

    assert 5 in upstream.connectors
    assert result.is_error
    assert text(result) == (
        "Connector 5 not found. Find IDs with list_connectors(project_id=...) or find_connectors(query=...)."
    )


# --- two same-name creates in flight (issue 12, finding 3) -------------------------------------------------


class SlowUpstream(Upstream):
    """Answers a create only once the test releases it, applying it then (as a slow API does): a second
    create that arrives meanwhile cannot see the first in the listing yet."""

    def __init__(self, router: respx.Router) -> None:
        super().__init__(router)
        self.posted = anyio.Event()  # the first POST reached the upstream
        self.release = anyio.Event()
        self.posts = 0
        self.answer_with: httpx.Response | None = None  # instead of creating (a refusal)
        router.post("/api/connector").mock(side_effect=self.slow_create)

    async def slow_create(self, request: httpx.Request) -> httpx.Response:
        self.posts += 1
        self.posted.set()
        await self.release.wait()
        if self.answer_with is not None:
            return self.answer_with
        return self.create(request)


async def two_creates(
    client: Client, upstream: SlowUpstream, first: dict[str, Any], second: dict[str, Any]
) -> tuple[CallToolResult, CallToolResult]:
    """`first`, then `second` while the first's POST is in flight; then the upstream answers."""
    results: dict[str, CallToolResult] = {}

    async def run(label: str, arguments: dict[str, Any]) -> None:
        results[label] = await call(client, "create_connector", arguments)

    with anyio.fail_after(CALL_TIMEOUT):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(run, "first", first)
            await upstream.posted.wait()
            tasks.start_soon(run, "second", second)
            await anyio.wait_all_tasks_blocked()  # the second is waiting (or, before the fix, posting)
            upstream.release.set()
    return results["first"], results["second"]


async def test_two_same_name_creates_in_flight_make_one_connector(
    make_server: ServerFactory, router: respx.Router
) -> None:
    upstream = SlowUpstream(router)
    async with Client(make_server(cache_ttl=0)) as client:
        first, second = await two_creates(client, upstream, CREATE, {**CREATE, "name": " new FINANCE "})

    assert upstream.posts == 1
    assert [c["connectorName"] for c in upstream.connectors.values()] == ["Old Orders", "New Finance"]
    assert text(first) == "Created connector 6 'New Finance' (RDBMS) in proj-001."
    assert not second.is_error
    assert text(second) == (
        "Not created: the same create was already in flight and created connector 6 'New Finance' in proj-001. "
        "Use it (get_connector(connector_id=6)), or pass allow_duplicate=true to create another."
    )
    assert second.structured_content == {
        "summary": text(second),
        "created": False,
        "connector_id": 6,
        "duplicate": True,
        "in_flight": True,
    }


async def test_a_create_in_flight_that_is_refused_refuses_the_second_without_sending_it(
    make_server: ServerFactory, router: respx.Router
) -> None:
    upstream = SlowUpstream(router)
    upstream.answer_with = httpx.Response(400, json={"message": "Missing connectorHost"})
    async with Client(make_server()) as client:
        first, second = await two_creates(client, upstream, CREATE, CREATE)

    assert upstream.posts == 1
    assert first.is_error
    assert second.is_error
    assert text(first) == (
        "The Databasin API refused the request: Missing connectorHost. "
        "Fix the arguments and call create_connector again."
    )
    assert text(second) == text(first)


async def test_a_create_in_flight_that_gets_no_answer_is_not_sent_again_by_the_second(
    make_server: ServerFactory, router: respx.Router
) -> None:
    upstream = SlowUpstream(router)

    async def applied_then_timed_out(request: httpx.Request) -> httpx.Response:
        upstream.write_fails = "timeout"
        return await SlowUpstream.slow_create(upstream, request)

    router.post("/api/connector").mock(side_effect=applied_then_timed_out)
    async with Client(make_server()) as client:
        first, second = await two_creates(client, upstream, CREATE, CREATE)

    assert upstream.posts == 1
    assert text(first) == (
        "The Databasin API at http://api.test did not answer in time. The connector may or may not have been "
        "created. It is safe to call create_connector again: it answers with the connector if the first attempt "
        "went through, and never makes a duplicate."
    )
    assert text(second) == (
        "The same create was already in flight and failed: The Databasin API at http://api.test did not answer "
        "in time. The connector may or may not have been created. It is safe to call create_connector again: it "
        "answers with the connector if the first attempt went through, and never makes a duplicate."
    )


async def test_allow_duplicate_does_not_wait_for_a_create_in_flight(
    make_server: ServerFactory, router: respx.Router
) -> None:
    upstream = SlowUpstream(router)
    async with Client(make_server()) as client:
        first, second = await two_creates(client, upstream, CREATE, {**CREATE, "allow_duplicate": True})

    assert upstream.posts == 2  # asked for: a second connector of that name
    assert not first.is_error
    assert not second.is_error
    assert {text(first), text(second)} == {
        "Created connector 6 'New Finance' (RDBMS) in proj-001.",
        "Created connector 7 'New Finance' (RDBMS) in proj-001.",
    }


async def test_a_create_cancelled_in_flight_holds_off_the_one_waiting_for_it(router: respx.Router) -> None:
    """A client that gives up (its own timeout) cancels the call; the POST may still land upstream, so the
    same create waiting behind it must not send a second one."""
    upstream = SlowUpstream(router)
    settings = Settings(api_url=API_URL, token=API_TOKEN, retry_backoff=0, structured_output=True)
    results: list[str] = []
    async with DatabasinClient(settings, transport=api_transport(router)) as api:
        operations = Operations(api, settings)

        async def create() -> None:
            results.append((await operations.writes.create_connector(**OPERATION_CREATE)).text)

        with anyio.fail_after(CALL_TIMEOUT):
            async with anyio.create_task_group() as tasks, anyio.create_task_group() as first:
                first.start_soon(create)
                await upstream.posted.wait()
                tasks.start_soon(create)
                await anyio.wait_all_tasks_blocked()
                first.cancel_scope.cancel()

    assert upstream.posts == 1
    assert results == [
        "Not created: a create of 'New Finance' in proj-001 got no answer 0 s ago and may still go through. "
        "Check with find_connectors(query='New Finance') in a minute, or pass allow_duplicate=true to create another."
    ]
