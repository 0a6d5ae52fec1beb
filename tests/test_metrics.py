"""Metrics (issue 18 #7): what a server counts, read back from its Prometheus exposition after real calls.

In process against respx; tests/http/test_probes.py scrapes /metrics of real HTTP servers.
"""

from __future__ import annotations

import httpx
import pytest
import respx
from mcp import Client
from prometheus_client.parser import text_string_to_metric_families

from databasin_mcp.client.routes import route_family
from databasin_mcp.metrics import PrometheusMetrics
from databasin_mcp.server import DatabasinServer
from databasin_mcp.telemetry import NO_TELEMETRY

from .conftest import ServerFactory

pytestmark = pytest.mark.anyio

ROWS = [
    {"connectorID": 7, "connectorName": "Orders", "connectorType": "RDBMS", "internalID": "proj-1", "institutionID": 1},
    {"connectorID": 8, "connectorName": "Ledger", "connectorType": "RDBMS", "internalID": "proj-1", "institutionID": 1},
]


def sample(metrics: PrometheusMetrics, name: str, **labels: str) -> float:
    """The value of one series of the server's exposition, as a scraper reads it; 0 when it is not there."""
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return 0.0


def metrics_of(server: DatabasinServer) -> PrometheusMetrics:
    assert isinstance(server.telemetry, PrometheusMetrics)
    return server.telemetry


async def test_tool_calls_are_counted_by_tool_and_outcome_with_their_duration(
    make_server: ServerFactory, router: respx.Router
) -> None:
    router.get("/api/connector").mock(return_value=httpx.Response(200, json=ROWS))
    router.get("/api/connector/7").mock(return_value=httpx.Response(200, json=ROWS[0]))
    router.get("/api/connector/9").mock(return_value=httpx.Response(404, json={"message": "not found"}))
    server = make_server(transport="streamable-http")
    async with Client(server) as client:
        await client.call_tool("list_connectors", {"project_id": "proj-1"})
        await client.call_tool("get_connector", {"connector_id": 7})
        await client.call_tool("get_connector", {"connector_id": 9})
        await client.call_tool("get_connector", {"connector_id": "seven"})
        await client.call_tool("no_such_tool_a8f3", {})
    metrics = metrics_of(server)
    assert sample(metrics, "databasin_mcp_tool_calls_total", tool="list_connectors", outcome="ok") == 1
    assert sample(metrics, "databasin_mcp_tool_calls_total", tool="get_connector", outcome="ok") == 1
    assert sample(metrics, "databasin_mcp_tool_calls_total", tool="get_connector", outcome="error") == 2
    # A name a caller made up is counted, but never becomes a series of its own.
    assert sample(metrics, "databasin_mcp_tool_calls_total", tool="unknown", outcome="error") == 1
    assert "no_such_tool_a8f3" not in metrics.exposition().decode()
    assert sample(metrics, "databasin_mcp_tool_call_duration_seconds_count", tool="get_connector") == 3
    assert sample(metrics, "databasin_mcp_tool_calls_in_flight") == 0
    # Every served tool has its series from the start: a dashboard shows 0, not "no data".
    assert 'databasin_mcp_tool_calls_total{outcome="ok",tool="delete_connector"} 0.0' in metrics.exposition().decode()


async def test_upstream_requests_retries_and_rate_limit_waits_are_counted_by_route(
    make_server: ServerFactory, router: respx.Router
) -> None:
    router.get("/api/connector/7").mock(
        side_effect=[
            httpx.Response(503, json={"message": "busy"}),
            httpx.Response(429, headers={"Retry-After": "0"}),
            httpx.Response(200, json=ROWS[0]),
        ]
    )
    server = make_server(transport="streamable-http")
    async with Client(server) as client:
        result = await client.call_tool("get_connector", {"connector_id": 7})
    assert not result.is_error
    metrics = metrics_of(server)
    for status in ("503", "429", "200"):
        assert sample(metrics, "databasin_mcp_upstream_requests_total", route="connector.get", status=status) == 1
    assert sample(metrics, "databasin_mcp_upstream_retries_total", route="connector.get") == 1
    assert sample(metrics, "databasin_mcp_upstream_rate_limit_waits_total", route="connector.get") == 1


async def test_an_api_that_cannot_be_reached_is_counted_as_unreachable(
    make_server: ServerFactory, router: respx.Router
) -> None:
    router.get("/api/connector/7").mock(side_effect=httpx.ConnectError("refused"))
    server = make_server(transport="sse", max_attempts=2)
    async with Client(server) as client:
        assert (await client.call_tool("get_connector", {"connector_id": 7})).is_error
    metrics = metrics_of(server)
    assert sample(metrics, "databasin_mcp_upstream_requests_total", route="connector.get", status="unreachable") == 2
    assert sample(metrics, "databasin_mcp_upstream_retries_total", route="connector.get") == 1


async def test_cache_hits_and_misses_are_counted(make_server: ServerFactory, router: respx.Router) -> None:
    listing = router.get("/api/connector").mock(return_value=httpx.Response(200, json=ROWS))
    server = make_server(transport="streamable-http")
    async with Client(server) as client:
        await client.call_tool("list_connectors", {"project_id": "proj-1"})
        await client.call_tool("list_connectors", {"project_id": "proj-1", "offset": 1})
        await client.call_tool("find_connectors", {"query": "orders"})
    assert listing.call_count == 2  # the project's list once, all connectors once
    metrics = metrics_of(server)
    assert sample(metrics, "databasin_mcp_cache_lookups_total", result="hit") == 1
    assert sample(metrics, "databasin_mcp_cache_lookups_total", result="miss") == 2


def test_a_stdio_server_counts_nothing_and_loads_no_metrics_library(make_server: ServerFactory) -> None:
    server = make_server(transport="stdio")
    assert server.telemetry is NO_TELEMETRY
    assert server.operations.client.telemetry is NO_TELEMETRY
    assert server.operations.cache.telemetry is NO_TELEMETRY


@pytest.mark.parametrize(
    ("method", "path", "family"),
    [
        ("GET", "/api/connector", "connectors.list"),
        ("POST", "/api/connector", "connectors.create"),
        ("GET", "/api/connector/118", "connector.get"),
        ("PUT", "/api/connector/118", "connector.update"),
        ("DELETE", "/api/connector/118", "connector.delete"),
        ("POST", "/api/connector/118/test", "connector.test"),
        ("POST", "/api/connector/118/refresh", "connector.refresh"),
        ("GET", "/api/connector/118/catalogs", "metadata.catalogs"),
        ("GET", "/api/connector/118/columns", "metadata.columns"),
        ("GET", "/api/v2/connector/tables/118", "metadata.tables"),
        ("POST", "/api/connector/columns", "metadata.columns"),
        ("GET", "/api/my/projects", "projects"),
        ("GET", "/api/ping", "ping"),
        ("GET", "/api/connector/118/secret-route", "other"),
        ("GET", "/api/connector/name-not-id", "other"),
    ],
)
def test_every_route_is_named_by_its_family_never_by_an_id(method: str, path: str, family: str) -> None:
    assert route_family(method, path) == family
