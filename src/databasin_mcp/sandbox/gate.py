"""The middleware every /api request passes first: log, latency, rate limit, injected faults, auth."""

from __future__ import annotations

import logging
import secrets

import anyio
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response
from .faults import fault_responder
from .ratelimit import Quota
from .state import SandboxState

PING_PATH = "/api/ping"  # answers without auth, for health checks

logger = logging.getLogger(__name__)


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


class ApiGate:
    """Pure ASGI middleware (not BaseHTTPMiddleware) so that streamed and dropped responses pass through untouched.

    /api requests are logged, counted while in flight, delayed, counted against the caller's rate-limit window,
    possibly answered by an injected fault, and authenticated, in that order. Every /api response carries the
    X-RateLimit-* headers, errors included. Other paths (the /_sandbox admin routes) go straight to the app.
    """

    def __init__(self, app: ASGIApp, state: SandboxState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        self.state.requests.record(scope["method"], scope["path"], scope["query_string"].decode("latin-1"))
        self.state.in_flight.enter()
        try:
            await self._answer(scope, receive, send)
        finally:
            self.state.in_flight.leave()

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        config = self.state.config
        if config.latency_ms:
            await anyio.sleep(config.latency_ms / 1000)
        headers = Headers(scope=scope)
        quota = self.state.limiter.hit(headers.get("authorization", "anonymous")) if config.rate_limit else None
        tracked = _ResponseTracker(send, quota)
        try:
            responder = await self._intercept(scope, headers, quota, tracked)
            await (responder or self.app)(scope, receive, tracked.send)
        except Exception:
            if tracked.started:
                raise  # too late for an error body; the server closes the connection
            logger.exception("sandbox endpoint failed: %s %s", scope["method"], scope["path"])
            await error_response(500)(scope, receive, tracked.send)

    async def _intercept(
        self, scope: Scope, headers: Headers, quota: Quota | None, tracked: _ResponseTracker
    ) -> ASGIApp | None:
        """The response that pre-empts the endpoint, or None to let the endpoint answer."""
        action = self.state.scripted_faults.next_for(scope["method"], scope["path"])
        if action is not None and action.kind == "delay":
            await anyio.sleep(action.seconds)
            action = None
        if action is not None and action.kind == "headers":
            tracked.forced_headers.update(action.headers)  # the endpoint answers; these headers go on it
            action = None
        if action is not None:
            return fault_responder(action)
        if quota is not None and quota.exceeded:
            return error_response(429, headers={"Retry-After": str(quota.retry_after(self.state.limiter.clock()))})
        action = self.state.random_faults.draw()
        if action is not None:
            return fault_responder(action)
        if scope["path"] != PING_PATH and not self._authorized(headers):
            return error_response(401)
        return None

    def _authorized(self, headers: Headers) -> bool:
        expected = f"Bearer {self.state.token}".encode()
        return secrets.compare_digest(headers.get("authorization", "").encode(), expected)


class _ResponseTracker:
    """Wraps ``send``: adds the rate-limit headers a response does not set itself, and notes when it started."""

    def __init__(self, send: Send, quota: Quota | None) -> None:
        self._send = send
        self._extra_headers = quota.headers() if quota is not None else {}
        self.forced_headers: dict[str, str] = {}  # a "headers" fault: set whatever the response says
        self.started = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            message.setdefault("headers", [])
            headers = MutableHeaders(scope=message)
            for name, value in self._extra_headers.items():
                if name not in headers:  # a scripted 429 sets its own Remaining/Reset
                    headers[name] = value
            for name, value in self.forced_headers.items():
                headers[name] = value
        await self._send(message)
