"""/healthz, /readyz and /metrics of real servers (issue 18 #6, #7): streamable HTTP (stateful and stateless),
SSE, and the uvicorn --factory recipe of README's "Behind a load balancer", each behind an auth token."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from databasin_mcp.harness.processes import Sandbox, free_port, http_server, watched_process
from databasin_mcp.harness.results import call
from databasin_mcp.sandbox.seed import BIG_CONNECTOR_ID

from .support import HTTP_TIMEOUT, mcp_client

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

AUTH_TOKEN = "probes-e2e-auth-token-5b9f2c71"
BEARER = {"Authorization": f"Bearer {AUTH_TOKEN}"}
SERVERS = [
    pytest.param(("streamable-http",), id="streamable-http"),
    pytest.param(("streamable-http", "--stateless"), id="streamable-http-stateless"),
    pytest.param(("sse",), id="sse"),
    pytest.param(("uvicorn-factory",), id="uvicorn-factory"),
]


@contextmanager
def serving(sandbox: Sandbox, kind: tuple[str, ...], **env: str) -> Iterator[tuple[str, str]]:
    """(base URL, MCP endpoint URL) of a server of `kind` with an auth token, stopped on exit."""
    settings = sandbox.env(DATABASIN_MCP_AUTH_TOKEN=AUTH_TOKEN) | env
    if kind[0] == "uvicorn-factory":
        # One process: each worker has its own metrics, so a scrape must reach the process that served the calls.
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "--factory", "databasin_mcp.serving:app_from_environment"]
        command += [
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--http",
            "databasin_mcp.http_protocol:GuardedH11Protocol",
        ]
        with watched_process(command, {**settings, "DATABASIN_MCP_STATELESS": "1"}) as (_, output):
            output.wait_for(rf"Uvicorn running on http://127\.0\.0\.1:{port}\b")
            yield f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/mcp"
        return
    with http_server(settings, kind[0], *kind[1:]) as server:
        yield server.url.rsplit("/", 1)[0], server.url


def sample(exposition: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(exposition):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return found.value
    return 0.0


@pytest.mark.parametrize("kind", SERVERS)
async def test_probes_and_metrics_behave_the_same_on_every_http_server(sandbox: Sandbox, kind: tuple[str, ...]) -> None:
    with serving(sandbox, kind) as (base, endpoint):
        async with httpx.AsyncClient(base_url=base, timeout=HTTP_TIMEOUT) as http:
            metrics = await probe_then_scrape(sandbox, http, kind, base, endpoint)
    assert sample(metrics, "databasin_mcp_tool_calls_total", tool="get_connector", outcome="ok") == 2
    assert sample(metrics, "databasin_mcp_tool_calls_total", tool="get_connector", outcome="error") == 1
    assert sample(metrics, "databasin_mcp_tool_calls_total", tool="unknown", outcome="error") == 1
    assert sample(metrics, "databasin_mcp_tool_call_duration_seconds_count", tool="get_connector") == 3
    assert sample(metrics, "databasin_mcp_tool_calls_in_flight") == 0
    assert sample(metrics, "databasin_mcp_upstream_requests_total", route="connector.get", status="200") == 2
    assert sample(metrics, "databasin_mcp_upstream_requests_total", route="connector.get", status="404") == 1
    assert sample(metrics, "databasin_mcp_readiness_checks_total", result="ready") == 1


async def probe_then_scrape(
    sandbox: Sandbox, http: httpx.AsyncClient, kind: tuple[str, ...], base: str, endpoint: str
) -> str:
    """The probes' answers checked, a few tool calls made, then the metrics scraped."""
    health = await http.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    before = len(sandbox.requests())
    ready = await http.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    assert (await http.get("/readyz")).status_code == 200  # answered from the last check
    probes = [r for r in sandbox.requests()[before:] if "databasin-mcp-readiness-probe" in r["query"]]
    assert len(probes) == 1
    assert (await http.get("/healthz", headers={"Host": "rebind.attacker.example"})).status_code == 421
    assert (await http.get("/metrics")).status_code == 401
    assert (await http.post(endpoint.removeprefix(base), json={})).status_code == 401  # the MCP endpoint still needs it

    async with mcp_client(kind[0] if kind[0] == "sse" else "streamable-http", endpoint, headers=BEARER) as client:
        assert not (await call(client, "get_connector", {"connector_id": BIG_CONNECTOR_ID})).is_error
        assert not (await call(client, "get_connector", {"connector_id": BIG_CONNECTOR_ID})).is_error
        assert (await call(client, "get_connector", {"connector_id": 999_999})).is_error
        assert (await call(client, "no_such_tool", {})).is_error

    scraped = await http.get("/metrics", headers=BEARER)
    assert scraped.status_code == 200
    assert scraped.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return scraped.text


async def test_readyz_says_not_ready_when_the_api_refuses_the_token(sandbox: Sandbox) -> None:
    kind = ("streamable-http",)
    with serving(sandbox, kind, DATABASIN_TOKEN="a-token-the-sandbox-never-issued") as (base, _):
        async with httpx.AsyncClient(base_url=base, timeout=HTTP_TIMEOUT) as http:
            answer = await http.get("/readyz")
            health = await http.get("/healthz")
    assert (answer.status_code, answer.json()) == (503, {"status": "not_ready", "reason": "token_refused"})
    assert health.status_code == 200  # alive all the same: a balancer must not restart it for this
