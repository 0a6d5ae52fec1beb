"""ASGI middleware around the HTTP transports: who may call, and how a response ends.

BearerAuth requires the MCP auth token, RefuseForeignHosts answers a foreign Host or
Origin before the MCP SDK's SSE endpoint sees it, and ShutdownGuard makes every
response end complete when the server shuts down with calls in flight.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import anyio
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send


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


class ShutdownGuard:
    """ASGI middleware: every HTTP response ends complete, including those cut short by a shutdown.

    `cancel_all()` cancels the requests in flight (and any that arrive later): one that has not answered yet is
    answered 503, a stream that has started is ended properly. The same is done for a request whose task the
    server cancels itself, and for the MCP SDK's SSE endpoint, which after its stream was closed by a shutdown
    tries to send a second response to the same request.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._in_flight: set[anyio.CancelScope] = set()
        self._closing = False

    def cancel_all(self) -> None:
        self._closing = True
        for request in list(self._in_flight):
            request.cancel()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response = _Response(send)
        request = anyio.CancelScope()
        if self._closing:
            request.cancel()
        self._in_flight.add(request)
        try:
            with request:
                await self.app(scope, receive, response.send)
        except anyio.get_cancelled_exc_class():
            # The server cancelled this request's task (uvicorn's --timeout-graceful-shutdown): answered as below,
            # the request is over; not re-raised, which would only add a traceback to the log.
            with anyio.CancelScope(shield=True):
                await response.end(cancelled=True)
            return
        finally:
            self._in_flight.discard(request)
        await response.end(cancelled=request.cancel_called)


class _Response:
    """Watches one request's response messages, so that it can be ended properly whatever the app did."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._started = False
        self._complete = False
        self._superseded = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            if self._started:
                self._superseded = True  # a second response to one request cannot be sent: end the first one
                await self.end(cancelled=False)
                return
            self._started = True
        elif message["type"] == "http.response.body":
            if self._superseded or self._complete:
                return
            self._complete = not message.get("more_body", False)
        await self._send(message)

    async def end(self, *, cancelled: bool) -> None:
        """Finish a started response; a cancelled request that has not answered yet is answered 503."""
        if self._complete or not (self._started or cancelled):
            return  # done, or the app returned without answering: that error is the server's to report
        self._complete = True
        if self._started:
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        body = json.dumps({"error": "shutting_down", "message": "The server is shutting down; try again."}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await self._send({"type": "http.response.start", "status": 503, "headers": headers})
        await self._send({"type": "http.response.body", "body": body})
