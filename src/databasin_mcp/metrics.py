"""Prometheus metrics of one server process, shown at /metrics on the HTTP transports.

prometheus-client writes the text exposition format (escaping, histogram buckets, HELP and TYPE
lines) that scrapers expect, and its counters are safe to update from any task; writing that by
hand is easy to get subtly wrong. It is imported only by HTTP servers: stdio never loads it.

Each process has its own registry: under `uvicorn --workers N` each worker counts its own calls, and a
scrape through the balancer reaches one of them (see README, "Behind a load balancer").
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.exposition import choose_encoder

from . import __version__
from .telemetry import CANCELLED, ERROR, OK, Telemetry

# Without this every counter also gets a `_created` series (a timestamp per label set), doubling the output.
disable_created_metrics()  # type: ignore[no-untyped-call]

# A tool call answers from the cache in milliseconds and may wait minutes for a metadata refresh.
CALL_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class PrometheusMetrics(Telemetry):
    """The counters, gauges and histogram of one server, in their own registry."""

    def __init__(self, tools: Iterable[str] = ()) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self.calls = Counter(
            "databasin_mcp_tool_calls",
            "Tool calls by tool and outcome (ok, error, cancelled).",
            ["tool", "outcome"],
            registry=registry,
        )
        self.call_seconds = Histogram(
            "databasin_mcp_tool_call_duration_seconds",
            "How long tool calls took, by tool.",
            ["tool"],
            buckets=CALL_SECONDS_BUCKETS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "databasin_mcp_tool_calls_in_flight", "Tool calls being answered now.", registry=registry
        )
        self.upstream = Counter(
            "databasin_mcp_upstream_requests",
            "Requests to the Databasin API by route family and status (the HTTP status, or unreachable / no_answer).",
            ["route", "status"],
            registry=registry,
        )
        self.retries = Counter(
            "databasin_mcp_upstream_retries",
            "Requests to the API sent again after a failure, by route family.",
            ["route"],
            registry=registry,
        )
        self.rate_limit_waits = Counter(
            "databasin_mcp_upstream_rate_limit_waits",
            "Times the API answered 429 and the request waited, by route.",
            ["route"],
            registry=registry,
        )
        self.rate_limit_seconds = Counter(
            "databasin_mcp_upstream_rate_limit_wait_seconds",
            "Seconds spent waiting as 429 answers asked.",
            registry=registry,
        )
        self.cache = Counter(
            "databasin_mcp_cache_lookups", "Listing cache lookups by result (hit, miss).", ["result"], registry=registry
        )
        self.readiness = Counter(
            "databasin_mcp_readiness_checks",
            "Upstream checks made for /readyz, by result.",
            ["result"],
            registry=registry,
        )
        info = Gauge("databasin_mcp_build_info", "Always 1; the version is a label.", ["version"], registry=registry)
        info.labels(version=__version__).set(1)
        # Series that exist before their first event, so a dashboard shows 0 rather than no data.
        for tool in tools:
            for outcome in (OK, ERROR, CANCELLED):
                self.calls.labels(tool=tool, outcome=outcome)
            self.call_seconds.labels(tool=tool)
        for result in ("hit", "miss"):
            self.cache.labels(result=result)

    def tool_call_started(self, tool: str) -> None:
        self.in_flight.inc()

    def tool_call_finished(self, tool: str, outcome: str, seconds: float) -> None:
        self.in_flight.dec()
        self.calls.labels(tool=tool, outcome=outcome).inc()
        self.call_seconds.labels(tool=tool).observe(seconds)

    def upstream_answered(self, route: str, status: str) -> None:
        self.upstream.labels(route=route, status=status).inc()

    def upstream_retry(self, route: str) -> None:
        self.retries.labels(route=route).inc()

    def rate_limit_wait(self, route: str, seconds: float) -> None:
        self.rate_limit_waits.labels(route=route).inc()
        self.rate_limit_seconds.inc(seconds)

    def cache_lookup(self, hit: bool) -> None:
        self.cache.labels(result="hit" if hit else "miss").inc()

    def readiness_checked(self, result: str) -> None:
        self.readiness.labels(result=result).inc()

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """Every metric, in the format the scraper's Accept header asks for, and its content type.

        Without an Accept header: the classic text format (version 0.0.4), which every Prometheus
        version reads; Prometheus 3 refuses a scrape whose content type it does not know.
        """
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type

    def exposition(self) -> bytes:
        """Every metric in the classic Prometheus text format."""
        return self.render()[0]
