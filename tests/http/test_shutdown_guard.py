"""http_guards.ShutdownGuard in-process: every response ends complete, whatever cut its request short."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest
from starlette.types import Message, Receive, Scope, Send

from databasin_mcp.http_guards import ShutdownGuard

pytestmark = pytest.mark.anyio

HTTP_SCOPE: Scope = {"type": "http", "method": "POST", "path": "/mcp", "headers": []}


class Recorder:
    """The ASGI `send` of a server: what reached the client."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages if m["type"] == "http.response.body")

    @property
    def complete(self) -> bool:
        last = self.messages[-1]
        return last["type"] == "http.response.body" and not last.get("more_body", False)


async def receive() -> Message:
    await anyio.sleep_forever()
    raise AssertionError("unreachable")


async def never_answers(scope: Scope, receive: Receive, send: Send) -> None:
    await anyio.sleep_forever()


async def streams_forever(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]})
    await send({"type": "http.response.body", "body": b"event: message\r\n\r\n", "more_body": True})
    await anyio.sleep_forever()


async def serve_until_cancel_all(app: Any) -> Recorder:
    guard = ShutdownGuard(app)
    client = Recorder()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as server:
            server.start_soon(guard, HTTP_SCOPE, receive, client.send)
            await anyio.wait_all_tasks_blocked()
            guard.cancel_all()
    return client


async def test_a_request_not_answered_yet_is_answered_503() -> None:
    client = await serve_until_cancel_all(never_answers)

    assert client.status == 503
    assert client.complete
    assert json.loads(client.body) == {"error": "shutting_down", "message": "The server is shutting down; try again."}


async def test_a_started_stream_is_ended_properly() -> None:
    client = await serve_until_cancel_all(streams_forever)

    assert client.status == 200
    assert client.complete
    assert client.body == b"event: message\r\n\r\n"


async def test_a_request_arriving_during_shutdown_is_answered_503() -> None:
    guard = ShutdownGuard(never_answers)
    guard.cancel_all()
    client = Recorder()
    with anyio.fail_after(5):
        await guard(HTTP_SCOPE, receive, client.send)

    assert client.status == 503


async def test_a_request_whose_task_the_server_cancels_is_answered_and_ends_without_an_error() -> None:
    guard = ShutdownGuard(never_answers)
    client = Recorder()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as server:
            server.start_soon(guard, HTTP_SCOPE, receive, client.send)
            await anyio.wait_all_tasks_blocked()
            server.cancel_scope.cancel()  # what uvicorn does once --timeout-graceful-shutdown has passed

    assert client.status == 503
    assert client.complete


async def test_a_second_response_to_one_request_ends_the_first_instead() -> None:
    async def stream_then_plain_response(scope: Scope, receive: Receive, send: Send) -> None:
        # What the MCP SDK's SSE endpoint does once its stream was closed by a shutdown.
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"data: 1\r\n\r\n", "more_body": True})
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    client = Recorder()
    await ShutdownGuard(stream_then_plain_response)(HTTP_SCOPE, receive, client.send)

    assert [m["type"] for m in client.messages] == ["http.response.start", "http.response.body", "http.response.body"]
    assert client.complete
    assert client.body == b"data: 1\r\n\r\n"


async def test_normal_responses_and_other_scopes_pass_through_untouched() -> None:
    async def answers(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 201, "headers": [(b"x-a", b"1")]})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        await send({"type": "http.response.body", "body": b"s"})

    client = Recorder()
    await ShutdownGuard(answers)(HTTP_SCOPE, receive, client.send)
    assert client.messages == [
        {"type": "http.response.start", "status": 201, "headers": [(b"x-a", b"1")]},
        {"type": "http.response.body", "body": b"part", "more_body": True},
        {"type": "http.response.body", "body": b"s"},
    ]

    seen: list[str] = []

    async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope["type"])

    await ShutdownGuard(lifespan)({"type": "lifespan"}, receive, client.send)
    assert seen == ["lifespan"]


async def test_an_app_that_returns_without_answering_is_left_to_the_server() -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return

    client = Recorder()
    await ShutdownGuard(silent)(HTTP_SCOPE, receive, client.send)

    assert client.messages == []  # uvicorn answers 500 itself and logs the app's mistake
