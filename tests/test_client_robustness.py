"""The client against what the upstream or the token file may hold (issue 12, findings 4, 5, 8, 9, 17).

Tokens that cannot be a header value, rate-limit headers of any size, failure bodies on a 2xx, slots
that are waited for without end, actions sent more than once, redirects: each is refused or answered
with one clear sentence, and never turns a success into a failure or a failure into a success.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import respx
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from mcp import Client

from databasin_mcp.client import DatabasinClient
from databasin_mcp.client.retry import header_number, rate_limit_info, rate_limit_wait
from databasin_mcp.config import Settings
from databasin_mcp.errors import (
    AuthenticationError,
    BadResponseError,
    ClientBusyError,
    InvalidTokenError,
    RateLimitError,
    RedirectError,
    ServerError,
    UpstreamRefusedError,
    UpstreamTimeoutError,
)
from databasin_mcp.models import ConnectorChanges
from databasin_mcp.tokens import TokenSource

from .conftest import ServerFactory

pytestmark = pytest.mark.anyio

API = "http://api.test"
TOKEN = "tok-abcdef123456"
NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z
CONNECTOR = {
    "connectorID": 123,
    "connectorName": "Production MySQL",
    "connectorType": "RDBMS",
    "internalID": "proj-001",
}


async def no_sleep(seconds: float) -> None:
    """Backoff and rate-limit waits return at once (what was asked is not the point of these tests)."""


def make_client(router: respx.Router, **overrides: Any) -> DatabasinClient:
    values: dict[str, Any] = {"api_url": API, "token": TOKEN, "retry_backoff": 0} | overrides
    return DatabasinClient(
        Settings(**values), transport=httpx.MockTransport(router.async_handler), sleep=no_sleep, clock=lambda: NOW
    )


@pytest.fixture
async def client(router: respx.Router) -> AsyncIterator[DatabasinClient]:
    async with make_client(router) as c:
        yield c


def text_of(result: Any) -> str:
    assert len(result.content) == 1
    return result.content[0].text  # type: ignore[no-any-return]


# --- tokens (finding 4) ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("\ufefftok-from-notepad-1\r\n".encode(), id="utf-8 BOM and CRLF"),
        pytest.param(b"  tok-from-notepad-1 \r\n\r\n", id="spaces and blank lines"),
        pytest.param("\ufefftok-from-notepad-1\r\n".encode("utf-16"), id="utf-16 with BOM"),
    ],
)
async def test_a_token_file_written_by_notepad_is_read_clean(
    router: respx.Router, tmp_path: Path, content: bytes
) -> None:
    token_file = tmp_path / ".token"
    token_file.write_bytes(content)
    route = router.get("/api/connector").respond(json=[])

    async with make_client(router, token=None, token_file=token_file) as client:
        await client.list_connectors()

    assert route.calls.last.request.headers["Authorization"] == "Bearer tok-from-notepad-1"


@pytest.mark.parametrize(
    ("token", "problem"),
    [
        ("S3CR-first-line\nS3CR-second-line", "it has a line break inside"),
        ("S3CR-first-line\r\nS3CR-second-line", "it has a line break inside"),
        ("S3CR with spaces", "it has a space inside"),
        ("S3CR\twith-tab", "it has a control character inside"),
        ("S3CR-nonascii-ö", "it has a character that is not ASCII"),
        ("S3CR-\u2028-separator", "it has a character that is not ASCII"),
        ("S3CR-\x00-nul", "it has a control character inside"),
        ("S3CR-\x7f-del", "it has a control character inside"),
    ],
)
async def test_a_token_that_cannot_be_a_header_is_refused_before_sending(
    router: respx.Router, tmp_path: Path, token: str, problem: str
) -> None:
    token_file = tmp_path / ".token"
    token_file.write_text(token, encoding="utf-8")
    route = router.route().respond(json=[])

    async with make_client(router, token=None, token_file=token_file) as client:
        with pytest.raises(InvalidTokenError) as caught:
            await client.list_connectors()

    assert route.call_count == 0
    assert str(caught.value) == (
        f"The Databasin API token in the token file {token_file} cannot be sent: {problem}. Nothing was sent. "
        "Put the token alone on one line in that file; it is read again on the next call."
    )
    assert "S3CR" not in str(caught.value)


async def test_a_token_variable_that_cannot_be_a_header_names_the_variable(router: respx.Router) -> None:
    route = router.route().respond(json=[])

    async with make_client(router, token="tok-a tok-b") as client:
        with pytest.raises(InvalidTokenError) as caught:
            await client.list_connectors()

    assert route.call_count == 0
    assert str(caught.value) == (
        "The Databasin API token in the DATABASIN_TOKEN environment variable cannot be sent: it has a space inside. "
        "Nothing was sent. Set DATABASIN_TOKEN to the token alone."
    )


async def test_fixing_the_token_file_works_without_a_restart(router: respx.Router, tmp_path: Path) -> None:
    token_file = tmp_path / ".token"
    token_file.write_text("tök-broken-1\n", encoding="utf-8")
    route = router.get("/api/connector").respond(json=[])

    async with make_client(router, token=None, token_file=token_file) as client:
        for _ in range(2):  # still refused, and not cached: the file is read each time
            with pytest.raises(InvalidTokenError):
                await client.list_connectors()
        token_file.write_text("tok-fixed-2\n", encoding="utf-8")
        await client.list_connectors()

    assert [call.request.headers["Authorization"] for call in route.calls] == ["Bearer tok-fixed-2"]


async def test_after_a_refused_token_the_next_call_reads_the_file_first(router: respx.Router, tmp_path: Path) -> None:
    token_file = tmp_path / ".token"
    token_file.write_text("tok-expired-1\n")

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer tok-renewed-2":
            return httpx.Response(200, json=[])
        return httpx.Response(401, json={"message": "Invalid or expired authentication token"})

    route = router.get("/api/connector").mock(side_effect=answer)
    async with make_client(router, token=None, token_file=token_file) as client:
        with pytest.raises(AuthenticationError):
            await client.list_connectors()
        token_file.write_text("tok-renewed-2\n")
        await client.list_connectors()

    # The failed call re-read the file once on its 401; the next call starts from the file: no second 401.
    assert [call.request.headers["Authorization"] for call in route.calls] == [
        "Bearer tok-expired-1",
        "Bearer tok-renewed-2",
    ]


async def test_a_token_file_that_is_too_big_is_refused_unread(router: respx.Router, tmp_path: Path) -> None:
    token_file = tmp_path / ".token"
    token_file.write_bytes(b"x" * 10_000_000)
    route = router.route().respond(json=[])

    async with make_client(router, token=None, token_file=token_file) as client:
        with pytest.raises(InvalidTokenError, match=r"cannot be sent: the file is larger than 64 KB"):
            await client.list_connectors()
    assert route.call_count == 0


async def test_a_token_path_that_is_a_pipe_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "token.fifo"
    os.mkfifo(fifo)
    source = TokenSource(env_token=None, explicit_file=fifo, cwd=tmp_path, home=tmp_path)
    try:
        with anyio.fail_after(10):  # a blocking read of a pipe without a writer would never return
            with pytest.raises(InvalidTokenError, match=r"cannot be sent: it is not a regular file"):
                await anyio.to_thread.run_sync(source.read, abandon_on_cancel=True)
    finally:
        # Unblock a reader stuck on the pipe, if the test failed that way.
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


async def test_a_token_file_that_is_not_text_names_the_encoding(router: respx.Router, tmp_path: Path) -> None:
    token_file = tmp_path / ".token"
    token_file.write_bytes(b"tok-\xff\xfe-binary")

    async with make_client(router, token=None, token_file=token_file) as client:
        with pytest.raises(InvalidTokenError) as caught:
            await client.list_connectors()
    assert str(caught.value) == (
        f"The Databasin API token in the token file {token_file} cannot be sent: the file is not UTF-8 text. "
        "Nothing was sent. Put the token alone on one line in that file; it is read again on the next call."
    )


async def test_a_two_line_token_on_a_create_says_nothing_was_created(
    router: respx.Router, make_server: ServerFactory, tmp_path: Path
) -> None:
    token_file = tmp_path / ".token"
    token_file.write_text("tok-first-line\ntok-second-line\n")
    route = router.route().respond(json=[])

    async with Client(make_server(token=None, token_file=token_file)) as mcp:
        result = await mcp.call_tool(
            "create_connector",
            {"name": "New one", "connector_type": "RDBMS", "institution_id": 1, "project_id": "proj-001"},
        )

    assert result.is_error
    assert route.call_count == 0
    assert text_of(result) == (
        f"The Databasin API token in the token file {token_file} cannot be sent: it has a line break inside. "
        "Nothing was sent. Put the token alone on one line in that file; it is read again on the next call."
    )


# --- numeric headers (finding 5) -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("2.5", 2.5),
        ("0", 0.0),
        ("-5", None),  # below the lowest value allowed
        ("99999999999999999999", None),  # above the highest
        ("1e300", None),
        ("1e3", None),  # exponents are not how anyone writes a header number
        ("inf", None),
        ("-Infinity", None),
        ("nan", None),
        ("1_000", None),
        ("", None),
        ("12abc", None),
        ("²", None),
        ("١٢٣", None),  # Arabic-Indic digits: int() would take them, a header does not
        (None, None),
    ],
)
def test_header_number_reads_plain_decimals_within_bounds(raw: str | None, expected: float | None) -> None:
    assert header_number(raw, highest=1e12) == expected


@hypothesis_settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    st.dictionaries(
        st.sampled_from(["Retry-After", "X-RateLimit-Reset", "X-RateLimit-Limit", "X-RateLimit-Remaining"]),
        st.one_of(
            st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=40),
            st.floats(allow_nan=True, allow_infinity=True).map(repr),
            st.integers(min_value=-(10**40), max_value=10**40).map(str),
            st.sampled_from(["Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 2024 00:00:00 +9999", "inf", "1e400"]),
        ),
    )
)
def test_rate_limit_headers_of_any_value_never_raise_and_stay_bounded(values: dict[str, str]) -> None:
    headers = httpx.Headers({name: value.encode("latin-1") for name, value in values.items()})
    wait = rate_limit_wait(headers, NOW)
    assert wait is None or (math.isfinite(wait) and 0 <= wait <= 86_400)
    info = rate_limit_info(headers, NOW)
    if info is not None:
        for number in (info.limit, info.remaining):
            assert number is None or (isinstance(number, int) and number >= 0)
        assert info.reset_at is None or (math.isfinite(info.reset_at) and info.reset_at <= NOW + 86_400)


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "99999999999999999999"},
        {"Retry-After": "1e300"},
        {"Retry-After": "inf"},
        {"Retry-After": "nan"},
        {"Retry-After": "Fri, 31 Dec 99999 23:59:59 GMT"},
        {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT"},
        {"X-RateLimit-Reset": "1e30"},
        {"X-RateLimit-Reset": "99999999999999999999"},
    ],
)
async def test_an_absurd_rate_limit_wait_is_ignored(
    router: respx.Router, client: DatabasinClient, headers: dict[str, str]
) -> None:
    route = router.get("/api/connector").respond(429, json={"message": "Rate limit exceeded"}, headers=headers)

    with pytest.raises(RateLimitError) as caught:
        await client.list_connectors()

    assert route.call_count == 1
    assert caught.value.retry_after is None
    assert str(caught.value) == "The Databasin API is rate limiting this token; try again later."


async def test_the_time_to_try_again_carries_its_date(router: respx.Router, client: DatabasinClient) -> None:
    router.get("/api/connector").respond(429, headers={"Retry-After": "7200"})

    with pytest.raises(RateLimitError) as caught:
        await client.list_connectors()

    assert str(caught.value) == (
        "The Databasin API is rate limiting this token; try again in 7200 s (at 2023-11-15T00:13:20Z)."
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"X-RateLimit-Reset": "inf"},
        {"X-RateLimit-Reset": "1e400"},
        {"X-RateLimit-Reset": "-1e400"},
        {"X-RateLimit-Limit": "-Infinity"},
        {"X-RateLimit-Remaining": "nan", "X-RateLimit-Limit": "1e999"},
    ],
)
async def test_a_create_that_succeeded_is_reported_whatever_its_headers(
    router: respx.Router, client: DatabasinClient, headers: dict[str, str]
) -> None:
    route = router.post("/api/connector").respond(
        json={"connectorID": 789, "message": "Connector created successfully", "status": "success"}, headers=headers
    )

    result = await client.create_connector(ConnectorChanges(name="x", connector_type="RDBMS"))

    assert result.connectorID == 789
    assert route.call_count == 1


async def test_absurd_rate_limit_values_are_not_remembered(router: respx.Router, client: DatabasinClient) -> None:
    router.get("/api/connector").respond(
        json=[], headers={"X-RateLimit-Limit": "-Infinity", "X-RateLimit-Remaining": "12", "X-RateLimit-Reset": "inf"}
    )

    await client.list_connectors()

    assert client.rate_limit is not None
    assert (client.rate_limit.limit, client.rate_limit.remaining, client.rate_limit.reset_at) == (None, 12, None)


async def test_a_content_length_that_is_not_a_number_does_not_fail_the_call(
    router: respx.Router, client: DatabasinClient
) -> None:
    router.get("/api/connector/123").mock(
        return_value=httpx.Response(200, headers=[(b"Content-Length", b"\xb2")], content=b'{"connectorID": 123}')
    )

    assert (await client.get_connector(123)).connectorID == 123


# --- failure bodies on a 2xx (finding 8) -------------------------------------------------------------------------


REFUSALS = [
    pytest.param({"status": "error", "message": "Connector is used by 3 pipelines"}, id="status error"),
    pytest.param({"status": "ERROR", "message": "Connector is used by 3 pipelines"}, id="status in capitals"),
    pytest.param({"success": False, "message": "Connector is used by 3 pipelines"}, id="success false"),
    pytest.param({"status": "failed", "error": "Connector is used by 3 pipelines"}, id="failed, error key"),
]


@pytest.mark.parametrize("body", REFUSALS)
async def test_a_delete_answered_200_with_a_failure_body_is_an_error(
    router: respx.Router, client: DatabasinClient, body: dict[str, Any]
) -> None:
    router.delete("/api/connector/123").respond(200, json=body)

    with pytest.raises(UpstreamRefusedError) as caught:
        await client.delete_connector(123)

    assert caught.value.upstream_message == "Connector is used by 3 pipelines"
    assert caught.value.status_code == 200
    assert str(caught.value) == (
        "The Databasin API answered 200 but reported a failure: Connector is used by 3 pipelines."
    )


async def test_create_update_and_refresh_failure_bodies_are_errors(
    router: respx.Router, client: DatabasinClient
) -> None:
    router.post("/api/connector").respond(json={"status": "error", "message": "Missing connectorHost"})
    router.put("/api/connector/5").respond(json={"connectorID": 5, "status": "error", "message": "Name taken"})
    router.post("/api/connector/5/refresh").respond(json={"status": "error", "message": "Source unreachable"})

    with pytest.raises(UpstreamRefusedError, match="reported a failure: Missing connectorHost"):
        await client.create_connector(ConnectorChanges(name="x"))
    with pytest.raises(UpstreamRefusedError, match="reported a failure: Name taken"):
        await client.update_connector(5, ConnectorChanges(name="y"))
    with pytest.raises(UpstreamRefusedError, match="reported a failure: Source unreachable"):
        await client.refresh_metadata(5)


async def test_a_failure_body_without_a_message_still_says_what_happened(
    router: respx.Router, client: DatabasinClient
) -> None:
    router.delete("/api/connector/5").respond(json={"status": "error"})

    with pytest.raises(UpstreamRefusedError) as caught:
        await client.delete_connector(5)
    assert str(caught.value) == 'The Databasin API answered 200 but reported a failure (status "error", no message).'


async def test_a_failure_body_has_its_secrets_masked(router: respx.Router, client: DatabasinClient) -> None:
    router.put("/api/connector/5").respond(
        json={"status": "error", "message": "Password 'pa55-w0rd-x' rejected for jdbc://a:pa55-w0rd-x@h"}
    )

    with pytest.raises(UpstreamRefusedError) as caught:
        await client.update_connector(5, ConnectorChanges(password="pa55-w0rd-x"))
    assert "pa55-w0rd-x" not in str(caught.value)
    assert "pa55-w0rd-x" not in (caught.value.upstream_message or "")


async def test_a_failed_connection_test_is_an_answer_not_an_error(
    router: respx.Router, client: DatabasinClient
) -> None:
    router.post("/api/connector/5/test").respond(
        json={"success": False, "status": "error", "message": "Connection failed", "error": "Authentication failure"}
    )

    result = await client.test_connector(5)

    assert (result.success, result.error) == (False, "Authentication failure")


async def test_a_connector_record_with_a_status_field_of_its_own_is_still_a_record(
    router: respx.Router, client: DatabasinClient
) -> None:
    router.get("/api/connector/123").respond(json={**CONNECTOR, "status": "error"})

    assert (await client.get_connector(123)).connectorID == 123


async def test_a_listing_answered_with_a_failure_body_is_an_error(
    router: respx.Router, client: DatabasinClient
) -> None:
    router.get("/api/connector").respond(json={"status": "error", "message": "Project lookup failed"})

    with pytest.raises(UpstreamRefusedError, match=r"reported a failure: Project lookup failed\.$"):
        await client.list_connectors(project_id="proj-001")


WRITES_REFUSED = [
    pytest.param(
        "delete_connector",
        {"connector_id": 123, "confirm": True},
        ("DELETE", "/api/connector/123"),
        "The Databasin API reported that the delete of connector 123 failed: Connector is used by 3 pipelines. "
        "It is most likely still there: get_connector(connector_id=123) shows it.",
        id="delete",
    ),
    pytest.param(
        "update_connector",
        {"connector_id": 123, "name": "Renamed"},
        ("PUT", "/api/connector/123"),
        "The Databasin API reported that the update of connector 123 failed: Connector is used by 3 pipelines. "
        "get_connector(connector_id=123) shows its settings now; "
        "fix what the API names and call update_connector again.",
        id="update",
    ),
    pytest.param(
        "create_connector",
        {"name": "New one", "connector_type": "RDBMS", "institution_id": 1, "project_id": "proj-001"},
        ("POST", "/api/connector"),
        "The Databasin API reported that the create failed: Connector is used by 3 pipelines. "
        "Fix what the API names and call create_connector again.",
        id="create",
    ),
    pytest.param(
        "refresh_connector_metadata",
        {"connector_id": 123},
        ("POST", "/api/connector/123/refresh"),
        "The Databasin API reported that the metadata refresh of connector 123 failed: Connector is used by 3 "
        "pipelines. test_connector(connector_id=123) checks that the connector can reach its source.",
        id="refresh",
    ),
]


@pytest.mark.parametrize(("tool", "arguments", "request_line", "expected"), WRITES_REFUSED)
async def test_a_write_refused_in_a_200_body_is_an_error_result(
    router: respx.Router,
    mcp: Client,
    tool: str,
    arguments: dict[str, Any],
    request_line: tuple[str, str],
    expected: str,
) -> None:
    router.get("/api/connector/123").respond(json=CONNECTOR)
    router.get("/api/connector").respond(json=[{**CONNECTOR, "institutionID": 1}])
    method, path = request_line
    write = router.route(method=method, path=path).respond(
        json={"status": "error", "message": "Connector is used by 3 pipelines"}
    )

    result = await mcp.call_tool(tool, arguments)

    assert result.is_error
    assert write.call_count == 1
    assert text_of(result) == expected


# --- slots and actions (finding 9) -------------------------------------------------------------------------------


class HeldUpstream:
    """An upstream whose refresh, test and get answers wait until released; counts what is in flight."""

    def __init__(self) -> None:
        self.release = anyio.Event()
        self.in_flight: dict[str, int] = {}
        self.most: dict[str, int] = {}
        self.arrived: dict[str, anyio.Event] = {}

    def arrival(self, kind: str) -> anyio.Event:
        return self.arrived.setdefault(kind, anyio.Event())

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        kind = request.url.path.rsplit("/", 1)[-1] if request.method == "POST" else "get"
        self.in_flight[kind] = self.in_flight.get(kind, 0) + 1
        self.most[kind] = max(self.most.get(kind, 0), self.in_flight[kind])
        self.arrival(kind).set()
        try:
            if kind != "get":
                await self.release.wait()
            if kind == "test":
                return httpx.Response(200, json={"success": True, "message": "ok"})
            if kind == "refresh":
                return httpx.Response(200, json={"status": "success", "tableCount": 3})
            return httpx.Response(200, json=CONNECTOR)
        finally:
            self.in_flight[kind] -= 1


def held_client(upstream: HeldUpstream, **overrides: Any) -> DatabasinClient:
    values: dict[str, Any] = {"api_url": API, "token": TOKEN, "retry_backoff": 0} | overrides
    return DatabasinClient(Settings(**values), transport=httpx.MockTransport(upstream), sleep=no_sleep)


async def test_long_refreshes_cannot_take_every_slot() -> None:
    upstream = HeldUpstream()
    results: list[Any] = []
    errors: list[BaseException] = []

    async def refresh(client: DatabasinClient) -> None:
        try:
            results.append(await client.refresh_metadata(5))
        except ClientBusyError as error:
            errors.append(error)

    async with held_client(upstream, max_concurrency=2, slot_wait_timeout=30) as client:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(refresh, client)
                tasks.start_soon(refresh, client)
                await upstream.arrival("refresh").wait()
                # Two slots, one refresh running and one waiting: a read still gets through at once.
                assert (await client.get_connector(123)).connectorID == 123
                upstream.release.set()

    assert upstream.most["refresh"] == 1  # with 2 slots, at most 1 goes to long actions
    assert len(results) == 2
    assert errors == []


async def test_waiting_for_a_slot_is_bounded_and_says_which_setting() -> None:
    upstream = HeldUpstream()

    async with held_client(upstream, max_concurrency=1, slot_wait_timeout=0.2) as client:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(client.test_connector, 5)
                await upstream.arrival("test").wait()
                with pytest.raises(ClientBusyError) as caught:
                    await client.get_connector(123)
                upstream.release.set()

    assert "get" not in upstream.most  # nothing was sent
    assert str(caught.value) == (
        "1 request to the Databasin API is already in flight, the most allowed at once "
        "(DATABASIN_MAX_CONCURRENCY=1), and none finished within 0.2 s (DATABASIN_SLOT_WAIT_TIMEOUT). "
        "Nothing was sent; try again in a moment."
    )


async def test_waiting_for_an_action_slot_is_bounded_and_says_which_setting() -> None:
    upstream = HeldUpstream()

    async with held_client(upstream, max_concurrency=8, max_actions=1, slot_wait_timeout=0.2) as client:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(client.refresh_metadata, 5)
                await upstream.arrival("refresh").wait()
                with pytest.raises(ClientBusyError) as caught:
                    await client.test_connector(6)
                upstream.release.set()

    assert "test" not in upstream.most
    assert str(caught.value) == (
        "1 connector test or metadata refresh is already running against the Databasin API, the most allowed "
        "at once (DATABASIN_MAX_ACTIONS=1), and none finished within 0.2 s (DATABASIN_SLOT_WAIT_TIMEOUT). "
        "Nothing was sent; try again when it finishes."
    )


ACTIONS: list[tuple[str, Callable[[DatabasinClient], Awaitable[Any]]]] = [
    ("/api/connector/5/refresh", lambda c: c.refresh_metadata(5)),
    ("/api/connector/5/test", lambda c: c.test_connector(5)),
]


@pytest.mark.parametrize(("path", "act"), ACTIONS, ids=["refresh", "test"])
async def test_a_timed_out_action_is_sent_once(
    router: respx.Router, path: str, act: Callable[[DatabasinClient], Awaitable[Any]]
) -> None:
    route = router.post(path).mock(side_effect=httpx.ReadTimeout("slow"))

    async with make_client(router) as client:
        with pytest.raises(UpstreamTimeoutError):
            await act(client)
    assert route.call_count == 1


@pytest.mark.parametrize(("path", "act"), ACTIONS, ids=["refresh", "test"])
async def test_an_action_answered_5xx_is_sent_once(
    router: respx.Router, path: str, act: Callable[[DatabasinClient], Awaitable[Any]]
) -> None:
    route = router.post(path).mock(side_effect=[httpx.Response(502), httpx.Response(200, json={"success": True})])

    async with make_client(router) as client:
        with pytest.raises(ServerError, match="502 Bad Gateway"):
            await act(client)
    assert route.call_count == 1


@pytest.mark.parametrize(("path", "act"), ACTIONS, ids=["refresh", "test"])
async def test_an_action_refused_before_sending_is_sent_again(
    router: respx.Router, path: str, act: Callable[[DatabasinClient], Awaitable[Any]]
) -> None:
    route = router.post(path).mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={"success": True, "tableCount": 1})]
    )

    async with make_client(router) as client:
        await act(client)
    assert route.call_count == 2


async def test_a_timed_out_refresh_says_it_was_sent_once(router: respx.Router, mcp: Client) -> None:
    router.post("/api/connector/5/refresh").mock(side_effect=httpx.ReadTimeout("slow"))

    result = await mcp.call_tool("refresh_connector_metadata", {"connector_id": 5})

    assert result.is_error
    assert text_of(result) == (
        "The Databasin API at http://api.test did not answer in time. The refresh was sent once and may still be "
        "running: wait a few minutes, then check with list_catalogs(connector_id=5) before refreshing again."
    )


async def test_a_timed_out_test_says_it_was_not_repeated(router: respx.Router, mcp: Client) -> None:
    router.post("/api/connector/5/test").mock(side_effect=httpx.ReadTimeout("slow"))

    result = await mcp.call_tool("test_connector", {"connector_id": 5})

    assert result.is_error
    assert text_of(result) == (
        "The Databasin API at http://api.test did not answer in time. The test was sent once and not repeated; "
        "call test_connector again to retry."
    )


# --- what a 2xx or a redirect means for the agent (finding 17) ----------------------------------------------------


async def test_a_create_answered_200_with_a_body_that_is_not_json_may_have_created(
    router: respx.Router, mcp: Client
) -> None:
    router.get("/api/connector").respond(json=[{**CONNECTOR, "institutionID": 1}])
    create = router.post("/api/connector").respond(200, content=b"<html>Created</html>")

    result = await mcp.call_tool(
        "create_connector",
        {"name": "New one", "connector_type": "RDBMS", "institution_id": 1, "project_id": "proj-001"},
    )

    assert result.is_error
    assert create.call_count == 1
    assert text_of(result).startswith("The Databasin API answered 200 with a body that is not valid JSON: ")
    assert text_of(result).endswith(
        " The API accepted the request, so the connector was probably created: "
        "check with find_connectors(query='New one') before creating it again."
    )


async def test_an_update_answered_200_with_a_body_that_is_not_json_was_probably_applied(
    router: respx.Router, mcp: Client
) -> None:
    router.get("/api/connector/123").respond(json=CONNECTOR)
    router.put("/api/connector/123").respond(200, content=b"<html>OK</html>")

    result = await mcp.call_tool("update_connector", {"connector_id": 123, "name": "Renamed"})

    assert result.is_error
    assert text_of(result).endswith(
        " The API accepted the request, so the change was probably applied: check with get_connector(connector_id=123)."
    )


@pytest.mark.parametrize(
    ("status", "location", "said"),
    [
        pytest.param(
            301,
            "https://api.test/api/connector?internalID=x",
            "Databasin API error 301 Moved Permanently: it redirects to https://api.test/api/connector. "
            "Set DATABASIN_API_URL to https://api.test (the base URL that redirect points to).",
            id="http to https",
        ),
        pytest.param(
            308,
            "/databasin/api/connector",
            "Databasin API error 308 Permanent Redirect: it redirects to http://api.test/databasin/api/connector. "
            "Set DATABASIN_API_URL to http://api.test/databasin (the base URL that redirect points to).",
            id="relative, with a path prefix",
        ),
        pytest.param(
            302,
            "https://user:secret-pw@login.example.com/sso?token=abc#frag",
            "Databasin API error 302 Found: it redirects to https://login.example.com/sso. "
            "DATABASIN_API_URL is probably not the Databasin API's base URL.",
            id="elsewhere, credentials and query dropped",
        ),
        pytest.param(
            307,
            None,
            "Databasin API error 307 Temporary Redirect, without a usable Location. "
            "DATABASIN_API_URL is probably not the Databasin API's base URL.",
            id="no location",
        ),
    ],
)
async def test_a_redirect_says_where_it_points_and_what_to_set(
    router: respx.Router, client: DatabasinClient, status: int, location: str | None, said: str
) -> None:
    headers = {"Location": location} if location else {}
    route = router.get("/api/connector").respond(status, headers=headers)

    with pytest.raises(RedirectError) as caught:
        await client.list_connectors()

    assert route.call_count == 1
    assert str(caught.value) == said
    assert "secret-pw" not in str(caught.value)
    assert "token=abc" not in str(caught.value)


@pytest.mark.parametrize(
    ("location", "said"),
    [
        pytest.param(
            b"https://api.test/x\x1b[2J/api/connector",
            "redirects to https://api.test/x%1B%5B2J/api/connector",
            id="escape",
        ),
        pytest.param(b"http://[::1", "without a usable Location", id="broken host"),
        pytest.param(b"http://api.test:99999/api/connector", "without a usable Location", id="port out of range"),
        pytest.param(
            "https://api.test/a b\u2028c/api/connector".encode(),
            "redirects to https://api.test/a%20b%E2%80%A8c/api/connector",
            id="space and line separator",
        ),
    ],
)
async def test_a_malformed_redirect_location_is_not_echoed_raw(
    router: respx.Router, client: DatabasinClient, location: bytes, said: str
) -> None:
    route = router.get("/api/connector").mock(return_value=httpx.Response(301, headers=[(b"Location", location)]))

    with pytest.raises(RedirectError) as caught:
        await client.list_connectors()
    assert route.call_count == 1  # an answer, not a dropped connection: not sent again
    assert said in str(caught.value)
    assert "\x1b" not in str(caught.value)
    assert "\u2028" not in str(caught.value)


async def test_a_bad_response_on_a_read_keeps_its_message(router: respx.Router, client: DatabasinClient) -> None:
    router.get("/api/connector/1").respond(200, content=b"not json")

    with pytest.raises(BadResponseError, match="not valid JSON"):
        await client.get_connector(1)


async def test_no_slot_for_a_retry_reports_the_failure_that_may_have_changed_something() -> None:
    """A PUT timed out (it may have been applied); its retry then finds no slot: the timeout is what matters."""
    upstream = HeldUpstream()
    get_arrived = upstream.arrival("get")

    async def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            raise httpx.ReadTimeout("slow", request=request)
        upstream.arrival("get").set()
        await upstream.release.wait()  # holds the only slot
        return httpx.Response(200, json=CONNECTOR)

    async def backoff_while_a_read_takes_the_slot(seconds: float) -> None:
        tasks.start_soon(client.get_connector, 123)
        await get_arrived.wait()

    settings = Settings(api_url=API, token=TOKEN, max_concurrency=1, slot_wait_timeout=0.2)
    client = DatabasinClient(settings, transport=httpx.MockTransport(answer), sleep=backoff_while_a_read_takes_the_slot)
    async with client, anyio.create_task_group() as tasks:
        with anyio.fail_after(10), pytest.raises(UpstreamTimeoutError):
            await client.update_connector(123, ConnectorChanges(name="n"))
        upstream.release.set()


async def test_a_token_file_that_cannot_be_read_says_so(
    router: respx.Router, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / ".token"
    token_file.write_text("tok-locked-1\n")
    opened = Path.open

    def locked(path: Path, *args: Any, **kwargs: Any) -> Any:
        if path == token_file:
            raise PermissionError(13, "Permission denied")  # what chmod 000 gives anyone but root
        return opened(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", locked)
    route = router.route().respond(json=[])

    async with make_client(router, token=None, token_file=token_file) as client:
        with pytest.raises(InvalidTokenError) as caught:
            await client.list_connectors()
    assert route.call_count == 0
    assert str(caught.value) == (
        f"The Databasin API token in the token file {token_file} cannot be sent: the file cannot be read "
        "(PermissionError). Nothing was sent. Put the token alone on one line in that file; it is read again on "
        "the next call."
    )


async def test_a_create_reported_failed_but_naming_an_id_says_to_look_first(router: respx.Router, mcp: Client) -> None:
    router.get("/api/connector").respond(json=[{**CONNECTOR, "institutionID": 1}])
    create = router.post("/api/connector").respond(
        json={"connectorID": 790, "status": "error", "message": "Connection test failed"}
    )

    result = await mcp.call_tool(
        "create_connector",
        {"name": "New one", "connector_type": "RDBMS", "institution_id": 1, "project_id": "proj-001"},
    )

    assert result.is_error
    assert create.call_count == 1
    assert text_of(result) == (
        "The Databasin API reported that the create failed: Connection test failed, yet its answer names connector "
        "790: check with get_connector(connector_id=790) before creating it again."
    )
