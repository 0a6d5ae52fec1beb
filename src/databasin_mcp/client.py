"""The Databasin API client: the only module that speaks HTTP.

One `httpx.AsyncClient` per process (pooled, keep-alive), opened and closed
by whoever owns this object (the server's lifespan). It adds the bearer
token, retries what is safe to retry, waits out short rate limits, caps
body sizes, maps failures to `errors`, and removes secrets from every body
before a model is built from it.
"""

from __future__ import annotations

import contextlib
import html
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypeVar
from urllib.parse import quote, urljoin, urlsplit

import anyio
from pydantic import ValidationError

from . import __version__
from .compat import schema_catalog, v2_path, v2_rows
from .config import Settings, TokenRead, TokenSource
from .errors import (
    APIStatusError,
    AuthenticationError,
    BadResponseError,
    ClientBusyError,
    DatabasinError,
    MissingTokenError,
    NotFoundError,
    RateLimitError,
    RedirectError,
    ResponseTooLargeError,
    TransportError,
    UpstreamRefusedError,
    UpstreamTimeoutError,
    sentence,
    status_error_class,
)
from .models import (
    APIRecord,
    Catalog,
    Column,
    Connector,
    ConnectorChanges,
    DeleteResult,
    Project,
    RecordList,
    RefreshResult,
    Schema,
    SkippedRecord,
    Table,
    TestResult,
    WriteResult,
)
from .redact import mask_text, remember_secret, remembered_secrets, scrub
from .untrusted import MAX_JSON_DEPTH, NestedTooDeeply, clean_json, one_line, without_surrogates

if TYPE_CHECKING:
    # Imported where a request is made instead: httpx (and the CLI libraries it pulls in when they are
    # installed) costs 10-35 ms of start-up that tools/list does not need.
    import httpx

logger = logging.getLogger(__name__)

RecordT = TypeVar("RecordT", bound=APIRecord)
Sleep = Callable[[float], Awaitable[None]]

# Stands in for the token on the few routes that need none (ping).
_NO_TOKEN = TokenRead(value="", source="no token")
# Java's long: the largest ID a backend can hold; anything larger is not an ID.
MAX_ID = 2**63 - 1
_EXCERPT_CHARS = 200
_EXCERPT_SCAN_CHARS = 8_000
_MESSAGE_CHARS = 500
# Guard against a server that answers 429 with "Retry-After: 0" forever.
_MAX_RATE_LIMIT_RETRIES = 10
# No rate limit anyone means lasts longer than a day: a longer wait is a broken header, ignored.
_MAX_PLAUSIBLE_WAIT = 86_400.0
# The API's own words in a failure body are quoted up to this length.
_UPSTREAM_MESSAGE_CHARS = 300


@dataclass(frozen=True)
class RateLimitInfo:
    """The latest X-RateLimit-* values the API sent."""

    limit: int | None
    remaining: int | None
    reset_at: float | None  # epoch seconds


@dataclass(frozen=True)
class _RetryPolicy:
    """How one kind of request is sent again, queued, and read."""

    # Retry 5xx answers and failures after which the request may have reached the server.
    after_ambiguous_failure: bool
    # A change: a 2xx body saying it failed is the API's refusal, whatever else the body holds.
    writes: bool = False
    # May run for minutes: goes through the smaller pool of action slots as well.
    long_action: bool = False
    # A 2xx body saying it failed is this request's answer (a connection test that failed), not an error.
    failure_body_is_answer: bool = False


IDEMPOTENT = _RetryPolicy(after_ambiguous_failure=True)
IDEMPOTENT_WRITE = _RetryPolicy(after_ambiguous_failure=True, writes=True)  # PUT, DELETE
# A create that may have reached the server is never sent again: it could make a duplicate.
CREATE = _RetryPolicy(after_ambiguous_failure=False, writes=True)
# Tests and refreshes are sent once: a second one would overlap the first, still running upstream.
TEST = _RetryPolicy(after_ambiguous_failure=False, long_action=True, failure_body_is_answer=True)
REFRESH = _RetryPolicy(after_ambiguous_failure=False, writes=True, long_action=True)


class DatabasinClient:
    """Async client for the 11 connector endpoints of the Databasin API."""

    def __init__(
        self,
        settings: Settings,
        *,
        token_source: TokenSource | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = anyio.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.token_source = token_source or settings.token_source()
        self._transport = transport
        self._sleep = sleep
        self._clock = clock
        self._open = False
        self._http: httpx.AsyncClient | None = None
        self._token: TokenRead | None = None
        # Bounds simultaneous upstream requests, whatever the number of concurrent tool calls.
        self._slots = anyio.Semaphore(settings.max_concurrency)
        # Tests and refreshes also take one of these, fewer than all slots (unless there is only one),
        # so minutes-long actions can never starve every other call.
        self.action_limit = max(1, min(settings.max_actions, settings.max_concurrency - 1))
        self._action_slots = anyio.Semaphore(self.action_limit)
        self.rate_limit: RateLimitInfo | None = None
        # Which metadata route family the backend serves, learnt from the first metadata call.
        self._metadata_family: Literal["reference", "v2"] | None = None
        self._my_projects_missing = False

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

    # --- the 11 endpoints -------------------------------------------------------

    async def list_connectors(
        self, *, institution_id: int | None = None, project_id: str | None = None
    ) -> list[Connector]:
        """GET /api/connector, optionally filtered by institution and project (internalID)."""
        params = _query(institutionID=institution_id, internalID=project_id)
        return _records(await self._request("GET", "/api/connector", params=params), Connector, "connectors")

    async def get_connector(self, connector_id: int) -> Connector:
        """GET /api/connector/{id}."""
        data = await self._request("GET", _connector_path(connector_id))
        return _record(data, Connector, "connector")

    async def create_connector(self, changes: ConnectorChanges) -> WriteResult:
        """POST /api/connector. Never re-sent once it may have reached the server."""
        data = await self._request(
            "POST", "/api/connector", body=changes.to_body(), policy=CREATE, secrets=changes.secret_values()
        )
        return _record(data or {}, WriteResult, "create result")

    async def update_connector(self, connector_id: int, changes: ConnectorChanges) -> WriteResult:
        """PUT /api/connector/{id} with only the fields that were set."""
        data = await self._request(
            "PUT",
            _connector_path(connector_id),
            body=changes.to_body(),
            policy=IDEMPOTENT_WRITE,
            secrets=changes.secret_values(),
        )
        return _record(data or {}, WriteResult, "update result")

    async def delete_connector(self, connector_id: int) -> DeleteResult:
        """DELETE /api/connector/{id}."""
        data = await self._request("DELETE", _connector_path(connector_id), policy=IDEMPOTENT_WRITE)
        return _record(data or {}, DeleteResult, "delete result")

    async def test_connector(self, connector_id: int) -> TestResult:
        """POST /api/connector/{id}/test: sent once (see TEST); a failed test is an answer, not an error."""
        data = await self._request("POST", f"{_connector_path(connector_id)}/test", body={}, policy=TEST)
        return _record(data or {}, TestResult, "test result")

    async def refresh_metadata(self, connector_id: int) -> RefreshResult:
        """POST /api/connector/{id}/refresh; may take minutes, so it has its own timeout. Sent once."""
        data = await self._request(
            "POST",
            f"{_connector_path(connector_id)}/refresh",
            body={},
            policy=REFRESH,
            read_timeout=self.settings.refresh_timeout,
        )
        return _record(data or {}, RefreshResult, "refresh result")

    async def list_catalogs(self, connector_id: int) -> list[Catalog]:
        """GET /api/connector/{id}/catalogs (or the real backend's v2 route)."""
        path = _connector_path(connector_id)  # validates the ID whichever route is used
        data = await self._metadata(
            "catalogs",
            lambda: self._request("GET", f"{path}/catalogs"),
            lambda: self._request("GET", v2_path("catalogs", connector_id)),
        )
        return _records(data, Catalog, "catalogs")

    async def list_schemas(self, connector_id: int, *, catalog: str | None = None) -> list[Schema]:
        """GET /api/connector/{id}/schemas?catalog=... (or the real backend's v2 route)."""
        path = _connector_path(connector_id)
        params = _query(catalog=catalog)
        data = await self._metadata(
            "schemas",
            lambda: self._request("GET", f"{path}/schemas", params=params),
            lambda: self._request("GET", v2_path("schemas", connector_id), params=params),
        )
        return _records(data, Schema, "schemas")

    async def list_tables(
        self, connector_id: int, *, catalog: str | None = None, schema: str | None = None
    ) -> list[Table]:
        """GET /api/connector/{id}/tables?catalog=...&schema=... (or the real backend's v2 route)."""
        path = _connector_path(connector_id)
        params = _query(catalog=catalog, schema=schema)
        data = await self._metadata(
            "tables",
            lambda: self._request("GET", f"{path}/tables", params=params),
            lambda: self._request("GET", v2_path("tables", connector_id), params=params),
        )
        return _records(data, Table, "tables")

    async def list_columns(
        self, connector_id: int, *, table: str, catalog: str | None = None, schema: str | None = None
    ) -> list[Column]:
        """GET /api/connector/{id}/columns?... (or the real backend's POST /api/connector/columns)."""
        path = _connector_path(connector_id)
        params = _query(catalog=catalog, schema=schema, table=table)
        body: dict[str, Any] = {"connectorID": connector_id, "tableName": table}
        if (combined := schema_catalog(catalog, schema)) is not None:
            body["schemaCatalog"] = combined
        data = await self._metadata(
            "columns",
            lambda: self._request("GET", f"{path}/columns", params=params),
            lambda: self._request("POST", "/api/connector/columns", body=body),
        )
        return _records(data, Column, "columns")

    # --- beyond the reference: what the real backend also serves ----------------------

    async def list_my_projects(self) -> list[Project] | None:
        """GET /api/my/projects (the real backend's project list), or None where it does not exist."""
        if self._my_projects_missing:
            return None
        try:
            data = await self._request("GET", "/api/my/projects")
        except NotFoundError:
            self._my_projects_missing = True  # remembered: no second request for a route that is not there
            return None
        return _records(data, Project, "projects")

    async def ping(self, *, with_token: bool = False) -> Any:
        """GET /api/ping, which answers without a token where the API allows: is the API there at all?"""
        return await self._request("GET", "/api/ping", authenticated=with_token)

    async def _metadata(
        self, kind: str, reference: Callable[[], Awaitable[Any]], v2: Callable[[], Awaitable[Any]]
    ) -> Any:
        """Call the reference's route; where it is missing (404), the v2 one, and remember which works.

        A 404 from the reference route means either "no such connector" or "no such route". While
        the family is unknown, the v2 route is tried once: if it answers, the backend has the v2
        family and it is used from then on; if it is missing too, the reference's 404 stands.
        """
        if self._metadata_family == "v2":
            return v2_rows(kind, await v2())
        try:
            data = await reference()
        except NotFoundError as missing:
            if self._metadata_family == "reference":
                raise
            try:
                data = await v2()
            except APIStatusError as v2_error:
                # 404 or 405 (the path exists for another method): no v2 family either.
                if v2_error.status_code in (404, 405):
                    raise missing from None
                raise
            logger.info("The reference's %s route is missing; using the v2 metadata routes from now on", kind)
            self._metadata_family = "v2"
            return v2_rows(kind, data)
        self._metadata_family = "reference"
        return data

    # --- the request loop ---------------------------------------------------------

    async def _request(self, method: str, path: str, **options: Any) -> Any:
        """Send one API request with auth, retries and rate-limit waits; return the scrubbed JSON body."""
        try:
            return await self._attempts(method, path, **options)
        except DatabasinError as error:
            error.request_method = method
            raise

    async def _attempts(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        policy: _RetryPolicy = IDEMPOTENT,
        secrets: list[str] | None = None,
        read_timeout: float | None = None,
        authenticated: bool = True,
    ) -> Any:
        known_secrets = list(secrets or [])
        for secret in known_secrets:
            remember_secret(secret)
        token = self._current_token() if authenticated else _NO_TOKEN
        token_reread = False
        failures = 0  # 5xx answers and transport failures so far
        rate_limit_waited = 0.0
        rate_limit_retries = 0
        # The last failure after which the API may have acted: it, not "no slot", is what the caller must know.
        maybe_acted: DatabasinError | None = None

        while True:
            known = [*known_secrets, token.value]
            try:
                response, raw = await self._send(method, path, params, body, token, read_timeout, policy)
            except _NotSent as not_sent:
                # Nothing reached the server: safe to retry, even a create.
                failures += 1
                if failures >= self.settings.max_attempts:
                    raise (maybe_acted or not_sent.error) from None
                await self._backoff(failures, method, path, not_sent.error)
                continue
            except _MaybeSent as maybe_sent:
                failures += 1
                if not policy.after_ambiguous_failure or failures >= self.settings.max_attempts:
                    raise maybe_sent.error from None
                maybe_acted = maybe_sent.error
                await self._backoff(failures, method, path, maybe_sent.error)
                continue
            except ClientBusyError:
                if maybe_acted is not None:
                    raise maybe_acted from None
                raise

            status = response.status_code
            if 200 <= status < 300:
                data = _decode_json(raw, status, known)
                # Secrets leaked earlier are searched for in records and messages, not in every
                # string of a long listing (that would cost a scan per secret per string).
                data = scrub(data, known if isinstance(data, list) else [*known, *remembered_secrets()])
                # A read's record may carry a status field of its own: only a body that is not a record is a
                # refusal there. A write's body saying it failed is one, whatever else it holds.
                if (
                    not policy.failure_body_is_answer
                    and isinstance(data, dict)
                    and (policy.writes or "connectorID" not in data)
                ):
                    refusal = _reported_failure(data, status, [*known, *remembered_secrets()])
                    if refusal is not None:
                        raise refusal
                return data

            error = self._status_error(status, raw, [*known, *remembered_secrets()])
            if status == 401 and not authenticated:
                raise error  # this route needs a token here: no verdict on ours
            if status == 401 and not token_reread:
                # The token file may have been rotated since we read it: re-read once.
                token_reread = True
                fresh = self._reread_token()
                if fresh is not None and fresh.value != token.value:
                    logger.info("API answered 401; retrying with the re-read token from %s", fresh.source)
                    token = fresh
                    continue
            if status == 401:
                self._token = None  # read the source again on the next call: it may be fixed by then
                raise AuthenticationError(
                    f"The Databasin API refused the token from {token.source} (401: "
                    f"{error.upstream_message or 'unauthorized'}). Put a valid token there.",
                    status_code=401,
                    upstream_message=error.upstream_message,
                )
            if status == 429:
                wait = _rate_limit_wait(response.headers, self._clock())
                # Waits add up across retries: the cap bounds the whole call, not one wait.
                if (
                    wait is not None
                    and rate_limit_waited + wait <= self.settings.rate_limit_max_wait
                    and rate_limit_retries < _MAX_RATE_LIMIT_RETRIES
                ):
                    rate_limit_waited += wait
                    rate_limit_retries += 1
                    logger.info("%s %s rate limited; waiting %.1f s as the API asked", method, path, wait)
                    await self._sleep(wait)
                    continue
                raise self._rate_limit_error(error, wait)
            if status >= 500:
                failures += 1
                if policy.after_ambiguous_failure and failures < self.settings.max_attempts:
                    maybe_acted = error
                    await self._backoff(failures, method, path, error)
                    continue
            raise error

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Any,
        token: TokenRead,
        read_timeout: float | None,
        policy: _RetryPolicy,
    ) -> tuple[httpx.Response, bytes]:
        """One attempt: wait (bounded) for a slot, send, read the body within the size cap, map failures."""
        import httpx

        http = self._client()
        headers = {"Authorization": f"Bearer {token.value}"} if token is not _NO_TOKEN else {}
        request_timeout = (
            httpx.Timeout(read_timeout, connect=self.settings.connect_timeout)
            if read_timeout is not None
            else httpx.USE_CLIENT_DEFAULT
        )
        # A server that drips bytes slowly defeats the per-read timeout; bound the whole attempt too.
        deadline = (read_timeout or self.settings.read_timeout) + self.settings.connect_timeout
        async with contextlib.AsyncExitStack() as held:
            # The action slot first: an action waiting for one must not sit on a general slot meanwhile.
            if policy.long_action:
                await self._take(self._action_slots, held, self._busy_with_actions)
            await self._take(self._slots, held, self._busy)
            started = time.perf_counter()
            try:
                with anyio.fail_after(deadline):
                    async with http.stream(
                        method, path, params=params, json=body, headers=headers, timeout=request_timeout
                    ) as response:
                        self._remember_rate_limit(response.headers)
                        raw = await self._read_capped(response)
            except _Redirected as redirect:
                raise self._redirect_error(redirect.status, redirect.location, redirect.request_url) from None
            except (httpx.LocalProtocolError, httpx.UnsupportedProtocol, UnicodeEncodeError) as exc:
                # The request could not even be written (a header or URL the HTTP library refuses):
                # nothing left, and sending it again would fail the same way.
                unsendable = TransportError(
                    f"The request could not be sent to the Databasin API at {self.safe_base_url} "
                    f"({type(exc).__name__}); nothing was sent."
                )
                unsendable.maybe_sent = False
                raise unsendable from None
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # The request never left: the connection was refused or not made in time.
                error = self._transport_error(exc)
                error.maybe_sent = False
                raise _NotSent(error) from None
            except (httpx.TransportError, TimeoutError) as exc:
                raise _MaybeSent(self._transport_error(exc)) from None
        logger.debug(
            "%s %s -> %d in %.0f ms", method, path, response.status_code, (time.perf_counter() - started) * 1000
        )
        return response, raw

    async def _take(
        self, slots: anyio.Semaphore, held: contextlib.AsyncExitStack, busy: Callable[[], ClientBusyError]
    ) -> None:
        """One of `slots` until `held` closes, waited for at most DATABASIN_SLOT_WAIT_TIMEOUT."""
        with anyio.move_on_after(self.settings.slot_wait_timeout):
            await slots.acquire()
            held.callback(slots.release)
            return
        raise busy()

    def _busy(self) -> ClientBusyError:
        n, wait = self.settings.max_concurrency, self.settings.slot_wait_timeout
        return ClientBusyError(
            f"{_counted_requests(n)} to the Databasin API {'is' if n == 1 else 'are'} already in flight, the most "
            f"allowed at once (DATABASIN_MAX_CONCURRENCY={n}), and none finished within {wait:g} s "
            "(DATABASIN_SLOT_WAIT_TIMEOUT). Nothing was sent; try again in a moment."
        )

    def _busy_with_actions(self) -> ClientBusyError:
        n, wait = self.action_limit, self.settings.slot_wait_timeout
        setting = f"DATABASIN_MAX_ACTIONS={self.settings.max_actions}"
        if n < self.settings.max_actions:
            setting += f", kept below DATABASIN_MAX_CONCURRENCY={self.settings.max_concurrency}"
        running = (
            "1 connector test or metadata refresh is" if n == 1 else f"{n} connector tests or metadata refreshes are"
        )
        return ClientBusyError(
            f"{running} already running against the Databasin API, the most allowed at once ({setting}), and "
            f"none finished within {wait:g} s (DATABASIN_SLOT_WAIT_TIMEOUT). Nothing was sent; try again when "
            f"{'it' if n == 1 else 'one'} finishes."
        )

    async def _read_capped(self, response: httpx.Response) -> bytes:
        cap = self.settings.max_response_bytes
        declared = header_number(response.headers.get("Content-Length"), highest=1e18)
        if declared is not None and declared > cap:
            raise self._too_large(int(declared))
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise self._too_large(None)
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, size: int | None) -> ResponseTooLargeError:
        cap_mb = self.settings.max_response_bytes / 1_000_000
        found = f" ({size / 1_000_000:.1f} MB)" if size else ""
        return ResponseTooLargeError(
            f"The Databasin API answer is larger than the {cap_mb:g} MB cap{found}; it was not read. "
            "Ask for less (filter by project, catalog or schema)."
        )

    async def _backoff(self, failures: int, method: str, path: str, error: DatabasinError) -> None:
        """Capped exponential backoff with full jitter (spreads retries from many clients)."""
        ceiling = min(self.settings.retry_backoff_max, self.settings.retry_backoff * 2 ** (failures - 1))
        delay = random.uniform(0, ceiling)
        logger.info("%s %s failed (%s); retry %d in %.2f s", method, path, type(error).__name__, failures, delay)
        await self._sleep(delay)

    # --- helpers --------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if not self._open:
            raise RuntimeError("DatabasinClient is not open; use 'async with DatabasinClient(...)'")
        if self._http is None:
            self._http = self._new_http_client()
        return self._http

    def _current_token(self) -> TokenRead:
        if self._token is None:
            self._token = self._read_token()
        return self._token

    def _read_token(self) -> TokenRead:
        """The token as its source holds it now. A missing or unusable token is not kept, so the next
        call reads the source again: creating or fixing the file works without a restart."""
        self._token = None
        fresh = self.token_source.read()  # InvalidTokenError when it cannot be sent (and nothing was)
        if fresh is None:
            raise MissingTokenError(self.token_source.where_looked())
        remember_secret(fresh.value)
        return fresh

    def _reread_token(self) -> TokenRead | None:
        """After a 401: the token its source holds now, or None when the source has none any more."""
        try:
            self._token = self._read_token()
        except MissingTokenError:
            return None
        return self._token

    def _remember_rate_limit(self, headers: httpx.Headers) -> None:
        info = _rate_limit_info(headers, self._clock())
        if info is not None:
            self.rate_limit = info

    def _status_error(self, status: int, raw: bytes, known_secrets: list[str]) -> APIStatusError:
        upstream, excerpt = _error_text(raw, known_secrets)
        import httpx

        reason = httpx.codes.get_reason_phrase(status) or "Error"
        if upstream:
            message = f"Databasin API error {status} {reason}: {sentence(upstream)}"
        elif excerpt:
            message = f"Databasin API error {status} {reason} (not a JSON body): {sentence(excerpt)}"
        else:
            message = f"Databasin API error {status} {reason} (empty body)."
        return status_error_class(status)(message, status_code=status, upstream_message=upstream)

    def _redirect_error(self, status: int, location: str | None, request_url: str) -> RedirectError:
        """A 3xx: where it points (scheme, host, path: never credentials or a query) and what to set."""
        import httpx

        reason = httpx.codes.get_reason_phrase(status) or "Redirect"
        target = _safe_location(location, request_url)
        if target is None:
            return RedirectError(
                f"Databasin API error {status} {reason}, without a usable Location. "
                "DATABASIN_API_URL is probably not the Databasin API's base URL.",
                status_code=status,
            )
        base = _redirected_base(target, urlsplit(request_url).path)
        if base is not None and base != self.safe_base_url:
            fix = f"Set DATABASIN_API_URL to {base} (the base URL that redirect points to)."
        else:
            fix = "DATABASIN_API_URL is probably not the Databasin API's base URL."
        return RedirectError(
            f"Databasin API error {status} {reason}: it redirects to {target}. {fix}", status_code=status
        )

    def _rate_limit_error(self, error: APIStatusError, wait: float | None) -> RateLimitError:
        if wait is None:
            when = "later"
        else:
            # The full UTC date and time: "at 00:13:20" alone may be read as today when it is tomorrow.
            at = datetime.fromtimestamp(self._clock() + wait, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            when = f"in {wait:.0f} s (at {at})"

        return RateLimitError(
            f"The Databasin API is rate limiting this token; try again {when}.",
            upstream_message=error.upstream_message,
            retry_after=wait,
        )

    def _transport_error(self, exc: BaseException) -> TransportError:
        # Never the httpx message itself: it carries the full URL (dbt-mcp learned this the hard way).
        import httpx

        where = self.safe_base_url
        if isinstance(exc, httpx.ConnectTimeout):
            return UpstreamTimeoutError(f"Timed out connecting to the Databasin API at {where}.")
        if isinstance(exc, httpx.PoolTimeout):
            return UpstreamTimeoutError("Timed out waiting for a free connection to the Databasin API.")
        if isinstance(exc, httpx.ConnectError):
            return TransportError(
                f"Could not connect to the Databasin API at {where} (refused or unreachable). "
                "Check DATABASIN_API_URL and that the API is up."
            )
        if isinstance(exc, (httpx.TimeoutException, TimeoutError)):
            return UpstreamTimeoutError(f"The Databasin API at {where} did not answer in time.")
        return TransportError(
            f"The connection to the Databasin API at {where} failed mid-request ({type(exc).__name__})."
        )


class _Redirected(Exception):
    """Internal: the API answered 3xx (raised by the response hook, before httpx reads the Location)."""

    def __init__(self, status: int, location: str | None, request_url: str) -> None:
        self.status = status
        self.location = location
        self.request_url = request_url


async def _stop_at_redirects(response: httpx.Response) -> None:
    if 300 <= response.status_code < 400:
        raise _Redirected(response.status_code, response.headers.get("Location"), str(response.request.url))


class _NotSent(Exception):
    """Internal: a transport failure before the request left; always safe to retry."""

    def __init__(self, error: TransportError) -> None:
        self.error = error


class _MaybeSent(Exception):
    """Internal: a transport failure after which the server may have acted on the request."""

    def __init__(self, error: TransportError) -> None:
        self.error = error


# --- pure helpers ------------------------------------------------------------------------


def _connector_path(connector_id: int) -> str:
    # IDs are validated by the tools already; this guards every other caller, so a
    # string can never be spliced into a path.
    if isinstance(connector_id, bool) or not isinstance(connector_id, int) or not 1 <= connector_id <= MAX_ID:
        raise ValueError(f"connector_id must be a positive integer, got {connector_id!r}")
    return f"/api/connector/{connector_id}"


def _query(**values: object) -> dict[str, str]:
    """Query parameters with the unset ones left out (httpx URL-encodes the rest)."""
    return {key: str(value) for key, value in values.items() if value is not None}


def _counted_requests(n: int) -> str:
    return f"{n} request" if n == 1 else f"{n} requests"


# A plain decimal in ASCII digits: no sign, exponent, "inf", "nan", underscore or another script's digits.
_HEADER_NUMBER = re.compile(r"\s*([0-9]{1,20}(?:\.[0-9]{1,9})?)\s*")


def header_number(value: str | None, *, highest: float) -> float | None:
    """A numeric header's value (`120`, ` 2.5 `), or None when missing, malformed or above `highest`.

    Every numeric header the client reads goes through here: a header is advice, and no value of one
    may fail a call (or turn a write that succeeded into an error).
    """
    if value is None:
        return None
    match = _HEADER_NUMBER.fullmatch(value)
    if match is None:
        return None
    number = float(match.group(1))
    return number if number <= highest else None


def _reset_at(headers: httpx.Headers, now: float) -> float | None:
    """X-RateLimit-Reset as epoch seconds: the reference sends epoch seconds; some servers ms or a delta."""
    reset = header_number(headers.get("X-RateLimit-Reset"), highest=1e15)
    if reset is None:
        return None
    at = reset / 1000 if reset > 1e12 else reset if reset > 1e9 else now + reset
    return at if at <= now + _MAX_PLAUSIBLE_WAIT else None


def _rate_limit_info(headers: httpx.Headers, now: float) -> RateLimitInfo | None:
    """The X-RateLimit-* values worth keeping (absurd ones dropped), or None when there are none."""
    limit, remaining = (
        header_number(headers.get(f"X-RateLimit-{name}"), highest=1e12) for name in ("Limit", "Remaining")
    )
    reset_at = _reset_at(headers, now)
    if limit is None and remaining is None and reset_at is None:
        return None
    return RateLimitInfo(
        limit=None if limit is None else int(limit),
        remaining=None if remaining is None else int(remaining),
        reset_at=reset_at,
    )


def _rate_limit_wait(headers: httpx.Headers, now: float) -> float | None:
    """Seconds to wait before retrying a 429: Retry-After first, then X-RateLimit-Reset; None if unknown."""
    retry_after = headers.get("Retry-After")
    if retry_after is not None:
        wait = header_number(retry_after, highest=_MAX_PLAUSIBLE_WAIT)
        if wait is None:
            wait = _http_date_wait(retry_after, now)
        if wait is not None:
            return wait
    reset_at = _reset_at(headers, now)
    return None if reset_at is None else max(0.0, reset_at - now)


def _http_date_wait(value: str, now: float) -> float | None:
    """Retry-After as an HTTP date (`Fri, 31 Dec 2027 23:59:59 GMT`): seconds from now, if plausible."""
    try:
        wait = max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    return wait if wait <= _MAX_PLAUSIBLE_WAIT else None


_FAILED_STATUSES = {"error", "failed", "failure", "fail"}


def _reported_failure(data: dict[str, Any], status: int, known_secrets: list[str]) -> UpstreamRefusedError | None:
    """The refusal a 2xx body reports (`"status": "error"`, `"success": false`), or None if it reports none."""
    said = data.get("status")
    failed_status = isinstance(said, str) and said.strip().lower() in _FAILED_STATUSES
    if not failed_status and data.get("success") is not False:
        return None
    words = (data.get(key) for key in ("message", "error", "detail"))
    message = next((word.strip() for word in words if isinstance(word, str) and word.strip()), None)
    if message is None:
        shape = f'status "{said.strip()}"' if isinstance(said, str) and failed_status else "success false"
        refusal = UpstreamRefusedError(
            f"The Databasin API answered {status} but reported a failure ({shape}, no message).", status_code=status
        )
    else:
        message = mask_text(message, known_secrets)
        if len(message) > _UPSTREAM_MESSAGE_CHARS:
            message = message[: _UPSTREAM_MESSAGE_CHARS - 1] + "…"
        refusal = UpstreamRefusedError(
            f"The Databasin API answered {status} but reported a failure: {sentence(message)}",
            status_code=status,
            upstream_message=message,
        )
    named = data.get("connectorID")
    if isinstance(named, int) and not isinstance(named, bool) and 1 <= named <= MAX_ID:
        refusal.connector_id = named
    return refusal


# Host names and IP addresses as a URL holds them; a redirect to anything else is not shown.
_HOST = re.compile(r"[A-Za-z0-9.-]{1,253}|[0-9A-Fa-f:.]{2,45}")


def _safe_location(location: str | None, request_url: str) -> str | None:
    """A redirect's target as scheme://host[:port]/path, resolved against the request; None if unusable.

    Credentials, query and fragment are dropped; characters that do not belong in a path are %-escaped.
    """
    if not location or not location.strip():
        return None
    try:
        parts = urlsplit(urljoin(request_url, location.strip()))
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(host):
        return None
    if ":" in host:
        host = f"[{host}]"
    path = quote(parts.path, safe="/%-._~!$&'()*+,;=:@")
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}{path}"


def _redirected_base(target: str, request_path: str) -> str | None:
    """The base URL a redirect implies: its target less the request's own path; None when it is not that."""
    path, asked = target.rstrip("/"), request_path.rstrip("/")
    if not asked or not path.endswith(asked):
        return None
    return path[: -len(asked)] or None


# Numbers written with thousands separators (the reference's `"tableCount": 1,234`).
_GROUPED_NUMBER = re.compile(r"(:\s*)(-?\d{1,3}(?:,\d{3})+)(?=\s*(?:[,}\]]|$))")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _repair_grouped_numbers(text: str) -> str:
    """Rewrite `: 1,234` as `: 1234` outside string literals. Only used when strict parsing failed."""
    pieces: list[str] = []
    position = 0
    for literal in _JSON_STRING.finditer(text):
        pieces.append(
            _GROUPED_NUMBER.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), text[position : literal.start()])
        )
        pieces.append(literal.group())
        position = literal.end()
    pieces.append(_GROUPED_NUMBER.sub(lambda m: m.group(1) + m.group(2).replace(",", ""), text[position:]))
    return "".join(pieces)


def _decode_json(raw: bytes, status: int, known_secrets: list[str]) -> Any:
    """Parse a success body: strict JSON, else JSON with grouped numbers, else a clear error.

    What it gives is safe to keep and show (`untrusted.clean_json`): no lone surrogate, field names on
    one line, nesting bounded.
    """
    text = raw.decode("utf-8", errors="replace").strip()
    if not text:
        return None
    try:
        try:
            data = _loads(text)
        except ValueError:
            try:
                data = _loads(_repair_grouped_numbers(text))
            except ValueError:
                raise BadResponseError(
                    f"The Databasin API answered {status} with a body that is not valid JSON: "
                    f"{_excerpt(text, known_secrets)}"
                ) from None
        # The real backend sometimes sends JSON encoded twice: a string whose content is JSON.
        if isinstance(data, str) and data.lstrip()[:1] in ("{", "["):
            with contextlib.suppress(ValueError):
                text, data = data, _loads(data)
        return clean_json(data, raw_text=text)
    except NestedTooDeeply:
        raise BadResponseError(
            f"The Databasin API answered {status} with JSON nested more than {MAX_JSON_DEPTH} levels deep; "
            "it was not read."
        ) from None


def _loads(text: str) -> Any:
    """json.loads, with a body too deep for its recursion reported as NestedTooDeeply (not RecursionError)."""
    try:
        return json.loads(text)
    except RecursionError:
        raise NestedTooDeeply from None


def _excerpt(text: str, known_secrets: list[str]) -> str:
    """At most the first 200 characters of a body on one line, HTML tags, entities and runs of whitespace removed."""
    # Entities decoded before masking: an error page quotes JSON as {&quot;password&quot;: ...}. Only the
    # start is masked (a hostile 20 MB body would take seconds): far more than the excerpt, so a secret
    # that the 200-character cut runs through is still whole when it is masked.
    plain = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]*>", " ", text[:_EXCERPT_SCAN_CHARS]))).strip()
    plain = one_line(mask_text(plain, known_secrets))
    return plain if len(plain) <= _EXCERPT_CHARS else plain[: _EXCERPT_CHARS - 1] + "…"


def _error_text(raw: bytes, known_secrets: list[str]) -> tuple[str | None, str]:
    """(the API's own `message` on one line, or None; a short excerpt of the body) for an error answer."""
    text = raw.decode("utf-8", errors="replace").strip()
    try:
        data = json.loads(text) if text else None
    except (ValueError, RecursionError):
        data = None
    if isinstance(data, dict):
        for key in ("message", "error", "detail"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                # A message is prose: its line breaks become spaces; what else could hide or forge text is escaped.
                words = " ".join(without_surrogates(value[:_EXCERPT_SCAN_CHARS]).split())
                said = one_line(mask_text(words, known_secrets))
                # An API's message is a sentence or two; a longer one would flood the agent's context.
                return (said if len(said) <= _MESSAGE_CHARS else said[: _MESSAGE_CHARS - 1] + "…"), ""
    return None, _excerpt(text, known_secrets)


# Keys under which list endpoints may wrap their records (the real backend's v2 routes use "objects").
_ENVELOPE_KEYS = ("data", "items", "objects", "results", "content", "connectors")


def _records(data: Any, model: type[RecordT], what: str) -> RecordList[RecordT]:
    """Validate a list body (or an envelope around one) into models.

    One odd record never fails the listing: a field that cannot be read is left out of its record
    (`unread_fields`), and a record that cannot be read at all (no usable ID) is left out of the
    list and counted in `skipped`, so the listing can say both.
    """
    if data is None:
        return RecordList()
    if isinstance(data, dict):
        data = next((data[key] for key in _ENVELOPE_KEYS if isinstance(data.get(key), list)), data)
    if not isinstance(data, list):
        raise BadResponseError(
            f"The Databasin API answered with {type(data).__name__} where a list of {what} was expected."
        )
    records: RecordList[RecordT] = RecordList()
    problems: list[str] = []
    for index, item in enumerate(data):
        # Let go of each parsed record once it is a model: for a 20,000-table listing the parsed
        # JSON and the models would otherwise both be alive at the peak (13 MB + 14 MB measured).
        data[index] = None
        try:
            record = model.read(item)
        except ValidationError as exc:
            records.skipped.append(_skipped(index, item, exc))
            problems.append(_validation_summary(exc, f"{what}[{index}]"))
            continue
        if record.unread_fields:
            problems.append(f"{what}[{index}]: could not read {', '.join(record.unread_fields)}.")
        records.append(record)
    if problems:
        # Field names and reasons only (never values): the record is shown with what could be read.
        logger.warning(
            "The Databasin API sent %d of %d %s in a shape this client cannot fully read: %s",
            len(problems),
            len(data),
            what,
            " ".join(problems[:5]) + (" …" if len(problems) > 5 else ""),
        )
    return records


def _skipped(index: int, item: Any, exc: ValidationError) -> SkippedRecord:
    """What is known of a record that could not be read: the fields at fault, and where it belongs."""
    fields = tuple(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))

    def scope(name: str) -> str | None:
        value = item.get(name) if isinstance(item, dict) else None
        return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None

    return SkippedRecord(index, fields, project=scope("internalID"), institution=scope("institutionID"))


def _record(data: Any, model: type[RecordT], what: str) -> RecordT:
    """Validate one object into a model; a field that cannot be read is left out (`unread_fields`)."""
    if not isinstance(data, dict):
        raise BadResponseError(
            f"The Databasin API answered with {type(data).__name__} where a {what} object was expected."
        )
    try:
        record = model.read(data)
    except ValidationError as exc:
        raise BadResponseError(
            f"The Databasin API sent a {what} this client cannot read: {_validation_summary(exc)}"
        ) from None
    if record.unread_fields:
        logger.warning("The Databasin API sent a %s whose %s could not be read", what, ", ".join(record.unread_fields))
    return record


def _validation_summary(exc: ValidationError, prefix: str = "") -> str:
    """Field names and reasons only: the rejected values could be anything, secrets included."""
    problems = [f"{'.'.join(str(p) for p in (prefix, *e['loc']) if p != '')}: {e['msg']}" for e in exc.errors()[:3]]
    return "; ".join(problems) + "."
