"""The stdio transport in process: every line gets its answer, every answer is one line, a stop answers calls in flight.

A raw JSON-RPC writer feeds bytes to `serve_lines` and reads what it writes, line by line, exactly as a client
of the real process would (tests/e2e/test_stdio_protocol.py does the same against the real process).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest
import respx
from anyio.streams.memory import MemoryObjectSendStream
from mcp_types import JSONRPCResponse

from databasin_mcp.server import DatabasinServer
from databasin_mcp.stdio import Stop, _lines, serve_lines
from databasin_mcp.stdio_lines import MAX_MESSAGE_BYTES, TooLong, encode_message

from .conftest import ServerFactory

pytestmark = pytest.mark.anyio

WAIT = 10  # seconds: bounds every wait for an answer, so a missing one fails instead of hanging

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": "init",
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


@dataclass
class RawClient:
    """Writes raw lines to the transport and reads the lines it writes back, one JSON object each."""

    lines: MemoryObjectSendStream[bytes | TooLong]
    stop: Stop
    written: list[bytes] = field(default_factory=list)
    arrived: anyio.Event = field(default_factory=anyio.Event)

    async def write(self, data: bytes) -> None:
        self.written.append(data)
        self.arrived.set()
        self.arrived = anyio.Event()

    async def send(self, line: bytes | TooLong | dict[str, Any]) -> None:
        await self.lines.send(json.dumps(line).encode() if isinstance(line, dict) else line)

    def answers(self) -> list[dict[str, Any]]:
        """Every line written so far, each checked to be exactly one JSON object on one line."""
        parsed = []
        for data in self.written:
            assert data.endswith(b"\n"), data
            assert data.count(b"\n") == 1, data
            text = data.decode("utf-8")  # strict: valid UTF-8, no surrogate can be in it
            assert len(text.splitlines()) == 1, text  # no U+2028, U+0085... raw: one line for every reader
            value = json.loads(text)
            assert isinstance(value, dict), text
            parsed.append(value)
        return parsed

    async def answer(self, request_id: Any) -> dict[str, Any]:
        """The one answer to `request_id`, waiting for it."""
        with anyio.fail_after(WAIT):
            while not any(item.get("id") == request_id for item in self.answers()):
                await self.arrived.wait()
        [found] = [item for item in self.answers() if item.get("id") == request_id]
        return found


@asynccontextmanager
async def raw_session(server: DatabasinServer, *, initialize: bool = True) -> AsyncIterator[RawClient]:
    """`serve_lines` running `server`, with a raw client; ends the input on exit and waits for the end."""
    send, receive = anyio.create_memory_object_stream[bytes | TooLong](16)
    stop = Stop()
    client = RawClient(send, stop)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(serve_lines, server, receive, client.write, stop)
        if initialize:
            await client.send(INITIALIZE)
            await client.answer("init")
            await client.send(INITIALIZED)
        yield client
        send.close()
        with anyio.fail_after(WAIT):
            await stop.requested.wait()


def call(request_id: Any, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    params = {"name": tool, "arguments": arguments}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


# --- every malformed message that has an id is answered (issue 12, #10) ---------------------------------------

JSONRPC_2 = 'Invalid request: "jsonrpc" must be "2.0".'
METHOD_TEXT = 'Invalid request: "method" must be a string.'
MALFORMED = [
    pytest.param(b'{"jsonrpc": "2.0", "id": 7, "method": "tools/list",}', 7, -32700, "Parse error:", id="invalid-json"),
    pytest.param(b'{"jsonrpc": "2.0", "id": "s1", "method": "ping"', "s1", -32700, "Parse error:", id="truncated"),
    pytest.param(
        b'{"jsonrpc": "1.0", "id": 8, "method": "ping"}',
        8,
        -32600,
        'Invalid request: "jsonrpc" must be "2.0".',
        id="1.0",
    ),
    pytest.param(b'{"id": 9, "method": "ping"}', 9, -32600, JSONRPC_2, id="no-jsonrpc"),
    pytest.param(
        b'{"jsonrpc": "2.0", "id": 10, "method": "tools/call", "params": ["get_connector", {"connector_id": 1}]}',
        10,
        -32602,
        'Invalid params: "params" must be an object (named parameters), not an array.',
        id="params-array",
    ),
    pytest.param(
        b'{"jsonrpc": "2.0", "id": 11, "method": "ping", "params": "x"}',
        11,
        -32602,
        'Invalid params: "params" must be an object (named parameters), not a str.',
        id="params-string",
    ),
    pytest.param(
        b'{"jsonrpc": "2.0", "id": 12, "method": "tools/li\\ud83dst"}',
        12,
        -32700,
        "Parse error: the message is not valid Unicode: method holds a lone surrogate escape "
        "(half of a UTF-16 pair, such as \\ud83d); send whole characters.",
        id="surrogate-in-method",
    ),
    pytest.param(
        json.dumps(call(13, "list_connectors", {"project_id": "proj\udc00"})).encode(),
        13,
        -32700,
        "Parse error: the message is not valid Unicode: params.arguments.project_id holds a lone surrogate escape "
        "(half of a UTF-16 pair, such as \\ud83d); send whole characters.",
        id="surrogate-in-argument",
    ),
    pytest.param(
        b'{"jsonrpc": "2.0", "id": 14, "method": 5}',
        14,
        -32600,
        'Invalid request: "method" must be a string.',
        id="method",
    ),
    pytest.param(
        b'{"jsonrpc": "2.0", "id": 15}',
        15,
        -32600,
        'Invalid request: a message has a "method" (a request or a notification), or a "result" or an "error".',
        id="no-method",
    ),
    pytest.param(
        b'{"jsonrpc": "2.0", "id": 16, "method": "ping", "params": {"a": 1}, "x": "caf\xe9"}',
        16,
        -32700,
        "Parse error: the message is not valid UTF-8.",
        id="latin-1",
    ),
    pytest.param(b'{"jsonrpc": "2.0", "id": 17, "result": 5}', 17, -32600, "Invalid request: result:", id="bad-result"),
    pytest.param(
        b'{"jsonrpc": "2.0", "id": 18, "method": "ping", "params": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        18,
        -32700,
        "Parse error: the message is nested too deeply.",
        id="deep",
    ),
]


@pytest.mark.parametrize(("line", "request_id", "code", "message"), MALFORMED)
async def test_every_malformed_message_with_an_id_is_answered_with_an_error(
    make_server: ServerFactory, line: bytes, request_id: Any, code: int, message: str
) -> None:
    async with raw_session(make_server()) as client:
        await client.send(line)
        await client.send({"jsonrpc": "2.0", "id": "after", "method": "ping"})
        answer = await client.answer(request_id)
        assert answer["error"]["code"] == code
        assert answer["error"]["message"].startswith(message), answer
        assert (await client.answer("after"))["result"] == {}  # the server lives on
        assert [item["id"] for item in client.answers()] == ["init", request_id, "after"]


async def test_each_request_of_a_batch_is_answered_on_its_own(make_server: ServerFactory) -> None:
    async with raw_session(make_server()) as client:
        batch = [{"jsonrpc": "2.0", "id": 21, "method": "ping"}, INITIALIZED, {"jsonrpc": "2.0", "id": 22}]
        await client.send(json.dumps(batch).encode())
        for request_id in (21, 22):
            answer = await client.answer(request_id)
            assert answer["error"] == {
                "code": -32600,
                "message": "Invalid request: batches are not supported; send one message per line.",
            }


async def test_a_message_too_long_is_answered_and_the_next_one_served(make_server: ServerFactory) -> None:
    async with raw_session(make_server()) as client:
        await client.send(TooLong(b'{"jsonrpc": "2.0", "id": 31, "method": "tools/call", "params": {"x": "xxxx'))
        await client.send({"jsonrpc": "2.0", "id": 32, "method": "ping"})
        assert (await client.answer(31))["error"] == {
            "code": -32600,
            "message": f"Invalid request: a message is at most {MAX_MESSAGE_BYTES:,} bytes.",
        }
        assert (await client.answer(32))["result"] == {}


@pytest.mark.parametrize(
    "line",
    [
        b'{"jsonrpc": "2.0", "method": "ping",}',  # broken notification
        b'{"jsonrpc": "1.0", "method": "notifications/initialized"}',
        b'{"jsonrpc": "2.0", "id": true, "method": "ping"}',  # ids are strings or integers
        b'{"jsonrpc": "2.0", "id": 1.5, "method": "ping"}',
        b'{"jsonrpc": "2.0", "id": null, "method": "ping"}',
        b"[]",
        b"42",
        b"\xff\xfe",
        # Broken JSON whose only "id" is inside params: never answered as if it were that request's.
        b'{"jsonrpc": "2.0", "method": "tools/call", "params": {"arguments": {"id": 41}},',
        b'{"jsonrpc": "2.0", "id": 42, "id": 43, "method": "ping",',  # which one? neither
    ],
)
async def test_a_malformed_message_without_an_id_is_logged_and_dropped(
    make_server: ServerFactory, line: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    async with raw_session(make_server()) as client:
        with caplog.at_level(logging.WARNING, logger="databasin_mcp.stdio"):
            await client.send(line)
            await client.send({"jsonrpc": "2.0", "id": "after", "method": "ping"})
            await client.answer("after")
        assert [item["id"] for item in client.answers()] == ["init", "after"]
        [warning] = [record for record in caplog.records if record.name == "databasin_mcp.stdio"]
        assert warning.getMessage().startswith("Dropped a message that has no id to answer: ")


async def test_blank_lines_are_ignored(make_server: ServerFactory, caplog: pytest.LogCaptureFixture) -> None:
    async with raw_session(make_server()) as client:
        with caplog.at_level(logging.WARNING, logger="databasin_mcp.stdio"):
            await client.send(b"")
            await client.send(b"  \r")
            await client.send({"jsonrpc": "2.0", "id": "after", "method": "ping"})
            await client.answer("after")
        assert [item["id"] for item in client.answers()] == ["init", "after"]
        assert not [record for record in caplog.records if record.name == "databasin_mcp.stdio"]


# --- every answer is one line of valid JSON, whatever it holds (issue 12, #1) --------------------------------


def test_an_answer_holding_lone_surrogates_is_written_with_replacement_characters() -> None:
    result = {
        "content": [{"type": "text", "text": "Broken \ud83d name"}],
        "structuredContent": {"bad\udc00": ["x\ud800"]},
    }
    data = encode_message(JSONRPCResponse(jsonrpc="2.0", id=5, result=result))
    assert data.endswith(b"\n")
    assert data.count(b"\n") == 1
    assert json.loads(data) == {
        "jsonrpc": "2.0",
        "id": 5,
        "result": {
            "content": [{"type": "text", "text": "Broken \ufffd name"}],
            "structuredContent": {"bad\ufffd": ["x\ufffd"]},
        },
    }


def test_an_answer_is_one_line_for_readers_that_split_on_unicode_line_breaks() -> None:
    result = {"content": [{"type": "text", "text": "a\u2028b\u2029c\x85d\ne"}]}
    data = encode_message(JSONRPCResponse(jsonrpc="2.0", id=6, result=result))
    assert len(data.decode().splitlines()) == 1
    assert json.loads(data)["result"]["content"][0]["text"] == "a\u2028b\u2029c\x85d\ne"


async def test_a_surrogate_from_the_upstream_never_stops_the_server(
    make_server: ServerFactory, router: respx.Router
) -> None:
    body = '{"connectorID": 5, "connectorName": "Broken \\ud83d name", "internalID": "proj-001"}'
    router.get("/api/connector/5").mock(return_value=httpx.Response(200, text=body))
    router.get("/api/connector").mock(return_value=httpx.Response(200, text=f"[{body}]"))
    async with raw_session(make_server()) as client:
        await client.send(call(1, "get_connector", {"connector_id": 5}))
        await client.send(call(2, "list_connectors", {"project_id": "proj-001"}))
        await client.send(call(3, "find_connectors", {"query": "broken"}))
        got = (await client.answer(1))["result"]
        assert got["content"][0]["text"].split("\n")[:2] == ["connectorID: 5", "connectorName: Broken \ufffd name"]
        assert got["structuredContent"]["connector"]["connectorName"] == "Broken \ufffd name"
        assert "Broken \ufffd name" in (await client.answer(2))["result"]["content"][0]["text"]
        assert "Broken \ufffd name" in (await client.answer(3))["result"]["content"][0]["text"]


# --- a stop answers the calls in flight, then ends (issue 13, #5) -------------------------------------------


@pytest.mark.parametrize("how", ["signal", "end of input"])
async def test_a_stop_answers_the_call_in_flight_and_ends(
    make_server: ServerFactory, router: respx.Router, how: str
) -> None:
    reached = anyio.Event()

    async def never_answers(request: httpx.Request) -> httpx.Response:
        reached.set()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    router.get("/api/connector/5").mock(side_effect=never_answers)
    async with raw_session(make_server()) as client:
        await client.send(call(1, "get_connector", {"connector_id": 5}))
        with anyio.fail_after(WAIT):
            await reached.wait()
        if how == "signal":
            client.stop.request("SIGTERM received", 15)
            expected = (
                "databasin-mcp is stopping (SIGTERM received); this call was cancelled before it finished, "
                "so a change it was making may or may not have been applied."
            )
        else:
            client.lines.close()
            expected = "Connection closed"  # the client closed its side: the SDK's words say what happened
        answer = await client.answer(1)
    assert answer["error"] == {"code": -32000, "message": expected}
    assert [item["id"] for item in client.answers()] == ["init", 1]


# --- reading lines from a descriptor -------------------------------------------------------------------------


def test_lines_are_split_and_a_line_too_long_is_skipped_to_its_end() -> None:
    reading, writing = os.pipe()
    too_long = b'{"id": 1, "x": "' + b"y" * (MAX_MESSAGE_BYTES + 10) + b'"}\n'

    def feed() -> None:
        with os.fdopen(writing, "wb") as pipe:
            pipe.write(b"first\r\n\n" + too_long + b"second\nlast without a newline")

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        got = list(_lines(reading))
    finally:
        writer.join()
        os.close(reading)
    assert got[:2] == [b"first\r", b""]
    assert isinstance(got[2], TooLong)
    assert got[2].start.startswith(b'{"id": 1, "x": "yyy')
    assert got[3:] == [b"second", b"last without a newline"]
