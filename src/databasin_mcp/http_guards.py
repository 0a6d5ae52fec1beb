"""ASGI middleware around the HTTP transports: who may call, how long a body may take, what an error may quote.

BearerAuth requires the MCP auth token; RefuseForeignHosts answers a foreign Host or Origin before the MCP
SDK's SSE endpoint sees it; BodyDeadline answers 408 to a request body that does not arrive in time; and
NoEchoedInput keeps the SDK's answer to a malformed request from quoting the request back. How a response
ends when the server shuts down is http_shutdown.py's.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Callable
from typing import Any

import anyio
import anyio.lowlevel
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .http_response import ResponseProgress, json_answer

logger = logging.getLogger(__name__)


class BearerAuth:
    """ASGI middleware: every HTTP request needs `Authorization: Bearer <token>`."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": "unauthorized", "message": "Send Authorization: Bearer <token>."}).encode()
        headers: list[tuple[bytes, bytes]] = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b"Bearer"),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _authorized(self, scope: Scope) -> bool:
        headers: list[tuple[bytes, bytes]] = scope.get("headers", [])
        given: Any = next((value for name, value in headers if name == b"authorization"), b"")
        # Constant-time comparison: response timing must not reveal how much of a guess was right.
        return hmac.compare_digest(given, self._expected)


class RefuseForeignHosts:
    """ASGI middleware: a request with a foreign Host or Origin is answered (421, 403) before the app sees it.

    The MCP SDK's SSE endpoint answers such a request too, but then raises: a traceback in the log and, for the
    client, a dropped connection.
    """

    def __init__(self, app: ASGIApp, security: TransportSecuritySettings) -> None:
        self.app = app
        self._check = TransportSecurityMiddleware(security)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refusal = await self._check.validate_request(Request(scope, receive), is_post=False)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyDeadline:
    """ASGI middleware: a request's whole body must arrive within `seconds` of its head, else 408 and the
    connection is closed.

    One deadline for the whole body, so that a client sending a byte at a time cannot stretch it. Once the
    body is in, `receive()` is passed through untouched: a streaming response waits on it for a disconnect.
    """

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = ResponseProgress(send)
        body = _BodyWithin(receive, anyio.current_time() + self.seconds)
        with anyio.CancelScope() as request:
            body.on_late = request.cancel
            await self.app(scope, body.receive, response.send)
        if body.late:
            logger.info("A request body did not arrive within %g s: answered 408", self.seconds)
            message = f"The request body did not arrive within {self.seconds:g} s."
            await response.finish(
                json_answer(408, {"error": "request_timeout", "message": message}, [(b"connection", b"close")])
            )


class _BodyWithin:
    """An ASGI `receive` that gives up on the request body at a deadline, as if the client had gone."""

    def __init__(self, receive: Receive, deadline: float) -> None:
        self._receive = receive
        self._deadline = deadline
        self._complete = False
        self.late = False
        self.on_late: Callable[[], None] = lambda: None

    async def receive(self) -> Message:
        if self._complete:
            return await self._receive()
        with anyio.move_on_after(self._deadline - anyio.current_time()):
            message = await self._receive()
            self._complete = message["type"] != "http.request" or not message.get("more_body", False)
            return message
        self.late = True
        self.on_late()
        # The request's cancellation is delivered here when this task is in it; any other task is told the
        # client has gone, which is as much of the body as will come.
        await anyio.lowlevel.checkpoint()
        return {"type": "http.disconnect"}


class NoEchoedInput:
    """ASGI middleware: a 400 JSON-RPC error never quotes the request back.

    The MCP SDK answers a malformed request with pydantic's full message, which repeats the values it
    refused (`input_value=...`): whatever the request held, a password included, would come back in the
    answer and in any log of it. The reasons stay; the quoted values go.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def answer(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 400:
                held.append(message)  # the body decides what the head says (its length)
                return
            if held and message["type"] == "http.response.body":
                held.append(message)
                if message.get("more_body", False):
                    return
                start, *bodies = held
                held.clear()
                body = _without_echoed_input(b"".join(part.get("body", b"") for part in bodies))
                headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                await send({**start, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, answer)


# pydantic's "  Field required [type=missing, input_value={...}, input_type=dict]": the bracket quotes the input.
_QUOTED_INPUT = re.compile(r" \[type=[^\n]*")


def _without_echoed_input(body: bytes) -> bytes:
    try:
        answer = json.loads(body)
    except ValueError:
        return body
    error = answer.get("error") if isinstance(answer, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return body
    error["message"] = _QUOTED_INPUT.sub("", error["message"])
    return json.dumps(answer).encode()
