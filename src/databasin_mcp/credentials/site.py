"""Where the password page is served: a loopback listener of its own over stdio, a path of the app over HTTP.

Over stdio the server has no HTTP port, so the page gets a listener on 127.0.0.1 and a port the system
picks, opened by the first call that needs it (uvicorn, in the server's task group) and closed when the
server stops. Over HTTP the page is PAGE_PATH on the server's own port, behind the same Host and Origin
checks as the MCP endpoint but not behind its bearer token: the person's browser has none, and the
unguessable one-time address is what lets it in.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any, Protocol

import anyio
import uvicorn
from anyio.abc import TaskGroup
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Receive, Scope, Send

from ..http_guards import BodyDeadline, RefuseForeignHosts
from .page import PAGE_PATH, CredentialPage

logger = logging.getLogger(__name__)

BODY_SECONDS = 30.0  # the form's body, once its head has come
STOP_SECONDS = 3.0


class PageSite(Protocol):
    """Where the pages of one server are."""

    def running(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Held for the server's life: what serves the pages stops when it ends."""
        ...

    async def base_url(self, request: Any) -> str:
        """'http://host:port' as the person's browser reaches the page; `request` is the MCP request's, if any."""
        ...


class MountedSite:
    """HTTP transports: the pages are PAGE_PATH of the server's own app (see `with_page`)."""

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        yield

    async def base_url(self, request: Any) -> str:
        # The address the client reached the MCP endpoint by (its Host passed the same checks the page has).
        return str(request.base_url).rstrip("/")


class LoopbackSite:
    """stdio: the pages on a listener of their own on 127.0.0.1, opened when first needed."""

    def __init__(self, page: CredentialPage) -> None:
        self._page = page
        self._tasks: TaskGroup | None = None
        self._opening = anyio.Lock()
        self._server: _SignalFreeServer | None = None
        self._stopped = anyio.Event()
        self._port: int | None = None

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tasks:
            self._tasks = tasks
            try:
                yield
            finally:
                self._tasks = None
                await self._stop()
                tasks.cancel_scope.cancel()

    async def base_url(self, request: Any) -> str:
        async with self._opening:
            if self._port is None:
                self._port = self._open()
        return f"http://127.0.0.1:{self._port}"

    def _open(self) -> int:
        if self._tasks is None:
            raise RuntimeError("the password page is served only while the server runs")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port: int = listener.getsockname()[1]
        # Only this listener's own names: a page reached by any other Host or Origin (DNS rebinding) is refused.
        names = [f"127.0.0.1:{port}", f"localhost:{port}"]
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=names,
            allowed_origins=[f"http://{name}" for name in names],
        )
        app = BodyDeadline(RefuseForeignHosts(self._page, security), BODY_SECONDS)
        config = uvicorn.Config(
            app,
            log_config=None,  # its records reach our stderr handler; stdout carries the protocol only
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            h11_max_incomplete_event_size=16 * 1024,
            limit_concurrency=32,
        )
        self._server = _SignalFreeServer(config)
        self._tasks.start_soon(self._serve, self._server, listener)
        logger.info("Password pages on http://127.0.0.1:%d%s", port, PAGE_PATH)
        return port

    async def _serve(self, server: uvicorn.Server, listener: socket.socket) -> None:
        try:
            await server.serve(sockets=[listener])
        finally:
            listener.close()
            self._stopped.set()

    async def _stop(self) -> None:
        if self._server is None:
            return
        self._server.should_exit = True
        with anyio.CancelScope(shield=True), anyio.move_on_after(STOP_SECONDS):
            await self._stopped.wait()


class _SignalFreeServer(uvicorn.Server):
    """uvicorn without its signal handlers: the stdio transport owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def with_page(app: ASGIApp, page: ASGIApp) -> ASGIApp:
    """`app`, with HTTP requests under PAGE_PATH going to `page` instead."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path", "").startswith(PAGE_PATH):
            await page(scope, receive, send)
        else:
            await app(scope, receive, send)

    return route
