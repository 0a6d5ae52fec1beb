"""Health, readiness and metrics endpoints (issue 18 #6, #7), in process: the ASGI middleware and the readiness check.

Real servers on every HTTP transport, and under uvicorn's --factory recipe: tests/http/test_probes.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import respx
from starlette.types import Receive, Scope, Send

from databasin_mcp.config import Settings
from databasin_mcp.http_guards import BearerAuth
from databasin_mcp.http_probes import READY_CACHE_SECONDS, HealthEndpoints, MetricsEndpoint, Readiness
from databasin_mcp.metrics import PrometheusMetrics
from databasin_mcp.serving import transport_security

from .conftest import API_TOKEN, API_URL, api_transport

pytestmark = pytest.mark.anyio
AUTH_TOKEN = "probe-test-auth-token-0123456789"
PROBE = "/api/connector"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """Stands in for the MCP app: whatever reaches it answers 299."""
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"mcp"})


def settings(**values: object) -> Settings:
    return Settings(**{"api_url": API_URL, "token": API_TOKEN, "transport": "streamable-http"} | values)  # type: ignore[arg-type]


@pytest.fixture
async def readiness(router: respx.Router) -> AsyncIterator[tuple[Readiness, Clock]]:
    clock = Clock()
    checker = Readiness(settings(), transport=api_transport(router), clock=clock)
    yield checker, clock
    await checker.aclose()


@pytest.fixture
async def http(readiness: tuple[Readiness, Clock]) -> AsyncIterator[httpx.AsyncClient]:
    """The app as http_app layers it: health first, then the token, then metrics, then MCP."""
    config = settings(auth_token=AUTH_TOKEN)
    security = transport_security(config)
    app = HealthEndpoints(BearerAuth(MetricsEndpoint(mcp_endpoint, PrometheusMetrics(), security), AUTH_TOKEN),
                          readiness[0], security)  # fmt: skip
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client:
        yield client


async def test_healthz_answers_without_a_token_or_an_upstream_call(
    http: httpx.AsyncClient, router: respx.Router
) -> None:
    answer = await http.get("/healthz")
    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})
    assert answer.headers["cache-control"] == "no-store"
    assert router.calls.call_count == 0
    head = await http.head("/healthz")
    assert (head.status_code, head.content) == (200, b"")
    assert (await http.post("/healthz")).status_code == 405


async def test_readyz_says_ready_when_the_api_accepts_the_token(http: httpx.AsyncClient, router: respx.Router) -> None:
    route = router.get(PROBE).mock(return_value=httpx.Response(200, json=[]))
    answer = await http.get("/readyz")
    assert (answer.status_code, answer.json()) == (200, {"status": "ready"})
    request = route.calls.last.request
    assert request.headers["authorization"] == f"Bearer {API_TOKEN}"
    assert request.url.params["internalID"] == "databasin-mcp-readiness-probe"


@pytest.mark.parametrize(
    ("upstream", "reason"),
    [
        (httpx.Response(401, json={"message": "expired"}), "token_refused"),
        (httpx.Response(500, json={"message": "boom"}), "upstream_error"),
        (httpx.ConnectError("refused"), "upstream_unreachable"),
    ],
)
async def test_readyz_says_why_not_in_one_word_and_no_more(
    http: httpx.AsyncClient, router: respx.Router, upstream: httpx.Response | Exception, reason: str
) -> None:
    route = router.get(PROBE).mock(side_effect=[upstream])
    answer = await http.get("/readyz")
    assert (answer.status_code, answer.json()) == (503, {"status": "not_ready", "reason": reason})
    assert route.call_count == 1  # sent once: no retries behind a balancer's probe


async def test_readyz_without_a_token_is_not_ready_and_asks_nothing(router: respx.Router) -> None:
    checker = Readiness(settings(token=None), transport=api_transport(router))
    try:
        assert tuple(await checker.verdict()) == (False, "no_token")
    finally:
        await checker.aclose()
    assert router.calls.call_count == 0


async def test_readiness_is_checked_at_most_every_few_seconds(
    readiness: tuple[Readiness, Clock], router: respx.Router
) -> None:
    checker, clock = readiness
    route = router.get(PROBE).mock(
        side_effect=[httpx.Response(200, json=[]), httpx.Response(401, json={"message": "revoked"})]
    )
    assert tuple(await checker.verdict()) == (True, "ready")
    clock.now += READY_CACHE_SECONDS - 0.1
    assert tuple(await checker.verdict()) == (True, "ready")
    assert route.call_count == 1
    clock.now += 0.2
    assert tuple(await checker.verdict()) == (False, "token_refused")
    assert route.call_count == 2


async def test_probes_refuse_a_foreign_host(http: httpx.AsyncClient, router: respx.Router) -> None:
    # DNS rebinding: a page on attacker.example must not read these through a victim's browser.
    token = {"Authorization": f"Bearer {AUTH_TOKEN}"}
    for path, headers in (("/healthz", {}), ("/readyz", {}), ("/metrics", token)):
        answer = await http.get(path, headers={"Host": "attacker.example", **headers})
        assert answer.status_code == 421, path
    assert router.calls.call_count == 0


async def test_metrics_need_the_token_and_answer_prometheus_text(http: httpx.AsyncClient) -> None:
    assert (await http.get("/metrics")).status_code == 401
    answer = await http.get("/metrics", headers={"Authorization": f"Bearer {AUTH_TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert 'databasin_mcp_build_info{version="' in answer.text
    openmetrics = "application/openmetrics-text; version=1.0.0"
    asked = await http.get("/metrics", headers={"Authorization": f"Bearer {AUTH_TOKEN}", "Accept": openmetrics})
    assert asked.headers["content-type"].startswith(openmetrics)
    assert asked.text.endswith("# EOF\n")


async def test_other_paths_still_reach_the_mcp_app_behind_the_token(http: httpx.AsyncClient) -> None:
    assert (await http.post("/mcp")).status_code == 401
    assert (await http.post("/mcp", headers={"Authorization": f"Bearer {AUTH_TOKEN}"})).status_code == 299
