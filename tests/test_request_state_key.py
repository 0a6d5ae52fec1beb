"""A question to the person survives a 2026-07-28 retry on another worker only with a shared key (issue 15 #5).

The client carries the delete's confirmation question between its two calls in a state the MCP SDK seals.
Two server instances stand in for two workers: one asks, the other gets the answer. With the same
DATABASIN_MCP_REQUEST_STATE_KEY the other one verifies the state and deletes; with its own key it refuses
the state and deletes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
import respx
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import ElicitResult, InputRequiredResult
from pydantic import ValidationError

from databasin_mcp.config import Settings

from .conftest import ServerFactory

pytestmark = pytest.mark.anyio

KEY = "k" * 40
CONNECTOR = {"connectorID": 101, "connectorName": "Production MySQL", "connectorType": "RDBMS", "internalID": "p1"}


@pytest.fixture
def api(router: respx.Router) -> respx.Router:
    router.get("/api/connector/101").respond(json=CONNECTOR)
    router.delete("/api/connector/101", name="delete").respond(json={"status": "success"})
    return router


async def never_called(context: Any, params: Any) -> ElicitResult:
    raise AssertionError("the test answers the question itself")


async def asked_by(client: Client) -> InputRequiredResult:
    result = await client.session.call_tool("delete_connector", {"connector_id": 101}, allow_input_required=True)
    assert isinstance(result, InputRequiredResult)
    return result


async def test_a_shared_key_lets_another_worker_verify_the_question_and_delete(
    make_server: ServerFactory, api: respx.Router
) -> None:
    first, second = make_server(request_state_key=KEY), make_server(request_state_key=KEY)
    async with Client(first, elicitation_callback=never_called) as one:
        question = await asked_by(one)
    async with Client(second, elicitation_callback=never_called) as other:
        result = await other.session.call_tool(
            "delete_connector",
            {"connector_id": 101},
            input_responses={"confirm_delete": ElicitResult(action="accept", content={"name": "Production MySQL"})},
            request_state=question.request_state,
        )

    assert result.content[0].text.startswith("Deleted connector 101")  # type: ignore[union-attr]
    assert api.routes["delete"].call_count == 1


async def test_without_the_shared_key_another_worker_refuses_the_state_and_deletes_nothing(
    make_server: ServerFactory, api: respx.Router
) -> None:
    first, second = make_server(), make_server()  # each its own key, as two processes would have
    async with Client(first, elicitation_callback=never_called) as one:
        question = await asked_by(one)
    async with Client(second, elicitation_callback=never_called) as other:
        with pytest.raises(MCPError, match="Invalid or expired requestState"):
            await other.session.call_tool(
                "delete_connector",
                {"connector_id": 101},
                input_responses={"confirm_delete": ElicitResult(action="accept", content={"name": "Production MySQL"})},
                request_state=question.request_state,
            )

    assert api.routes["delete"].call_count == 0


async def test_a_made_up_state_is_refused_and_deletes_nothing(make_server: ServerFactory, api: respx.Router) -> None:
    async with Client(make_server(request_state_key=KEY), elicitation_callback=never_called) as client:
        with pytest.raises(MCPError, match="Invalid or expired requestState"):
            await client.session.call_tool(
                "delete_connector",
                {"connector_id": 101},
                input_responses={"confirm_delete": ElicitResult(action="accept", content={"name": "Production MySQL"})},
                request_state='{"ask":"confirm_delete","connector_id":101}',
            )

    assert api.routes["delete"].call_count == 0


def test_a_short_key_is_refused_with_how_to_make_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASIN_MCP_REQUEST_STATE_KEY", "too-short")
    with pytest.raises(ValidationError, match=r"at least 32 bytes of randomness.*secrets.token_hex\(32\)"):
        Settings()
