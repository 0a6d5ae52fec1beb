"""Writes the upstream applied although the server never got a proper answer (issue 6).

The sandbox's scripted faults answer instead of the endpoint, so the write never happens; a real API
often applies the write and then times out or garbles its answer. A stateful respx upstream plays that
here: the server must neither repeat a create, nor report a write that went through as a failure that
sends the agent looking for a connector it just deleted.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from mcp import Client

from tests.conftest import ServerFactory

from .support import call, text

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
        "Not created: proj-001 already has connector 6 named 'New Finance' (RDBMS). Use connector_id=6, "
        "or pass allow_duplicate=true to create another."
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
