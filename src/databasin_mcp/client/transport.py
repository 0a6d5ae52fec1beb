"""The HTTP side of the client: one pooled connection, slots, one attempt, and the request loop.

One `httpx.AsyncClient` per client object (pooled, keep-alive), made by the first request and
closed by whoever owns the object (the server's lifespan). Each attempt waits (bounded) for a
slot, sends with the bearer token, reads the body within the size cap and says what happened
(`retry.Outcome`); the loop asks `retry.decide` what to do next and does it. Bodies are read by
`decoding`, failures worded by `failures`.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import anyio

from .. import __version__
from ..config import Settings
from ..errors import DatabasinError
from ..redact import remember_secret, remembered_secrets
from ..telemetry import NO_TELEMETRY, Telemetry
from ..tokens import TokenRead, TokenSource
from .auth import NO_TOKEN, TokenKeeper, bearer
from .decoding import success_body
from .failures import (
    busy,
    busy_with_actions,
    redirect_error,
    status_error,
    too_large,
    transport_error,
    unsendable,
)
from .policies import IDEMPOTENT, RequestPolicy
from .retry import (
    AttemptState,
    Backoff,
    Deliver,
    ErrorAnswer,
    MaybeSent,
    NoSlot,
    NotSent,
    Outcome,
    RateLimitInfo,
    RereadToken,
    Success,
    WaitAsAsked,
    decide,
    header_number,
    rate_limit_info,
)
from .routes import route_family

if TYPE_CHECKING:
    # Imported where a request is made instead: httpx (and the CLI libraries it pulls in when they are
    # installed) costs 10-35 ms of start-up that tools/list does not need.
    import httpx

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class Transport:
    """The connection to the Databasin API and the loop that sends one request until it has an answer."""

    def __init__(
        self,
        settings: Settings,
        *,
        token_source: TokenSource | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = anyio.sleep,
        clock: Callable[[], float] = time.time,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self.settings = settings
        self.telemetry = telemetry
        self.token_source = token_source or settings.token_source()
        self._tokens = TokenKeeper(self.token_source)
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self._open = False
        self._http: httpx.AsyncClient | None = None
        # Bounds simultaneous upstream requests, whatever the number of concurrent tool calls.
        self._slots = anyio.Semaphore(settings.max_concurrency)
        # Tests and refreshes also take one of these, fewer than all slots (unless there is only one),
        # so minutes-long actions can never starve every other call.
        self.action_limit = max(1, min(settings.max_actions, settings.max_concurrency - 1))
        self._action_slots = anyio.Semaphore(self.action_limit)
        self.rate_limit: RateLimitInfo | None = None

    # --- lifecycle -----------------------------------------------------------

    async def __aenter__(self) -> Self:
        self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def open(self) -> None:
        """Allow requests (idempotent). The pooled HTTP client itself is made by the first request:
        creating one loads the TLS trust store (25-40 ms measured), which need not delay start-up."""
        self._open = True

    async def aclose(self) -> None:
        self._open = False
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @property
    def safe_base_url(self) -> str:
        """The API base URL without any credentials, for messages."""
        parts = urlsplit(self.settings.api_url)
        host = parts.hostname or ""
        return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"

    def _client(self) -> httpx.AsyncClient:
        if not self._open:
            raise RuntimeError("DatabasinClient is not open; use 'async with DatabasinClient(...)'")
        if self._http is None:
            self._http = self._new_http_client()
        return self._http

    def _new_http_client(self) -> httpx.AsyncClient:
        import httpx

        s = self.settings
        return httpx.AsyncClient(
            base_url=s.api_url,
            transport=self._transport,
            timeout=httpx.Timeout(s.read_timeout, connect=s.connect_timeout),
            limits=httpx.Limits(max_connections=s.max_concurrency, max_keepalive_connections=s.max_concurrency),
            headers={"Accept": "application/json", "User-Agent": f"databasin-mcp/{__version__}"},
            # Redirects are never followed (the token must not go where DATABASIN_API_URL does not say);
            # the hook answers them before httpx parses the Location, which fails on a malformed one.
            follow_redirects=False,
            event_hooks={"response": [_stop_at_redirects]},
        )

    # --- the request loop ---------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        policy: RequestPolicy = IDEMPOTENT,
        secrets: list[str] | None = None,
        read_timeout: float | None = None,
        authenticated: bool = True,
    ) -> Any:
        """Send one API request with auth, retries and rate-limit waits; return the scrubbed JSON body."""
        known_secrets = list(secrets or [])
        for secret in known_secrets:
            remember_secret(secret)
        try:
            token = self._tokens.current() if authenticated else NO_TOKEN
            state = AttemptState(token_from=token.source if authenticated else None)
            route = route_family(method, path)
            while True:
                known = [*known_secrets, token.value]
                outcome = await self._send(method, path, params, body, token, read_timeout, policy, known)
                self._report(route, outcome)
                decision, state = decide(outcome, state, policy, self.settings)
                if isinstance(decision, RereadToken):
                    # The token file may have been rotated since it was read: send again once if it was.
                    fresh = self._tokens.reread()
                    if fresh is not None and fresh.value != token.value:
                        logger.info("API answered 401; retrying with the re-read token from %s", fresh.source)
                        token = fresh
                        state = replace(state, token_from=fresh.source)
                        continue
                    decision = decision.otherwise
                if isinstance(decision, Deliver):
                    answer = decision.answer
                    return success_body(
                        answer.body,
                        answer.status,
                        known,
                        writes=policy.writes,
                        failure_is_answer=policy.failure_body_is_answer,
                    )
                if isinstance(decision, WaitAsAsked):
                    logger.info("%s %s rate limited; waiting %.1f s as the API asked", method, path, decision.seconds)
                    self.telemetry.rate_limit_wait(route, decision.seconds)
                    await self._sleep(decision.seconds)
                elif isinstance(decision, Backoff):
                    # Full jitter: spreads the retries of many clients.
                    delay = random.uniform(0, decision.ceiling)
                    what = type(decision.error).__name__
                    logger.info("%s %s failed (%s); retry %d in %.2f s", method, path, what, state.failures, delay)
                    self.telemetry.upstream_retry(route)
                    await self._sleep(delay)
                else:
                    if decision.forget_token:
                        self._tokens.forget()
                    raise decision.error
        except DatabasinError as error:
            error.request_method = method
            raise

    # --- one attempt --------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Any,
        token: TokenRead,
        read_timeout: float | None,
        policy: RequestPolicy,
        known_secrets: list[str],
    ) -> Outcome:
        """One attempt: wait (bounded) for a slot, send, read the body within the size cap, say what happened.

        Raised rather than returned, as no retry can help: a redirect, a request the HTTP library
        cannot write, a body over the cap.
        """
        import httpx

        http = self._client()
        request_timeout = (
            httpx.Timeout(read_timeout, connect=self.settings.connect_timeout)
            if read_timeout is not None
            else httpx.USE_CLIENT_DEFAULT
        )
        # A server that drips bytes slowly defeats the per-read timeout; bound the whole attempt too.
        deadline = (read_timeout or self.settings.read_timeout) + self.settings.connect_timeout
        async with contextlib.AsyncExitStack() as held:
            # The action slot first: an action waiting for one must not sit on a general slot meanwhile.
            if policy.long_action and not await self._take(self._action_slots, held):
                return NoSlot(busy_with_actions(self.settings, self.action_limit))
            if not await self._take(self._slots, held):
                return NoSlot(busy(self.settings))
            started = time.perf_counter()
            try:
                with anyio.fail_after(deadline):
                    async with http.stream(
                        method, path, params=params, json=body, headers=bearer(token), timeout=request_timeout
                    ) as response:
                        self._remember_rate_limit(response.headers)
                        raw = await self._read_capped(response)
            except _Redirected as redirect:
                raise redirect_error(
                    redirect.status, redirect.location, redirect.request_url, self.safe_base_url
                ) from None
            except (httpx.LocalProtocolError, httpx.UnsupportedProtocol, UnicodeEncodeError) as exc:
                # The request could not even be written (a header or URL the HTTP library refuses):
                # nothing left, and sending it again would fail the same way.
                raise unsendable(exc, self.safe_base_url) from None
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The request never left: the connection was refused or not made in time.
                never_left = transport_error(exc, self.safe_base_url)
                never_left.maybe_sent = False
                return NotSent(never_left)
            except (httpx.TransportError, TimeoutError) as exc:
                return MaybeSent(transport_error(exc, self.safe_base_url))
        status = response.status_code
        logger.debug("%s %s -> %d in %.0f ms", method, path, status, (time.perf_counter() - started) * 1000)
        if 200 <= status < 300:
            return Success(status, raw)
        return ErrorAnswer(
            status_error(status, raw, [*known_secrets, *remembered_secrets()]), response.headers, self._clock()
        )

    def _report(self, route: str, outcome: Outcome) -> None:
        """Count an attempt that reached for the API (one that found no free slot sent nothing)."""
        if isinstance(outcome, Success | ErrorAnswer):
            self.telemetry.upstream_answered(route, str(outcome.status))
        elif isinstance(outcome, NotSent):
            self.telemetry.upstream_answered(route, "unreachable")
        elif isinstance(outcome, MaybeSent):
            self.telemetry.upstream_answered(route, "no_answer")

    async def _take(self, slots: anyio.Semaphore, held: contextlib.AsyncExitStack) -> bool:
        """One of `slots` until `held` closes, waited for at most DATABASIN_SLOT_WAIT_TIMEOUT; False if none came."""
        with anyio.move_on_after(self.settings.slot_wait_timeout):
            await slots.acquire()
            held.callback(slots.release)
            return True
        return False

    async def _read_capped(self, response: httpx.Response) -> bytes:
        cap = self.settings.max_response_bytes
        declared = header_number(response.headers.get("Content-Length"), highest=1e18)
        if declared is not None and declared > cap:
            raise too_large(cap, int(declared))
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise too_large(cap, None)
            chunks.append(chunk)
        return b"".join(chunks)

    def _remember_rate_limit(self, headers: httpx.Headers) -> None:
        info = rate_limit_info(headers, self._clock())
        if info is not None:
            self.rate_limit = info


class _Redirected(Exception):
    """Internal: the API answered 3xx (raised by the response hook, before httpx reads the Location)."""

    def __init__(self, status: int, location: str | None, request_url: str) -> None:
        self.status = status
        self.location = location
        self.request_url = request_url


async def _stop_at_redirects(response: httpx.Response) -> None:
    if 300 <= response.status_code < 400:
        raise _Redirected(response.status_code, response.headers.get("Location"), str(response.request.url))
