"""In-process pieces of the slow-client defences: the body deadline, the descriptor budget, the capped listener.

The real server with real slow clients is tested in test_slow_clients.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any

import anyio
import pytest
import uvicorn
from starlette.types import Message, Receive, Scope, Send
from uvicorn.server import ServerState

from databasin_mcp import http_protocol
from databasin_mcp.errors import ConfigurationError
from databasin_mcp.http_guards import BodyDeadline
from databasin_mcp.http_protocol import (
    DESCRIPTORS_RESERVED,
    CappedListener,
    ConnectionLimits,
    GuardedH11Protocol,
    fit_to_descriptors,
)

HTTP_SCOPE: Scope = {"type": "http", "method": "POST", "path": "/mcp", "headers": []}
SECONDS = 0.05


class Client:
    """Both ends of the ASGI exchange a server sees: the body it feeds in, the messages it sends back."""

    def __init__(self, *body_parts: bytes, then_silent: bool = True) -> None:
        self._parts = list(body_parts)
        self._then_silent = then_silent
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        if self._parts:
            part = self._parts.pop(0)
            return {"type": "http.request", "body": part, "more_body": bool(self._parts) or self._then_silent}
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])


async def reads_the_body_then_answers(scope: Scope, receive: Receive, send: Send) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


@pytest.mark.anyio
async def test_a_body_that_stops_arriving_is_answered_408_with_the_connection_closed() -> None:
    client = Client(b'{"jsonrpc": ')
    with anyio.fail_after(5):
        await BodyDeadline(reads_the_body_then_answers, SECONDS)(HTTP_SCOPE, client.receive, client.send)

    assert client.status == 408
    assert (b"connection", b"close") in client.sent[0]["headers"]
    assert json.loads(client.sent[1]["body"]) == {
        "error": "request_timeout",
        "message": f"The request body did not arrive within {SECONDS:g} s.",
    }
    assert len(client.sent) == 2


@pytest.mark.anyio
async def test_a_body_in_time_passes_and_waiting_after_it_has_no_deadline() -> None:
    waited: list[float] = []

    async def streams_until_disconnect(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        started = anyio.current_time()
        with anyio.move_on_after(SECONDS * 4):
            await receive()  # a streaming response waits here for the client to go: not a body, no deadline
        waited.append(anyio.current_time() - started)
        await send({"type": "http.response.body", "body": b"done"})

    client = Client(b"{}", then_silent=False)
    with anyio.fail_after(5):
        await BodyDeadline(streams_until_disconnect, SECONDS)(HTTP_SCOPE, client.receive, client.send)

    assert client.status == 200
    assert client.sent[1] == {"type": "http.response.body", "body": b"done"}
    assert waited[0] >= SECONDS * 4


@pytest.mark.anyio
async def test_a_late_body_after_the_response_started_ends_that_response() -> None:
    async def answers_before_reading(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"part", "more_body": True})
        await reads_the_body_then_answers(scope, receive, send)

    client = Client(b"{")
    with anyio.fail_after(5):
        await BodyDeadline(answers_before_reading, SECONDS)(HTTP_SCOPE, client.receive, client.send)

    assert [m["type"] for m in client.sent] == ["http.response.start", "http.response.body", "http.response.body"]
    assert client.sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


# --- the descriptor budget -----------------------------------------------------------------------------------


class FakeLimits:
    """resource.getrlimit/setrlimit for RLIMIT_NOFILE, without changing this process's limits."""

    def __init__(self, soft: int, hard: int) -> None:
        self.soft, self.hard = soft, hard
        self.set_to: tuple[int, int] | None = None

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(http_protocol.resource, "getrlimit", lambda kind: (self.soft, self.hard))
        monkeypatch.setattr(http_protocol.resource, "setrlimit", self._set)

    def _set(self, kind: Any, limits: tuple[int, int]) -> None:
        self.set_to = limits
        self.soft, self.hard = limits


LIMITS = ConnectionLimits(head_timeout=10, max_connections=200)
BACKLOG = 64
NEEDED = 200 + BACKLOG + DESCRIPTORS_RESERVED


def test_enough_descriptors_change_nothing_but_set_the_ceiling(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeLimits(1024, 4096)
    fake.install(monkeypatch)
    assert fit_to_descriptors(LIMITS, BACKLOG) == ConnectionLimits(10, 200, 1024 - DESCRIPTORS_RESERVED)
    assert fake.set_to is None


def test_the_soft_limit_is_raised_as_far_as_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeLimits(256, 4096)
    fake.install(monkeypatch)
    assert fit_to_descriptors(LIMITS, BACKLOG) == ConnectionLimits(10, 200, NEEDED - DESCRIPTORS_RESERVED)
    assert fake.set_to == (NEEDED, 4096)


def test_without_room_to_raise_the_cap_is_lowered_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    FakeLimits(256, 256).install(monkeypatch)
    with caplog.at_level(logging.WARNING):
        fitted = fit_to_descriptors(LIMITS, BACKLOG)

    assert fitted == ConnectionLimits(10, 256 - BACKLOG - DESCRIPTORS_RESERVED, 256 - DESCRIPTORS_RESERVED)
    assert caplog.messages == [
        "Only 256 file descriptors are allowed (ulimit -n): serving at most 160 connections, not 200 "
        f"(DATABASIN_MCP_MAX_CONNECTIONS). Raise the limit to {NEEDED}, or lower the setting."
    ]


def test_without_any_room_the_server_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeLimits(64, 64).install(monkeypatch)
    with pytest.raises(ConfigurationError, match=r"^Only 64 file descriptors are allowed \(ulimit -n\): too few"):
        fit_to_descriptors(LIMITS, BACKLOG)


# --- the capped listener ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("ceiling", "handed_out"), [(None, True), (1_000_000, True), (0, False)])
def test_the_listener_closes_connections_at_the_ceiling(ceiling: int | None, handed_out: bool) -> None:
    with CappedListener(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.ceiling = ceiling
        with socket.create_connection(listener.getsockname(), timeout=5) as client:
            listener.settimeout(5)
            if handed_out:
                connection, _ = listener.accept()
                connection.close()
            else:
                listener.setblocking(False)
                with pytest.raises(BlockingIOError):
                    listener.accept()  # the waiting connection was taken and closed; then none was left
            assert client.recv(1) == b""


def test_under_uvicorns_command_line_too_few_descriptors_are_a_warning_not_a_crash(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    FakeLimits(256, 256).install(monkeypatch)
    monkeypatch.setenv("DATABASIN_MCP_MAX_CONNECTIONS", "100")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("not called")

    config = uvicorn.Config(app, backlog=2048)  # uvicorn's default backlog, as its command line has it
    config.load()
    from_environment = type("FromEnvironment", (GuardedH11Protocol,), {"limits": None})
    loop = asyncio.new_event_loop()
    try:
        with caplog.at_level(logging.WARNING):
            limits = from_environment(config, ServerState(), {}, _loop=loop)._limits()
    finally:
        loop.close()

    assert limits == ConnectionLimits(head_timeout=10.0, max_connections=100)
    assert caplog.messages == [
        "Only 256 file descriptors are allowed (ulimit -n): too few to serve HTTP, which needs 2081 or more. "
        "Raise the limit. uvicorn's --backlog (2048) counts too: lower it."
    ]
