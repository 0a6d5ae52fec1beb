"""The Databasin client against respx: request shapes, parsing, errors, retries, rate limits, secrets."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from databasin_mcp.client import DatabasinClient
from databasin_mcp.config import Settings
from databasin_mcp.errors import (
    AuthenticationError,
    BadRequestError,
    BadResponseError,
    MissingTokenError,
    NotFoundError,
    RateLimitError,
    ResponseTooLargeError,
    ServerError,
    TransportError,
    UpstreamTimeoutError,
)
from databasin_mcp.models import ConnectorChanges, SkippedRecord, skipped_of
from databasin_mcp.tokens import TokenSource

from .reference import CREATE_BODY

pytestmark = pytest.mark.anyio

API = "http://api.test"
TOKEN = "tok-abcdef123456"
CONNECTOR = {
    "connectorID": 123,
    "connectorName": "Production MySQL",
    "connectorType": "RDBMS",
    "connectorHost": "mysql.example.com",
    "connectorPort": "3306",
    "connectorDatabaseName": "analytics",
    "institutionID": 1,
    "internalID": "proj-001",
    "ownerID": 456,
    "active": True,
    "createdDate": "2025-01-15T10:30:00Z",
    "lastModifiedDate": "2025-01-20T14:45:00Z",
}


class SleepRecorder:
    """Stands in for anyio.sleep: records what the client asked for and returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def router() -> respx.Router:
    return respx.Router(base_url=API, assert_all_called=False)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def make_client(router: respx.Router, sleeps: SleepRecorder, **overrides: Any) -> DatabasinClient:
    values: dict[str, Any] = {"api_url": API, "token": TOKEN, "retry_backoff": 0.25} | overrides
    return DatabasinClient(
        Settings(**values),
        transport=httpx.MockTransport(router.async_handler),
        sleep=sleeps,
        clock=lambda: 1_700_000_000.0,
    )


@pytest.fixture
async def client(router: respx.Router, sleeps: SleepRecorder) -> AsyncIterator[DatabasinClient]:
    async with make_client(router, sleeps) as c:
        yield c


def error_body(status: int, error: str, message: str) -> dict[str, Any]:
    return {"error": error, "message": message, "status": status}


# --- request shapes and parsed responses, one per endpoint ---------------------------------


async def test_list_connectors_sends_filters_and_bearer_token(router: respx.Router, client: DatabasinClient) -> None:
    route = router.get("/api/connector").respond(json=[CONNECTOR])

    connectors = await client.list_connectors(institution_id=1, project_id="proj-001")

    assert route.call_count == 1
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert dict(request.url.params) == {"institutionID": "1", "internalID": "proj-001"}
    assert [c.connectorName for c in connectors] == ["Production MySQL"]
    assert connectors[0].connectorPort == "3306"


async def test_list_connectors_without_filters_sends_no_query(router: respx.Router, client: DatabasinClient) -> None:
    route = router.get("/api/connector").respond(json=[])

    assert await client.list_connectors() == []
    assert route.calls.last.request.url.query == b""


async def test_get_connector_keeps_unknown_fields(router: respx.Router, client: DatabasinClient) -> None:
    router.get("/api/connector/123").respond(json={**CONNECTOR, "connectorUsername": "u", "notes": "long text"})

    connector = await client.get_connector(123)

    assert connector.connectorID == 123
    assert connector.connectorUsername == "u"
    assert connector.extra_fields() == {"notes": "long text"}


async def test_create_connector_posts_api_field_names(router: respx.Router, client: DatabasinClient) -> None:
    route = router.post("/api/connector").respond(
        json={"connectorID": 789, "message": "Connector created successfully", "status": "success"}
    )
    changes = ConnectorChanges(
        name="Production MySQL",
        connector_type="RDBMS",
        host="mysql.example.com",
        port="3306",
        database="analytics",
        username="databasin_user",
        password="secure_password",
        auth_type=2,
        institution_id=1,
        project_id="proj-001",
        owner_id=456,
    )

    result = await client.create_connector(changes)

    assert json.loads(route.calls.last.request.content) == CREATE_BODY  # exactly the reference's example
    assert result.connectorID == 789
    assert result.status == "success"


async def test_update_connector_sends_only_the_given_fields(router: respx.Router, client: DatabasinClient) -> None:
    route = router.put("/api/connector/123").respond(
        json={"connectorID": 123, "message": "Connector updated successfully", "status": "success"}
    )

    result = await client.update_connector(123, ConnectorChanges(name="Renamed", max_connections=16))

    assert json.loads(route.calls.last.request.content) == {"connectorName": "Renamed", "connectorMaxConnections": 16}
    assert result.message == "Connector updated successfully"


async def test_delete_connector(router: respx.Router, client: DatabasinClient) -> None:
    route = router.delete("/api/connector/123").respond(
        json={"message": "Connector deleted successfully", "status": "success"}
    )

    result = await client.delete_connector(123)

    assert route.call_count == 1
    assert result.status == "success"


async def test_delete_connector_accepts_an_empty_204(router: respx.Router, client: DatabasinClient) -> None:
    router.delete("/api/connector/123").respond(204)

    result = await client.delete_connector(123)

    assert result.status is None


async def test_test_connector_posts_an_empty_object(router: respx.Router, client: DatabasinClient) -> None:
    route = router.post("/api/connector/123/test").respond(
        json={
            "success": False,
            "status": "error",
            "message": "Connection failed: Access denied for user 'databasin_user'@'10.0.0.5'",
            "error": "Authentication failure",
        }
    )

    result = await client.test_connector(123)

    assert route.calls.last.request.content == b"{}"
    assert result.success is False
    assert result.error == "Authentication failure"


async def test_refresh_parses_the_reference_body_with_thousands_separators(
    router: respx.Router, client: DatabasinClient
) -> None:
    # Verbatim from the API reference: not valid JSON, because of `1,234`.
    body = (
        b'{\n  "message": "Metadata refresh initiated",\n  "status": "success",\n'
        b'  "catalogCount": 5,\n  "schemaCount": 42,\n  "tableCount": 1,234\n}'
    )
    route = router.post("/api/connector/123/refresh").respond(content=body)

    result = await client.refresh_metadata(123)

    assert route.calls.last.request.content == b"{}"
    assert (result.catalogCount, result.schemaCount, result.tableCount) == (5, 42, 1234)


async def test_grouped_number_repair_leaves_strings_alone(router: respx.Router, client: DatabasinClient) -> None:
    router.post("/api/connector/123/refresh").respond(
        content=b'{"message": "counted: 1,234, ok", "tableCount": 1,234,567, "schemaCount": 2}'
    )

    result = await client.refresh_metadata(123)

    assert result.message == "counted: 1,234, ok"
    assert (result.tableCount, result.schemaCount) == (1234567, 2)


async def test_metadata_endpoints_send_names_as_encoded_query_parameters(
    router: respx.Router, client: DatabasinClient
) -> None:
    catalogs = router.get("/api/connector/7/catalogs").respond(json=[{"catalogName": "analytics_prod"}])
    schemas = router.get("/api/connector/7/schemas").respond(json=[{"schemaName": "public", "description": "d"}])
    tables = router.get("/api/connector/7/tables").respond(
        json=[{"tableName": "customers", "tableType": "TABLE", "rowCount": 125000, "sizeInBytes": 52428800}]
    )
    columns = router.get("/api/connector/7/columns").respond(
        json=[{"columnName": "customer_id", "dataType": "INT", "isNullable": False, "isPrimaryKey": True}]
    )
    odd = "a/../b?c#d %2F"

    assert [c.catalogName for c in await client.list_catalogs(7)] == ["analytics_prod"]
    assert [s.schemaName for s in await client.list_schemas(7, catalog=odd)] == ["public"]
    assert [t.rowCount for t in await client.list_tables(7, catalog="c", schema=odd)] == [125000]
    assert [c.isPrimaryKey for c in await client.list_columns(7, table=odd, schema="s")] == [True]

    assert catalogs.calls.last.request.url.query == b""
    assert schemas.calls.last.request.url.params["catalog"] == odd
    assert tables.calls.last.request.url.params["schema"] == odd
    raw_query = columns.calls.last.request.url.query.decode()
    assert "table=a%2F..%2Fb%3Fc%23d+%252F" in raw_query
    assert columns.calls.last.request.url.path == "/api/connector/7/columns"


@pytest.mark.parametrize("bad_id", [0, -1, 2**63, True, "12", "1/../2"])
async def test_connector_ids_are_checked_before_any_request(
    router: respx.Router, client: DatabasinClient, bad_id: Any
) -> None:
    route = router.route().respond(json={})

    with pytest.raises(ValueError, match="connector_id must be a positive integer"):
        await client.get_connector(bad_id)
    assert route.call_count == 0


# --- the real backend's looser shapes ------------------------------------------------------


async def test_string_ids_and_the_three_ways_of_saying_active(router: respx.Router, client: DatabasinClient) -> None:
    router.get("/api/connector").respond(
        json=[
            {"connectorID": "101", "isActive": 1},
            {"connectorID": "102", "isActive": 0},
            {"connectorID": 103, "connectorHealthStatus": "inactive"},
            {"connectorID": 104, "connectorHealthStatus": "error"},
            {"connectorID": 105, "connectorPort": 5432},
        ]
    )

    connectors = await client.list_connectors()

    assert [c.connectorID for c in connectors] == [101, 102, 103, 104, 105]
    assert [c.active for c in connectors] == [True, False, False, None, None]
    assert connectors[4].connectorPort == "5432"


async def test_double_encoded_json_is_decoded(router: respx.Router, client: DatabasinClient) -> None:
    router.get("/api/connector/123").respond(json=json.dumps(CONNECTOR))

    assert (await client.get_connector(123)).connectorName == "Production MySQL"


async def test_list_envelopes_are_unwrapped(router: respx.Router, client: DatabasinClient) -> None:
    router.get("/api/connector").respond(json={"data": [CONNECTOR], "total": 1})

    assert [c.connectorID for c in await client.list_connectors()] == [123]


async def test_a_record_without_its_id_is_left_out_and_counted(
    router: respx.Router, client: DatabasinClient, caplog: pytest.LogCaptureFixture
) -> None:
    router.get("/api/connector").respond(json=[{"connectorName": "x", "internalID": "proj-001"}, CONNECTOR])

    connectors = await client.list_connectors()

    assert [c.connectorID for c in connectors] == [123]
    assert skipped_of(connectors) == [SkippedRecord(0, ("connectorID",), project="proj-001")]
    assert "connectors[0].connectorID: Field required." in caplog.text


async def test_a_single_record_without_its_id_is_a_bad_response_naming_the_field(
    router: respx.Router, client: DatabasinClient
) -> None:
    router.get("/api/connector/123").respond(json={"connectorName": "x"})

    with pytest.raises(BadResponseError) as caught:
        await client.get_connector(123)
    assert (
        str(caught.value) == "The Databasin API sent a connector this client cannot read: connectorID: Field required."
    )


# --- error statuses --------------------------------------------------------------------------


async def test_400_carries_the_upstream_message(router: respx.Router, client: DatabasinClient) -> None:
    router.post("/api/connector").respond(
        400, json=error_body(400, "Bad Request", "Missing required field: connectorName")
    )

    with pytest.raises(BadRequestError) as caught:
        await client.create_connector(ConnectorChanges(connector_type="RDBMS"))
    assert caught.value.upstream_message == "Missing required field: connectorName"
    assert str(caught.value) == "Databasin API error 400 Bad Request: Missing required field: connectorName."


async def test_404_is_not_retried(router: respx.Router, client: DatabasinClient) -> None:
    route = router.get("/api/connector/999").respond(
        404, json=error_body(404, "Not Found", "Connector with ID 999 not found")
    )

    with pytest.raises(NotFoundError) as caught:
        await client.get_connector(999)
    assert route.call_count == 1
    assert caught.value.status_code == 404
    assert caught.value.upstream_message == "Connector with ID 999 not found"


async def test_html_502_gives_status_and_a_short_excerpt(router: respx.Router, sleeps: SleepRecorder) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1>" + "<p>nginx</p>" * 100 + "</body></html>"
    router.get("/api/connector/1").respond(502, text=page, headers={"Content-Type": "text/html"})

    async with make_client(router, sleeps, max_attempts=1) as client:
        with pytest.raises(ServerError) as caught:
            await client.get_connector(1)
    message = str(caught.value)
    assert message.startswith("Databasin API error 502 Bad Gateway (not a JSON body): 502 Bad Gateway nginx nginx")
    assert "<" not in message
    assert len(message.split(": ", 1)[1]) <= 200


async def test_empty_502_still_says_what_happened(router: respx.Router, sleeps: SleepRecorder) -> None:
    router.get("/api/connector/1").respond(502)

    async with make_client(router, sleeps, max_attempts=1) as client:
        with pytest.raises(ServerError, match=r"^Databasin API error 502 Bad Gateway \(empty body\)\.$"):
            await client.get_connector(1)


async def test_invalid_json_on_200_is_a_bad_response_with_an_excerpt(
    router: respx.Router, client: DatabasinClient
) -> None:
    router.get("/api/connector/1").respond(200, content=b'{"connectorID": 1, "connectorName": ')

    with pytest.raises(BadResponseError) as caught:
        await client.get_connector(1)
    assert str(caught.value) == (
        'The Databasin API answered 200 with a body that is not valid JSON: {"connectorID": 1, "connectorName":'
    )


async def test_a_list_endpoint_answering_an_object_is_a_bad_response(
    router: respx.Router, client: DatabasinClient
) -> None:
    router.get("/api/connector/1/tables").respond(json={"unexpected": True})

    with pytest.raises(BadResponseError, match="answered with dict where a list of tables was expected"):
        await client.list_tables(1)


# --- retries ---------------------------------------------------------------------------------


async def test_get_retries_5xx_then_succeeds(
    router: respx.Router, client: DatabasinClient, sleeps: SleepRecorder
) -> None:
    route = router.get("/api/connector/1").mock(
        side_effect=[httpx.Response(500, json={}), httpx.Response(503), httpx.Response(200, json=CONNECTOR)]
    )

    connector = await client.get_connector(1)

    assert connector.connectorID == 123
    assert route.call_count == 3
    # Full jitter: each wait is drawn below a doubling ceiling (0.25 s, then 0.5 s).
    assert len(sleeps.calls) == 2
    assert 0 <= sleeps.calls[0] <= 0.25
    assert 0 <= sleeps.calls[1] <= 0.5


async def test_get_gives_up_after_three_attempts(router: respx.Router, client: DatabasinClient) -> None:
    route = router.get("/api/connector/1").respond(500, json=error_body(500, "Internal Server Error", "boom"))

    with pytest.raises(ServerError, match=r"Databasin API error 500 Internal Server Error: boom\."):
        await client.get_connector(1)
    assert route.call_count == 3


async def test_max_attempts_is_configurable(router: respx.Router, sleeps: SleepRecorder) -> None:
    route = router.get("/api/connector/1").respond(503)

    async with make_client(router, sleeps, max_attempts=5) as client:
        with pytest.raises(ServerError):
            await client.get_connector(1)
    assert route.call_count == 5


async def test_create_is_not_retried_after_a_500(router: respx.Router, client: DatabasinClient) -> None:
    route = router.post("/api/connector").mock(
        side_effect=[httpx.Response(500), httpx.Response(200, json={"connectorID": 1})]
    )

    with pytest.raises(ServerError):
        await client.create_connector(ConnectorChanges(name="x"))
    assert route.call_count == 1


async def test_create_is_not_retried_after_a_read_timeout(router: respx.Router, client: DatabasinClient) -> None:
    route = router.post("/api/connector").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json={"connectorID": 1})]
    )

    with pytest.raises(UpstreamTimeoutError, match=r"^The Databasin API at http://api.test did not answer in time\.$"):
        await client.create_connector(ConnectorChanges(name="x"))
    assert route.call_count == 1


async def test_create_is_not_retried_after_the_connection_dropped(
    router: respx.Router, client: DatabasinClient
) -> None:
    route = router.post("/api/connector").mock(
        side_effect=[httpx.RemoteProtocolError("peer closed"), httpx.Response(200)]
    )

    with pytest.raises(TransportError, match=r"failed mid-request \(RemoteProtocolError\)"):
        await client.create_connector(ConnectorChanges(name="x"))
    assert route.call_count == 1


async def test_create_is_retried_when_the_connection_was_refused_before_sending(
    router: respx.Router, client: DatabasinClient
) -> None:
    route = router.post("/api/connector").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json={"connectorID": 789})]
    )

    result = await client.create_connector(ConnectorChanges(name="x"))

    assert result.connectorID == 789
    assert route.call_count == 2


async def test_put_retries_a_read_timeout(router: respx.Router, client: DatabasinClient) -> None:
    route = router.put("/api/connector/1").mock(
        side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json={"connectorID": 1, "status": "success"})]
    )

    assert (await client.update_connector(1, ConnectorChanges(name="n"))).status == "success"
    assert route.call_count == 2


async def test_test_and_refresh_posts_are_not_sent_again_after_a_5xx(
    router: respx.Router, client: DatabasinClient
) -> None:
    # A 502 may come from a gateway while the API still runs the test or refresh: a second POST would overlap it.
    test = router.post("/api/connector/1/test").mock(
        side_effect=[httpx.Response(502), httpx.Response(200, json={"success": True})]
    )
    refresh = router.post("/api/connector/1/refresh").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json={"tableCount": 3})]
    )

    with pytest.raises(ServerError):
        await client.test_connector(1)
    with pytest.raises(ServerError):
        await client.refresh_metadata(1)
    assert (test.call_count, refresh.call_count) == (1, 1)


async def test_connection_refused_everywhere_names_the_api_url_without_credentials(
    router: respx.Router, sleeps: SleepRecorder
) -> None:
    route = router.route().mock(
        side_effect=httpx.ConnectError("[Errno 111] Connection refused to http://u:pw@api.test")
    )

    async with make_client(router, sleeps, api_url="http://user:pw@api.test") as client:
        with pytest.raises(TransportError) as caught:
            await client.list_connectors()
    assert str(caught.value) == (
        "Could not connect to the Databasin API at http://api.test (refused or unreachable). "
        "Check DATABASIN_API_URL and that the API is up."
    )
    assert route.call_count == 3


# --- auth --------------------------------------------------------------------------------------


async def test_401_rereads_a_rotated_token_file_and_retries_once(
    router: respx.Router, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    token_file = tmp_path / "rotating.token"
    token_file.write_text("old-token-1111\n")

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer new-token-2222":
            return httpx.Response(200, json=[CONNECTOR])
        token_file.write_text("  new-token-2222  \n")  # rotated while the request was in flight
        return httpx.Response(401, json=error_body(401, "Unauthorized", "Invalid or expired authentication token"))

    route = router.get("/api/connector").mock(side_effect=answer)
    async with make_client(router, sleeps, token=None, token_file=token_file) as client:
        connectors = await client.list_connectors()

    assert len(connectors) == 1
    assert [call.request.headers["Authorization"] for call in route.calls] == [
        "Bearer old-token-1111",
        "Bearer new-token-2222",
    ]


async def test_401_with_an_unchanged_token_names_the_source_not_the_token(
    router: respx.Router, sleeps: SleepRecorder, tmp_path: Path
) -> None:
    token_file = tmp_path / ".token"
    token_file.write_text("stale-token-3333")
    route = router.get("/api/connector").respond(
        401, json=error_body(401, "Unauthorized", "Invalid or expired authentication token")
    )

    async with make_client(router, sleeps, token=None, token_file=token_file) as client:
        with pytest.raises(AuthenticationError) as caught:
            await client.list_connectors()

    assert route.call_count == 1
    assert str(caught.value) == (
        f"The Databasin API refused the token from the token file {token_file} "
        "(401: Invalid or expired authentication token). Put a valid token there."
    )
    assert "stale-token-3333" not in str(caught.value)


async def test_token_from_the_environment_is_named_by_its_variable(
    router: respx.Router, client: DatabasinClient
) -> None:
    router.get("/api/connector").respond(401, json=error_body(401, "Unauthorized", "Invalid token"))

    with pytest.raises(AuthenticationError, match="token from the DATABASIN_TOKEN environment variable"):
        await client.list_connectors()


async def test_missing_token_fails_before_any_request_and_says_where_it_looked(
    router: respx.Router, sleeps: SleepRecorder, isolated_environment: Path
) -> None:
    route = router.route().respond(json=[])

    async with make_client(router, sleeps, token=None) as client:
        with pytest.raises(MissingTokenError) as caught:
            await client.list_connectors()

    assert route.call_count == 0
    home = Path.home()
    assert str(caught.value) == (
        f"No Databasin API token found: DATABASIN_TOKEN is not set and there is no token in "
        f"{isolated_environment / '.token'} and {home / '.databasin' / '.token'}. "
        f"Set DATABASIN_TOKEN, or save the token to {home / '.databasin' / '.token'}."
    )


async def test_a_token_file_created_after_start_is_picked_up(
    router: respx.Router, sleeps: SleepRecorder, isolated_environment: Path
) -> None:
    route = router.get("/api/connector").respond(json=[])

    async with make_client(router, sleeps, token=None) as client:
        with pytest.raises(MissingTokenError):
            await client.list_connectors()
        (isolated_environment / ".token").write_text("late-token-4444\n")
        await client.list_connectors()

    assert route.calls.last.request.headers["Authorization"] == "Bearer late-token-4444"


def test_token_lookup_order(tmp_path: Path) -> None:
    cwd, home = tmp_path / "cwd", tmp_path / "home"
    (home / ".databasin").mkdir(parents=True)
    cwd.mkdir()
    (home / ".databasin" / ".token").write_text("home-token")
    source = TokenSource(env_token=None, explicit_file=None, cwd=cwd, home=home)
    assert source.read() is not None
    assert source.read().value == "home-token"  # type: ignore[union-attr]

    (cwd / ".token").write_text("cwd-token")
    assert source.read().value == "cwd-token"  # type: ignore[union-attr]

    explicit = TokenSource(env_token=None, explicit_file=tmp_path / "missing", cwd=cwd, home=home)
    assert explicit.read() is None  # an explicit file does not fall back to another one

    env = TokenSource(env_token="env-token", explicit_file=tmp_path / "missing", cwd=cwd, home=home)
    assert env.read().value == "env-token"  # type: ignore[union-attr]


# --- rate limits -------------------------------------------------------------------------------


async def test_rate_limit_headers_are_remembered(router: respx.Router, client: DatabasinClient) -> None:
    router.get("/api/connector").respond(
        json=[],
        headers={"X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "999", "X-RateLimit-Reset": "1640995200"},
    )

    await client.list_connectors()

    assert client.rate_limit is not None
    assert (client.rate_limit.limit, client.rate_limit.remaining, client.rate_limit.reset_at) == (
        1000,
        999,
        1640995200.0,
    )


async def test_429_with_a_short_retry_after_is_waited_out(
    router: respx.Router, client: DatabasinClient, sleeps: SleepRecorder
) -> None:
    route = router.get("/api/connector").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "2"}),
            httpx.Response(429, headers={"Retry-After": "1"}),
            httpx.Response(429, headers={"Retry-After": "1"}),
            httpx.Response(200, json=[CONNECTOR]),
        ]
    )

    assert len(await client.list_connectors()) == 1
    assert route.call_count == 4
    assert sleeps.calls == [2.0, 1.0, 1.0]


async def test_429_with_a_short_reset_header_is_waited_out(
    router: respx.Router, client: DatabasinClient, sleeps: SleepRecorder
) -> None:
    # The clock says 1,700,000,000: the window resets 3 s later (epoch seconds, as in the reference).
    route = router.get("/api/connector").mock(
        side_effect=[
            httpx.Response(429, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1700000003"}),
            httpx.Response(200, json=[]),
        ]
    )

    await client.list_connectors()

    assert route.call_count == 2
    assert sleeps.calls == [3.0]


async def test_429_with_a_long_reset_raises_and_says_when(
    router: respx.Router, client: DatabasinClient, sleeps: SleepRecorder
) -> None:
    route = router.get("/api/connector").respond(
        429, json=error_body(429, "Too Many Requests", "Rate limit exceeded"), headers={"Retry-After": "120"}
    )

    with pytest.raises(RateLimitError) as caught:
        await client.list_connectors()

    assert route.call_count == 1
    assert sleeps.calls == []
    assert caught.value.retry_after == 120.0
    assert str(caught.value) == (
        "The Databasin API is rate limiting this token; try again in 120 s (at 2023-11-14T22:15:20Z)."
    )


async def test_429_waits_add_up_to_the_cap(
    router: respx.Router, client: DatabasinClient, sleeps: SleepRecorder
) -> None:
    route = router.get("/api/connector").respond(429, headers={"Retry-After": "4"})

    with pytest.raises(RateLimitError):
        await client.list_connectors()

    assert sleeps.calls == [4.0, 4.0]  # a third 4 s wait would pass the 10 s cap
    assert route.call_count == 3


async def test_a_rate_limited_create_is_retried_because_it_was_refused(
    router: respx.Router, client: DatabasinClient
) -> None:
    route = router.post("/api/connector").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json={"connectorID": 5})]
    )

    assert (await client.create_connector(ConnectorChanges(name="x"))).connectorID == 5
    assert route.call_count == 2


# --- size cap ----------------------------------------------------------------------------------


async def test_a_declared_oversized_body_is_refused_unread(router: respx.Router, sleeps: SleepRecorder) -> None:
    router.get("/api/connector").respond(200, content=b"[]", headers={"Content-Length": "50000000"})

    async with make_client(router, sleeps, max_response_bytes=20_000_000) as client:
        with pytest.raises(ResponseTooLargeError) as caught:
            await client.list_connectors()
    assert str(caught.value) == (
        "The Databasin API answer is larger than the 20 MB cap (50.0 MB); it was not read. "
        "Ask for less (filter by project, catalog or schema)."
    )


async def test_a_streamed_oversized_body_is_cut_off_while_reading(router: respx.Router, sleeps: SleepRecorder) -> None:
    chunks_sent = 0

    async def endless() -> Any:
        nonlocal chunks_sent
        yield b"["
        for _ in range(10_000):
            chunks_sent += 1
            yield b'{"tableName": "t"},' * 100

    router.get("/api/connector/1/tables").respond(200, content=endless())

    async with make_client(router, sleeps, max_response_bytes=100_000) as client:
        with pytest.raises(ResponseTooLargeError, match=r"larger than the 0\.1 MB cap; it was not read"):
            await client.list_tables(1)
    assert chunks_sent < 100  # stopped reading near the cap, not at the end


# --- secrets -------------------------------------------------------------------------------------


async def test_secrets_sent_by_the_upstream_never_reach_a_return_value(
    router: respx.Router, client: DatabasinClient
) -> None:
    leaky = {
        **CONNECTOR,
        "connectorPassword": "hunter2-secret",
        "apiSecret": "s3cr3t-value",
        "options": {"privateKey": "-----BEGIN KEY-----", "jdbcUrl": "postgresql://bob:hunter2-secret@db:5432/x"},
    }
    router.get("/api/connector/123").respond(json=leaky)

    connector = await client.get_connector(123)

    dumped = connector.model_dump_json()
    for secret in ("hunter2-secret", "s3cr3t-value", "BEGIN KEY", "connectorPassword", "apiSecret"):
        assert secret not in dumped
    assert connector.extra_fields() == {"options": {"jdbcUrl": "postgresql://bob:***@db:5432/x"}}


async def test_an_echoed_password_never_reaches_an_exception_or_the_logs(
    router: respx.Router, client: DatabasinClient, caplog: pytest.LogCaptureFixture
) -> None:
    router.put("/api/connector/5").respond(
        400, json=error_body(400, "Bad Request", "Password 'pa55-w0rd-x' is too weak for jdbc://a:pa55-w0rd-x@h")
    )
    caplog.set_level(logging.DEBUG)

    with pytest.raises(BadRequestError) as caught:
        await client.update_connector(5, ConnectorChanges(password="pa55-w0rd-x"))

    assert "pa55-w0rd-x" not in str(caught.value)
    assert "pa55-w0rd-x" not in (caught.value.upstream_message or "")
    assert str(caught.value) == "Databasin API error 400 Bad Request: Password *** is too weak for jdbc://a:***@h."
    assert "pa55-w0rd-x" not in caplog.text
    assert TOKEN not in caplog.text
    assert "PUT /api/connector/5 -> 400" in caplog.text


async def test_the_password_is_not_in_the_request_model_repr() -> None:
    changes = ConnectorChanges(password="pa55-w0rd-x")
    assert "pa55-w0rd-x" not in repr(changes)
    assert changes.to_body() == {"connectorPassword": "pa55-w0rd-x"}


# --- lifecycle ---------------------------------------------------------------------------------


async def test_one_pooled_http_client_for_all_requests(router: respx.Router, sleeps: SleepRecorder) -> None:
    router.get("/api/connector").respond(json=[])
    client = make_client(router, sleeps)

    async with client:
        assert client._http is None  # made by the first request, not at start-up
        await client.list_connectors()
        http = client._http
        assert http is not None
        await client.list_connectors()
        assert client._http is http
    assert client._http is None
    with pytest.raises(RuntimeError, match="not open"):
        await client.list_connectors()
