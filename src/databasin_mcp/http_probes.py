"""What operators and load balancers ask an HTTP server: is it alive, can it serve, what has it done.

- GET /healthz: the process answers. No token, no upstream call: for liveness checks and restarts.
- GET /readyz: the Databasin API answers and accepts our token, checked at most every
  READY_CACHE_SECONDS whatever the probe rate: for taking a replica out of a balancer's rotation.
- GET /metrics: Prometheus text format (metrics.py), behind the bearer token like the MCP endpoint.

/healthz and /readyz come before the bearer token (balancers send none) but not before the Host check:
a foreign Host or Origin is refused as for every other request. Their answers say ready or not and,
when not, a fixed word for why; details (which token source, which error) go to the log only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import anyio
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .client import DatabasinClient
from .config import Settings
from .errors import (
    AuthenticationError,
    DatabasinError,
    InvalidTokenError,
    MissingTokenError,
    RateLimitError,
    TransportError,
)
from .http_response import json_answer
from .telemetry import NO_TELEMETRY, Telemetry

if TYPE_CHECKING:
    import httpx

    from .metrics import PrometheusMetrics

logger = logging.getLogger(__name__)

HEALTH_PATH, READY_PATH, METRICS_PATH = "/healthz", "/readyz", "/metrics"
# A balancer probes every few seconds per replica; the API is asked at most this often.
READY_CACHE_SECONDS = 5.0
# A probe that waits longer than a balancer's own timeout is no use to it.
READY_CHECK_TIMEOUT = 5.0
# A project no one has: the check's listing is then empty, whatever the account holds (as in `doctor`).
PROBE_PROJECT = "databasin-mcp-readiness-probe"
_NO_STORE = [(b"cache-control", b"no-store")]


class Verdict(NamedTuple):
    ready: bool
    reason: str  # "ready", or a fixed word for why not


class Readiness:
    """Whether the API answers and accepts the token, from one authenticated listing, kept for a few seconds.

    It has its own API client, sent once (no retries, no back-off): a check must not wait behind tool calls
    for a request slot, and a balancer wants the state now, not after a minute of retries.
    """

    def __init__(
        self,
        settings: Settings,
        telemetry: Telemetry = NO_TELEMETRY,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = DatabasinClient(settings.model_copy(update={"max_attempts": 1}), transport=transport)
        self._client.open()
        self._telemetry = telemetry
        self._clock = clock
        self._lock = anyio.Lock()
        self._last: tuple[float, Verdict] | None = None

    async def verdict(self) -> Verdict:
        """The last verdict while it is fresh, else a new one; concurrent probes share one check."""
        async with self._lock:
            if self._last is not None and self._clock() - self._last[0] < READY_CACHE_SECONDS:
                return self._last[1]
            verdict = await self._check()
            self._last = (self._clock(), verdict)
            self._telemetry.readiness_checked(verdict.reason)
            return verdict

    async def _check(self) -> Verdict:
        try:
            with anyio.fail_after(READY_CHECK_TIMEOUT):
                await self._client.list_connectors(project_id=PROBE_PROJECT)
        except MissingTokenError:
            return self._not_ready("no_token", "no API token is configured")
        except InvalidTokenError as error:
            return self._not_ready("token_unusable", str(error))
        except AuthenticationError:
            return self._not_ready("token_refused", "the API refused the token")
        except RateLimitError:
            return Verdict(True, "ready")  # it answered, to a token it knows: only busy
        except (TransportError, TimeoutError) as error:
            return self._not_ready("upstream_unreachable", f"the API did not answer ({type(error).__name__})")
        except DatabasinError as error:
            return self._not_ready("upstream_error", f"the API answered with an error ({type(error).__name__})")
        return Verdict(True, "ready")

    def _not_ready(self, reason: str, detail: str) -> Verdict:
        logger.warning("Not ready: %s", detail)
        return Verdict(False, reason)

    async def aclose(self) -> None:
        await self._client.aclose()


class HealthEndpoints:
    """ASGI middleware answering /healthz and /readyz itself, before any bearer token is asked for."""

    def __init__(self, app: ASGIApp, readiness: Readiness, security: TransportSecuritySettings) -> None:
        self.app = app
        self.readiness = readiness
        self._hosts = TransportSecurityMiddleware(security)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._closing(send))
            return
        if scope["type"] != "http" or scope["path"] not in (HEALTH_PATH, READY_PATH):
            await self.app(scope, receive, send)
            return
        if await _refused(self._hosts, scope, receive, send):
            return
        if scope["path"] == HEALTH_PATH:
            await _answer(scope, send, json_answer(200, {"status": "ok"}, _NO_STORE))
        else:
            verdict = await self.readiness.verdict()
            body = {"status": "ready"} if verdict.ready else {"status": "not_ready", "reason": verdict.reason}
            await _answer(scope, send, json_answer(200 if verdict.ready else 503, body, _NO_STORE))

    def _closing(self, send: Send) -> Send:
        """`send` for the lifespan: the readiness client is closed before shutdown is reported complete."""

        async def closing(message: Message) -> None:
            if message["type"] == "lifespan.shutdown.complete":
                await self.readiness.aclose()
            await send(message)

        return closing


class MetricsEndpoint:
    """ASGI middleware answering GET /metrics with the server's metrics (behind the bearer token)."""

    def __init__(self, app: ASGIApp, metrics: PrometheusMetrics, security: TransportSecuritySettings) -> None:
        self.app = app
        self.metrics = metrics
        self._hosts = TransportSecurityMiddleware(security)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != METRICS_PATH:
            await self.app(scope, receive, send)
            return
        if await _refused(self._hosts, scope, receive, send):
            return
        accept = next((value for name, value in scope["headers"] if name == b"accept"), b"")
        body, content_type = self.metrics.render(accept.decode("latin-1"))
        headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
        await _answer(
            scope,
            send,
            [
                {"type": "http.response.start", "status": 200, "headers": headers + _NO_STORE},
                {"type": "http.response.body", "body": body},
            ],
        )


async def _refused(hosts: TransportSecurityMiddleware, scope: Scope, receive: Receive, send: Send) -> bool:
    """The Host check every request gets, then GET and HEAD only: True when it answered with a refusal."""
    refusal = await hosts.validate_request(Request(scope, receive), is_post=False)
    if refusal is not None:
        await refusal(scope, receive, send)
        return True
    if scope["method"] not in ("GET", "HEAD"):
        await _answer(scope, send, json_answer(405, {"error": "method_not_allowed"}, [(b"allow", b"GET, HEAD")]))
        return True
    return False


async def _answer(scope: Scope, send: Send, messages: list[Message]) -> None:
    """Send a whole answer; to HEAD, its head only (the length still that of the body GET gets)."""
    for message in messages:
        if scope["method"] == "HEAD" and message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)
