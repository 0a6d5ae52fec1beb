"""http_shutdown.ShutdownGuard in-process: every response ends complete, whatever cut its request short."""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
import pytest
from starlette.types import Message, Receive, Scope, Send

from databasin_mcp.http_shutdown import SHUTDOWN_MESSAGE, RedundantShutdownWarnings, ShutdownGuard

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


# --- an answer for every JSON-RPC request still waiting ---------------------------------------------------------

SHUTDOWN_ERROR = {"code": -32000, "message": SHUTDOWN_MESSAGE}
SSE_HEADERS = [(b"content-type", b"text/event-stream")]


def body_of(*messages: dict[str, Any]) -> bytes:
    return json.dumps(messages[0] if len(messages) == 1 else list(messages)).encode()


def request(request_id: int | str, method: str = "tools/call") -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": {}}


def sse_data(message: dict[str, Any]) -> bytes:
    return f"event: message\r\ndata: {json.dumps(message)}\r\n\r\n".encode()


def data_lines(body: bytes) -> list[dict[str, Any]]:
    return [json.loads(line[5:]) for line in body.decode().splitlines() if line.startswith("data: {")]


class Sends:
    """A client that sends one request body, then waits for the response."""

    def __init__(self, body: bytes) -> None:
        self._body: bytes | None = body

    async def receive(self) -> Message:
        if self._body is not None:
            body, self._body = self._body, None
            return {"type": "http.request", "body": body, "more_body": False}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")


async def reads_the_body_then(answer: Any) -> Any:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await answer(send)

    return app


async def serve_one_until_cancel_all(
    app: Any, body: bytes, scope: Scope = HTTP_SCOPE
) -> tuple[Recorder, ShutdownGuard]:
    guard = ShutdownGuard(app)
    client = Recorder()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as server:
            server.start_soon(guard, scope, Sends(body).receive, client.send)
            await anyio.wait_all_tasks_blocked()
            guard.cancel_all()
    return client, guard


async def test_a_started_event_stream_gets_an_error_event_for_its_request_before_it_ends() -> None:
    async def stream(send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        await send({"type": "http.response.body", "body": b": ping\r\n\r\n", "more_body": True})
        await anyio.sleep_forever()

    client, guard = await serve_one_until_cancel_all(await reads_the_body_then(stream), body_of(request(7)))

    assert client.status == 200
    assert client.complete
    assert client.body == b": ping\r\n\r\n" + sse_data({"jsonrpc": "2.0", "id": 7, "error": SHUTDOWN_ERROR})
    assert guard.answered_at_shutdown == {"7"}


async def test_a_request_already_answered_on_its_stream_is_not_answered_again() -> None:
    async def stream(send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        answer = sse_data({"jsonrpc": "2.0", "id": "a", "result": {}})
        await send({"type": "http.response.body", "body": answer, "more_body": True})
        await anyio.sleep_forever()

    # A batch (older protocol versions): "a" answered, "b" still waiting, the notification owed nothing.
    body = body_of(request("a"), request("b"), {"jsonrpc": "2.0", "method": "notifications/progress"})
    client, _ = await serve_one_until_cancel_all(await reads_the_body_then(stream), body)

    assert [message["id"] for message in data_lines(client.body)] == ["a", "b"]
    assert data_lines(client.body)[1]["error"] == SHUTDOWN_ERROR


async def test_a_request_not_answered_yet_gets_503_with_its_json_rpc_error() -> None:
    async def never(send: Send) -> None:
        await anyio.sleep_forever()

    client, _ = await serve_one_until_cancel_all(await reads_the_body_then(never), body_of(request(3)))

    assert client.status == 503
    assert json.loads(client.body) == {"jsonrpc": "2.0", "id": 3, "error": SHUTDOWN_ERROR}


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", body_of({"jsonrpc": "2.0", "method": "ping"}), b"{" * 5000])
async def test_a_body_without_a_request_id_gets_the_plain_503(body: bytes) -> None:
    async def never(send: Send) -> None:
        await anyio.sleep_forever()

    client, guard = await serve_one_until_cancel_all(await reads_the_body_then(never), body)

    assert client.status == 503
    assert json.loads(client.body) == {"error": "shutting_down", "message": "The server is shutting down; try again."}
    assert guard.answered_at_shutdown == set()


async def test_requests_posted_to_an_sse_session_are_answered_on_its_stream() -> None:
    """The SSE transport: answers go on the session's GET stream, not on the POST (answered 202 at once)."""
    session = "5f0c2a"
    stream_open = anyio.Event()
    posted = anyio.Event()

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "GET":
            await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
            endpoint = f"event: endpoint\r\ndata: /messages/?session_id={session}\r\n\r\n".encode()
            await send({"type": "http.response.body", "body": endpoint, "more_body": True})
            stream_open.set()
            await posted.wait()
            answer = sse_data({"jsonrpc": "2.0", "id": 1, "result": {}})
            await send({"type": "http.response.body", "body": answer, "more_body": True})
            await anyio.sleep_forever()
        await receive()
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b"Accepted"})

    guard = ShutdownGuard(app)
    stream, posts = Recorder(), Recorder()
    post_scope = {**HTTP_SCOPE, "path": "/messages/", "query_string": f"session_id={session}".encode()}
    with anyio.fail_after(5):
        async with anyio.create_task_group() as server:
            server.start_soon(guard, {**HTTP_SCOPE, "method": "GET", "path": "/sse"}, receive, stream.send)
            await stream_open.wait()
            for request_id in (1, 2):
                await guard(post_scope, Sends(body_of(request(request_id))).receive, posts.send)
            posted.set()  # the session answers request 1; 2 is still waiting
            await anyio.wait_all_tasks_blocked()
            guard.cancel_all()

    assert [message["id"] for message in data_lines(stream.body)] == [1, 2]
    assert data_lines(stream.body)[1] == {"jsonrpc": "2.0", "id": 2, "error": SHUTDOWN_ERROR}
    assert stream.complete
    assert guard.answered_at_shutdown == {"2"}


def test_the_sdks_own_late_shutdown_answer_is_not_logged_as_failed_for_a_request_answered_here() -> None:
    guard = ShutdownGuard(never_answers)
    guard.answered_at_shutdown.add("7")
    only_unanswered = RedundantShutdownWarnings(guard)

    def record(message: str) -> logging.LogRecord:
        return logging.LogRecord("mcp.shared.jsonrpc_dispatcher", logging.WARNING, "", 0, message, None, None)

    assert not only_unanswered.filter(record("shutdown error response for request 7 gave up: transport write blocked"))
    assert only_unanswered.filter(record("shutdown error response for request 8 gave up: transport write blocked"))
    assert only_unanswered.filter(record("something else about request 7"))
