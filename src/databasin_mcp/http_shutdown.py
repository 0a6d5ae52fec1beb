"""Ending every HTTP response complete when the server shuts down with calls in flight.

ShutdownGuard answers each JSON-RPC request that was still waiting for its answer with an error, on the
response that owed it (a plain 503, or a last event of an event stream); RedundantShutdownWarnings then
drops the MCP SDK's warning about the answer it could no longer send itself.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qs

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .http_response import ResponseProgress, json_answer

RequestId = int | str

# A JSON-RPC request body is read whole by the MCP SDK, which refuses one over its cap; the guard reads no more.
MAX_BODY_FOLLOWED = 1_100_000
# In JSON-RPC's range for server errors, like the MCP SDK's own "Connection closed".
SHUTDOWN_ERROR_CODE = -32000
SHUTDOWN_MESSAGE = (
    "The server shut down before answering this request. Try again once it is back; a create, update or "
    "delete may or may not have been applied: check before repeating it."
)


class ShutdownGuard:
    """ASGI middleware: every HTTP response ends complete, including those cut short by a shutdown.

    `cancel_all()` cancels the requests in flight (and any that arrive later). One that has not answered yet
    is answered 503, with a JSON-RPC error for its request id when it carried one. An event stream that has
    started gets a JSON-RPC error event for every request whose answer it still owes, then ends: a POST's
    own requests on streamable HTTP, and on the SSE transport the requests posted to the stream's session.
    The same is done for a request whose task the server cancels itself, and for the MCP SDK's SSE endpoint,
    which after its stream was closed by a shutdown tries to send a second response to the same request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._in_flight: set[anyio.CancelScope] = set()
        self._closing = False
        # The SSE transport's sessions, each with the requests posted to it that its event stream has not
        # answered yet; present while that stream is open.
        self._sessions: dict[str, set[RequestId]] = {}
        # The requests answered with a shutdown error, as the MCP SDK's log names them (their ids' repr).
        self.answered_at_shutdown: set[str] = set()

    def cancel_all(self) -> None:
        self._closing = True
        for request in list(self._in_flight):
            request.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(scope, receive, send, self._sessions)
        request = anyio.CancelScope()
        if self._closing:
            request.cancel()
        self._in_flight.add(request)
        try:
            with request:
                await self.app(scope, exchange.receive, exchange.send)
        except anyio.get_cancelled_exc_class():
            # The server cancelled this request's task (uvicorn's --timeout-graceful-shutdown): answered as below,
            # the request is over; not re-raised, which would only add a traceback to the log.
            with anyio.CancelScope(shield=True):
                await self._end(exchange, cut_short=True)
            return
        finally:
            self._in_flight.discard(request)
            exchange.close()
        await self._end(exchange, cut_short=request.cancel_called)

    async def _end(self, exchange: _Exchange, *, cut_short: bool) -> None:
        answered = await exchange.end(cut_short=cut_short)
        self.answered_at_shutdown.update(repr(request_id) for request_id in answered)


class _Exchange(ResponseProgress):
    """One request and its response as ShutdownGuard follows them: the JSON-RPC requests the request carried,
    and which of the answers owed on this response it has sent."""

    def __init__(self, scope: Scope, receive: Receive, send: Send, sessions: dict[str, set[RequestId]]) -> None:
        super().__init__(send)
        self._receive = receive
        self._sessions = sessions
        self._body: bytearray | None = bytearray()  # None once read (or too long to follow)
        self.request_ids: list[RequestId] = []
        # Answers this response owes; for an SSE session's event stream, the session's set in `sessions`.
        self.owed: set[RequestId] = set()
        self._posted_to = _session_param(scope)  # the SSE session a message POST is for
        self._stream_session: str | None = None
        self._event_stream = False
        self._event = ""
        self._partial_line = b""

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request" and self._body is not None:
            self._body += message.get("body", b"")
            if len(self._body) > MAX_BODY_FOLLOWED:
                self._body = None
            elif not message.get("more_body", False):
                self.request_ids = _request_ids(bytes(self._body))
                self.owed.update(self.request_ids)
                self._body = None
        return message

    def starting(self, message: Message) -> None:
        if message["status"] == 202 and self._posted_to in self._sessions:
            # The SSE transport accepted these requests: their answers are owed on the session's event stream.
            # Recorded before the 202 is sent, so before the session can have answered them.
            self._sessions[self._posted_to].update(self.request_ids)
            self.owed = set()
        headers: list[tuple[bytes, bytes]] = message.get("headers", [])
        self._event_stream = any(
            name.lower() == b"content-type" and value.startswith(b"text/event-stream") for name, value in headers
        )

    def sending(self, body: bytes) -> None:
        if self._event_stream:
            self._follow_events(body)

    def _follow_events(self, body: bytes) -> None:
        """Note the session an SSE stream announces, and the answers it sends, from its `event:`/`data:` lines."""
        lines = (self._partial_line + body).split(b"\n")
        self._partial_line = lines.pop()
        if len(self._partial_line) > MAX_BODY_FOLLOWED:
            self._partial_line = b""
        for raw in lines:
            line = raw.rstrip(b"\r")
            if line.startswith(b"event:"):
                self._event = line[6:].strip().decode("utf-8", "replace")
            elif not line:
                self._event = ""
            elif line.startswith(b"data:"):
                self._data(line[5:].strip())

    def _data(self, data: bytes) -> None:
        if self._event == "endpoint" and self._stream_session is None:
            session = _session_in_endpoint(data)
            if session is not None:
                self._stream_session = session
                self.owed = self._sessions.setdefault(session, set())
            return
        answered = _answered_id(data)
        if answered is not None:
            self.owed.discard(answered)

    async def end(self, *, cut_short: bool) -> list[RequestId]:
        """Finish the response; one cut short answers the requests still waiting with a shutdown error.

        Returns the ids of the requests so answered.
        """
        if not cut_short or self.complete:
            await self.finish(None)
            return []
        waiting = sorted(self.owed, key=str)
        errors = [_shutdown_error(request_id) for request_id in waiting]
        if self._event_stream:
            events = b"".join(f"event: message\r\ndata: {json.dumps(error)}\r\n\r\n".encode() for error in errors)
            await self.finish(None, last_events=events)
            return waiting
        if self.started:
            await self.finish(None)  # an answer has begun in some other form: only ended
            return []
        if errors:
            await self.finish(json_answer(503, errors[0] if len(errors) == 1 else errors))
            return waiting
        await self.finish(
            json_answer(503, {"error": "shutting_down", "message": "The server is shutting down; try again."})
        )
        return []

    def close(self) -> None:
        """The exchange is over: a session's event stream takes the session's record with it."""
        if self._stream_session is not None:
            self._sessions.pop(self._stream_session, None)


class RedundantShutdownWarnings(logging.Filter):
    """Drops the MCP SDK's "shutdown error response for request X gave up" for a request ShutdownGuard answered.

    In a streamable-HTTP session the SDK's handler outlives the HTTP response that ShutdownGuard ended with the
    error; its own error answer then has nowhere to go, and its warning would say the opposite of what the
    client got.
    """

    _GAVE_UP = re.compile(r"shutdown error response for request (.+) gave up: transport write blocked")

    def __init__(self, guard: ShutdownGuard) -> None:
        super().__init__()
        self._guard = guard

    def filter(self, record: logging.LogRecord) -> bool:
        gave_up = self._GAVE_UP.fullmatch(record.getMessage())
        return gave_up is None or gave_up.group(1) not in self._guard.answered_at_shutdown


def _shutdown_error(request_id: RequestId) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": SHUTDOWN_ERROR_CODE, "message": SHUTDOWN_MESSAGE}}


def _is_request_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def _request_ids(body: bytes) -> list[RequestId]:
    """The ids of the JSON-RPC requests in a body (one message or a batch); none when it is not JSON-RPC."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return []
    messages = parsed if isinstance(parsed, list) else [parsed]
    return [
        message["id"]
        for message in messages
        if isinstance(message, dict) and isinstance(message.get("method"), str) and _is_request_id(message.get("id"))
    ]


def _answered_id(data: bytes) -> RequestId | None:
    """The id a JSON-RPC response in an SSE `data:` line answers; None for anything else."""
    if b'"id"' not in data:
        return None
    try:
        message = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if isinstance(message, dict) and ("result" in message or "error" in message) and _is_request_id(message.get("id")):
        answered: RequestId = message["id"]
        return answered
    return None


_SESSION_ID = re.compile(rb"[?&]session_id=([0-9a-fA-F]+)")


def _session_in_endpoint(data: bytes) -> str | None:
    """The session id in the SSE transport's endpoint event (`/messages/?session_id=...`)."""
    match = _SESSION_ID.search(data)
    return match.group(1).decode().lower() if match else None


def _session_param(scope: Scope) -> str | None:
    """The session id a POST to the SSE transport's message endpoint names in its query string."""
    query: bytes = scope.get("query_string", b"")
    values = parse_qs(query.decode("latin-1")).get("session_id")
    return values[0].lower() if values else None
