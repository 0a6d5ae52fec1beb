"""Running the server on a transport: stdio, or HTTP (streamable HTTP or SSE) behind uvicorn."""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import re
import socket
import sys
from typing import Any

import anyio
import uvicorn
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import Settings, load_settings
from .errors import ConfigurationError
from .log import configure_logging
from .server import DatabasinServer, create_server

logger = logging.getLogger(__name__)

# A JSON-RPC request to this server is a few kilobytes; a megabyte is generous and bounds memory.
MAX_REQUEST_BODY_BYTES = 1_000_000
SHUTDOWN_GRACE_SECONDS = 1


async def serve(settings: Settings) -> None:
    """Serve the MCP server on the configured transport until stopped."""
    check_http_exposure(settings)
    server = create_server(settings)
    if settings.transport == "stdio":
        await server.run_stdio_async()
        return
    app = http_app(server, settings)
    # Bind first so the real port is known (port 0 picks a free one) and connections queue
    # in the backlog from this moment; then say where we listen, for people and for tests.
    listener = bind_socket(settings.host, settings.port)
    port = listener.getsockname()[1]
    path = "/sse" if settings.transport == "sse" else "/mcp"
    print(
        f"databasin-mcp: {settings.transport} on http://{_url_host(settings.host)}:{port}{path}",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=port,
        # No uvicorn logging config: its records reach our stderr handler (stdout stays clean).
        log_config=None,
        access_log=settings.log_level in ("DEBUG", "INFO"),
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        lifespan="on",
    )
    await _Server(config, app).serve(sockets=[listener])


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port)."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and without it a
    # keep-alive client waits ~40 ms per response (Nagle + delayed ACK).
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host.strip("[]"), port))
    listener.listen(128)
    listener.set_inheritable(True)
    return listener


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def app_from_environment() -> ASGIApp:
    """The streamable-HTTP app, configured from the environment: for an external process manager.

    Several worker processes behind one port, for example:
        DATABASIN_MCP_STATELESS=1 uvicorn --factory databasin_mcp.serving:app_from_environment --workers 2
    Each worker builds its own API client and cache; with --stateless no request depends on another
    worker's memory. Set DATABASIN_MCP_HOST to the address uvicorn binds (it decides which Host
    headers are accepted and whether an auth token is required).
    """
    settings = load_settings(transport="streamable-http")
    configure_logging(settings.log_level)
    check_http_exposure(settings)
    return http_app(create_server(settings), settings)


def http_app(server: DatabasinServer, settings: Settings) -> ShutdownGuard:
    """The Starlette app for the HTTP transports, with DNS-rebinding protection and optional bearer auth."""
    security = transport_security(settings)
    app: ASGIApp
    if settings.transport == "sse":
        app = server.sse_app(
            max_request_body_size=MAX_REQUEST_BODY_BYTES, transport_security=security, host=settings.host
        )
        app = RefuseForeignHosts(app, security)
    else:
        app = server.streamable_http_app(
            stateless_http=settings.stateless,
            max_request_body_size=MAX_REQUEST_BODY_BYTES,
            transport_security=security,
            host=settings.host,
        )
    if settings.auth_token is not None:
        app = BearerAuth(app, settings.auth_token.get_secret_value())
    return ShutdownGuard(app)


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Refuse requests whose Host or Origin is not this server (DNS-rebinding protection).

    Loopback names are always allowed; a server bound elsewhere also answers to
    its bind address and to the names listed in DATABASIN_MCP_ALLOWED_HOSTS.
    """
    names = ["127.0.0.1", "localhost", "[::1]"]
    if not _is_loopback(settings.host) and settings.host not in ("0.0.0.0", "::"):
        names.append(settings.host)
    names += [item.strip() for item in (settings.allowed_hosts or "").split(",") if item.strip()]
    hosts = [name if re.search(r":\d+$", name) else f"{name}:*" for name in names]
    origins = [f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def check_http_exposure(settings: Settings) -> None:
    """Refuse to serve HTTP beyond this machine without an auth token."""
    if settings.transport == "stdio" or _is_loopback(settings.host) or settings.auth_token is not None:
        return
    raise ConfigurationError(
        f"Refusing to serve on {settings.host} without an auth token: anyone who can reach it could manage "
        "your connectors. Set DATABASIN_MCP_AUTH_TOKEN (or --auth-token), or bind 127.0.0.1."
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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


class _Server(uvicorn.Server):
    """uvicorn's server, cancelling the requests in flight as soon as it starts shutting down (SIGTERM, Ctrl-C).

    A tool call may wait minutes on the API; waiting for it would outlast any process manager's patience.
    """

    def __init__(self, config: uvicorn.Config, guard: ShutdownGuard) -> None:
        super().__init__(config)
        self._guard = guard

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._guard.cancel_all()
        await super().shutdown(sockets)


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
