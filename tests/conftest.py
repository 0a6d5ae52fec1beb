"""Shared fixtures: every test runs with a clean environment and its own working directory, and only a
test marked e2e may start a process."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from mcp import Client
from respx.models import AllMockedAssertionError

from databasin_mcp import redact
from databasin_mcp.config import Settings
from databasin_mcp.server import DatabasinServer, create_server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def forgotten_secrets() -> Iterator[None]:
    """Secrets a test's server remembered (passwords sent, values leaked) are masked for the life of a
    process; a test's planted "secret" must not mask another test's ordinary values."""
    saved = redact.remembered_state()
    yield
    redact.restore_remembered_state(saved)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No DATABASIN_* variable, no .token and no home directory of the developer leaks into a test."""
    for name in list(os.environ):
        if name.startswith(("DATABASIN_", "PUBLIC_API_URI")):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    work = tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    return work


@pytest.fixture(autouse=True)
def processes_only_in_e2e(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process-free tier (`make check`: -m "not e2e") must start no process: one that does fails, saying
    to mark it e2e. Popen._execute_child is where subprocess, asyncio and anyio all start a child."""
    if request.node.get_closest_marker("e2e"):
        return

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{request.node.nodeid} starts a process: mark it `pytest.mark.e2e`")

    monkeypatch.setattr(subprocess.Popen, "_execute_child", refuse)
    for name in ("fork", "forkpty", "posix_spawn", "posix_spawnp", "system"):
        monkeypatch.setattr(os, name, refuse)


# --- an MCP server wired to a respx router, and the in-process client that drives it ------------

API_URL = "http://api.test"
API_TOKEN = "tok-abcdef123456"


@pytest.fixture
def router() -> respx.Router:
    """Stands in for the Databasin API (see `api_transport` for requests no route matches)."""
    return respx.Router(base_url=API_URL, assert_all_called=False)


def api_transport(router: respx.Router) -> httpx.MockTransport:
    """The router as an httpx transport; a request no route matches gets the 404 of a missing route."""

    async def handler(request: httpx.Request) -> httpx.Response:
        try:
            return await router.async_handler(request)
        except AllMockedAssertionError:
            return httpx.Response(404, json={"status": 404, "error": "Not Found", "path": request.url.path})

    return httpx.MockTransport(handler)


ServerFactory = Callable[..., DatabasinServer]


@pytest.fixture
def make_server(router: respx.Router) -> ServerFactory:
    """Build the real server (real client, real tools) with the API replaced by `router`.

    With structured output on, so that tests can read an answer's data as well as its text; the default
    (text only, what real clients forward to the model) is tested in tests/test_structured_output.py.
    With secret arguments allowed, so that a test can pass a password as headless automation does; the
    default (no password in any schema: the person types it on our page) is tested in
    tests/test_secret_arguments.py and tests/test_asking_the_person.py.
    """

    def build(**settings: Any) -> DatabasinServer:
        values: dict[str, Any] = {
            "api_url": API_URL,
            "token": API_TOKEN,
            "retry_backoff": 0,
            "structured_output": True,
            "allow_secret_arguments": True,
        } | settings
        return create_server(Settings(**values), transport=api_transport(router))

    return build


@pytest.fixture
async def mcp(make_server: ServerFactory) -> AsyncIterator[Client]:
    """An in-process MCP client session against the default server."""
    async with Client(make_server()) as client:
        yield client
