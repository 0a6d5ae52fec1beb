"""Over HTTP the password page is a path of the server's app (issue 15 #2): same Host/Origin checks, no bearer.

The person's browser has no MCP token: the page's unguessable one-time address is what lets it in, while every
other path still needs the token. Driven in-process over ASGI (no process, no lifespan: the page needs none).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from databasin_mcp.config import Settings
from databasin_mcp.credentials import PAGE_PATH, Shown
from databasin_mcp.server import create_server
from databasin_mcp.serving import http_app

pytestmark = pytest.mark.anyio

TOKEN = "test-mcp-token-5d1f"
BASE = "http://127.0.0.1:8000"
SHOWN = Shown("Create connector 'Orders'", (("Host", "db.example.com"),))


@pytest.fixture(params=["streamable-http", "sse"])
async def served(request: pytest.FixtureRequest) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A client of the HTTP app (with an auth token configured) and the page of one pending write."""
    settings = Settings(api_url="http://api.test", token="t" * 20, transport=request.param, auth_token=TOKEN)
    server = create_server(settings)
    pending = server.person.credentials.pending.open("create_connector", {"name": "Orders"}, SHOWN)
    transport = httpx.ASGITransport(app=http_app(server, settings))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
        yield client, f"{PAGE_PATH}{pending.ref}"


async def test_the_page_needs_no_bearer_token_while_the_mcp_endpoint_still_does(
    served: tuple[httpx.AsyncClient, str],
) -> None:
    client, page = served

    shown = await client.get(page)
    endpoint = await client.get("/mcp")
    beside = await client.get(f"{PAGE_PATH[:-1]}x/anything")  # a path that only starts like the page's

    assert shown.status_code == 200
    assert "<h1>Create connector &#x27;Orders&#x27;</h1>" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    assert endpoint.status_code == beside.status_code == 401


async def test_the_page_refuses_a_foreign_host_or_origin_like_the_endpoint(
    served: tuple[httpx.AsyncClient, str],
) -> None:
    client, page = served

    rebound = await client.get(page, headers={"Host": "evil.example"})
    foreign = await client.post(page, data={"password": "x"}, headers={"Origin": "http://evil.example"})

    assert rebound.status_code == 421
    assert foreign.status_code == 403
