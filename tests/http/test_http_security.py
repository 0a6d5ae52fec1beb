"""The HTTP transports of the real databasin-mcp process: where it listens, whom it answers, how much it reads."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest

from databasin_mcp.errors import ConfigurationError
from databasin_mcp.harness.processes import Sandbox, clean_env, http_server
from databasin_mcp.harness.results import call, text
from databasin_mcp.serving import MAX_REQUEST_BODY_BYTES, app_from_environment

from .support import (
    HTTP_TIMEOUT,
    MCP_HEADERS,
    connects,
    first_sse_data,
    initialize_request,
    mcp_client,
    non_loopback_ipv4,
    port_of,
)

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

HTTP_TRANSPORTS = ["streamable-http", "sse"]
FOREIGN_HOST = "evil.example"
FOREIGN_ORIGIN = "http://evil.example"
TOKEN = "test-mcp-token-5d1f"


async def endpoint_event(lines: AsyncIterator[str]) -> str:
    """The message path an SSE server announces first (`/messages/?session_id=...`).

    Reads from the caller's line iterator, which the caller keeps: an abandoned one is finalized at some later
    point, closing the stream, and so the MCP session.
    """
    event = None
    async for line in lines:
        if event == "endpoint" and line.startswith("data: "):
            return line.removeprefix("data: ")
        event = line.removeprefix("event: ") if line.startswith("event: ") else event
    raise AssertionError("no endpoint event")


# --- where it listens ------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", HTTP_TRANSPORTS)
def test_it_listens_on_loopback_only_by_default(sandbox: Sandbox, transport: str) -> None:
    with http_server(sandbox.env(), transport) as server:
        path = "/sse" if transport == "sse" else "/mcp"
        assert server.url.startswith("http://127.0.0.1:")
        assert server.url.endswith(path)
        port = port_of(server.url)
        assert connects("127.0.0.1", port)
        address = non_loopback_ipv4()
        if address is None:
            pytest.skip("this machine has no non-loopback IPv4 address to check that it is not listened on")
        assert not connects(address, port), f"the server answers on {address}"


@pytest.mark.parametrize(
    ("transport", "how", "host"),
    [
        ("streamable-http", "flag", "0.0.0.0"),
        ("sse", "environment", "0.0.0.0"),
        ("streamable-http", "environment", "::"),
        ("sse", "flag", "machine address"),
    ],
)
def test_binding_beyond_loopback_without_a_token_refuses_to_start(transport: str, how: str, host: str) -> None:
    if host == "machine address":
        host = non_loopback_ipv4() or "192.0.2.10"  # an address is refused before anything is bound
    args = ["--host", host] if how == "flag" else []
    env = clean_env() if how == "flag" else clean_env(DATABASIN_MCP_HOST=host)
    done = subprocess.run(
        [sys.executable, "-m", "databasin_mcp", "--transport", transport, "--port", "0", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"databasin-mcp: Refusing to serve on {host} without an auth token: anyone who can reach it could manage "
        "your connectors. Set DATABASIN_MCP_AUTH_TOKEN (or --auth-token), or bind 127.0.0.1.\n"
    )


def test_the_worker_factory_refuses_a_non_loopback_host_without_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASIN_MCP_HOST", "0.0.0.0")
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))  # the factory configures logging; undo it after
    monkeypatch.setattr(root, "level", root.level)
    with pytest.raises(ConfigurationError, match=r"Refusing to serve on 0\.0\.0\.0 without an auth token"):
        app_from_environment()


# --- DNS-rebinding protection ------------------------------------------------------------------------


async def test_streamable_http_refuses_a_foreign_host_or_origin(sandbox: Sandbox) -> None:
    with http_server(sandbox.env(), "streamable-http") as server:
        port = port_of(server.url)
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:

            async def post(**headers: str) -> httpx.Response:
                return await http.post(server.url, json=initialize_request(), headers={**MCP_HEADERS, **headers})

            foreign_host = await post(Host=FOREIGN_HOST)
            foreign_host_with_port = await post(Host=f"{FOREIGN_HOST}:{port}")
            foreign_origin = await post(Origin=FOREIGN_ORIGIN)
            stream_with_foreign_host = await http.get(
                server.url, headers={"Accept": "text/event-stream", "Host": FOREIGN_HOST}
            )
            assert [foreign_host.status_code, foreign_host_with_port.status_code] == [421, 421]
            assert stream_with_foreign_host.status_code == 421
            assert foreign_host.text == "Invalid Host header"
            assert (foreign_origin.status_code, foreign_origin.text) == (403, "Invalid Origin header")

            for headers in ({}, {"Host": f"localhost:{port}"}, {"Origin": f"http://127.0.0.1:{port}"}):
                ok = http.stream("POST", server.url, json=initialize_request(), headers={**MCP_HEADERS, **headers})
                async with ok as answered:
                    assert answered.status_code == 200, headers
                    assert (await first_sse_data(answered))["result"]["serverInfo"]["name"] == "databasin"

        assert "Traceback" not in server.output.text()


async def test_sse_refuses_a_foreign_host_or_origin(sandbox: Sandbox) -> None:
    with http_server(sandbox.env(), "sse") as server:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            # One connection for all: a refusal must not break it for the next request either.
            foreign_host = await http.get(server.url, headers={"Host": FOREIGN_HOST})
            foreign_origin = await http.get(server.url, headers={"Origin": FOREIGN_ORIGIN})
            assert (foreign_host.status_code, foreign_host.text) == (421, "Invalid Host header")
            assert (foreign_origin.status_code, foreign_origin.text) == (403, "Invalid Origin header")

            async with http.stream("GET", server.url) as stream:
                assert stream.status_code == 200
                events = stream.aiter_lines()
                messages = server.url.removesuffix("/sse") + await endpoint_event(events)
                refused = await http.post(messages, json=initialize_request(), headers={"Host": FOREIGN_HOST})
                refused_origin = await http.post(
                    messages, json=initialize_request(), headers={"Origin": FOREIGN_ORIGIN}
                )
                accepted = await http.post(messages, json=initialize_request())
            assert [refused.status_code, refused_origin.status_code, accepted.status_code] == [421, 403, 202]

        assert "Traceback" not in server.output.text()


# --- the auth token ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transport", "how"),
    [("streamable-http", "flag"), ("streamable-http", "environment"), ("sse", "environment")],
)
async def test_an_auth_token_is_required_on_every_request(sandbox: Sandbox, transport: str, how: str) -> None:
    args = ("--auth-token", TOKEN) if how == "flag" else ()
    env = sandbox.env() if how == "flag" else sandbox.env(DATABASIN_MCP_AUTH_TOKEN=TOKEN)
    with http_server(env, transport, *args) as server:
        base = server.url.rsplit("/", 1)[0]
        routes = [("POST", server.url), ("GET", server.url), ("DELETE", server.url), ("POST", f"{base}/messages/")]
        refusals = {
            "missing": {},
            "wrong": {"Authorization": "Bearer wrong-token"},
            "prefix of the token": {"Authorization": f"Bearer {TOKEN[:-1]}"},
            "wrong scheme": {"Authorization": f"Basic {TOKEN}"},
            "token without scheme": {"Authorization": TOKEN},
        }
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            for method, url in routes:
                for why, headers in refusals.items():
                    refused = await http.request(method, url, json=initialize_request(), headers=headers)
                    assert refused.status_code == 401, (method, url, why)
                    assert refused.headers["www-authenticate"] == "Bearer"
                    assert refused.json()["error"] == "unauthorized"
                    assert TOKEN not in refused.text

        async with mcp_client(transport, server.url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            result = await call(client, "get_connector", {"connector_id": 104})
        assert text(result).splitlines()[1] == "connectorName: Café Orders"

        with pytest.raises(Exception) as refused_client:  # noqa: PT011 - the SDK wraps the 401 differently per transport
            async with mcp_client(transport, server.url) as client:
                await call(client, "get_connector", {"connector_id": 104})
        assert "401" in repr(refused_client.value) or "error response" in repr(refused_client.value)


# --- the request body cap -------------------------------------------------------------------------------


def oversized_initialize() -> bytes:
    body = httpx.Request("POST", "http://x", json=initialize_request(padding="x" * MAX_REQUEST_BODY_BYTES)).content
    assert len(body) > MAX_REQUEST_BODY_BYTES
    return body


def just_under_the_cap() -> bytes:
    size = len(httpx.Request("POST", "http://x", json=initialize_request()).content)
    padding = "x" * (MAX_REQUEST_BODY_BYTES - size)
    body = httpx.Request("POST", "http://x", json=initialize_request(padding=padding)).content
    assert len(body) == MAX_REQUEST_BODY_BYTES
    return body


async def chunks(body: bytes) -> AsyncIterator[bytes]:
    """The body sent chunked, without Content-Length: the cap must hold while reading, too."""
    for start in range(0, len(body), 64 * 1024):
        yield body[start : start + 64 * 1024]


async def test_streamable_http_refuses_a_body_over_1_mb_and_keeps_serving(sandbox: Sandbox) -> None:
    assert MAX_REQUEST_BODY_BYTES == 1_000_000
    with http_server(sandbox.env(), "streamable-http") as server:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            declared = await http.post(server.url, content=oversized_initialize(), headers=MCP_HEADERS)
            streamed = await http.post(server.url, content=chunks(oversized_initialize()), headers=MCP_HEADERS)
            assert "content-length" not in streamed.request.headers
            assert [declared.status_code, streamed.status_code] == [413, 413]
            assert declared.text == "Request body too large"

            at_the_cap = http.stream("POST", server.url, content=just_under_the_cap(), headers=MCP_HEADERS)
            async with at_the_cap as answered:
                assert answered.status_code == 200
                assert (await first_sse_data(answered))["result"]["protocolVersion"] == "2025-11-25"

        async with mcp_client("streamable-http", server.url) as client:
            result = await call(client, "get_connector", {"connector_id": 104})
        assert text(result).splitlines()[1] == "connectorName: Café Orders"


async def test_sse_refuses_a_body_over_1_mb_and_keeps_serving(sandbox: Sandbox) -> None:
    with http_server(sandbox.env(), "sse") as server:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http, http.stream("GET", server.url) as stream:
            events = stream.aiter_lines()
            messages = server.url.removesuffix("/sse") + await endpoint_event(events)
            declared = await http.post(messages, content=oversized_initialize(), headers=MCP_HEADERS)
            streamed = await http.post(messages, content=chunks(oversized_initialize()), headers=MCP_HEADERS)
            at_the_cap = await http.post(messages, content=just_under_the_cap(), headers=MCP_HEADERS)
        assert [declared.status_code, streamed.status_code, at_the_cap.status_code] == [413, 413, 202]

        async with mcp_client("sse", server.url) as client:
            result = await call(client, "get_connector", {"connector_id": 104})
        assert text(result).splitlines()[1] == "connectorName: Café Orders"


PLANTED = "Pl4nted-S3cret-Value"


@pytest.mark.parametrize(
    "malformed",
    [
        {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": [{"password": PLANTED}]},
        [{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"arguments": {"password": PLANTED}}}],
        {"jsonrpc": "1.0", "id": 7, "method": "tools/call", "params": {"arguments": {"password": PLANTED}}},
    ],
    ids=["params as an array", "a batch", "jsonrpc 1.0"],
)
async def test_a_malformed_request_is_refused_without_quoting_it_back(sandbox: Sandbox, malformed: object) -> None:
    with http_server(sandbox.env(), "streamable-http") as server:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT) as http:
            answered = await http.post(server.url, json=malformed, headers=MCP_HEADERS)
    assert answered.status_code == 400
    error = answered.json()["error"]
    assert error["message"].startswith("Validation error: ")
    assert PLANTED not in answered.text
    assert "input_value" not in answered.text
    assert int(answered.headers["content-length"]) == len(answered.content)
