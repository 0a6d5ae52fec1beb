"""Fixtures for the sandbox tests: in-process clients over httpx.ASGITransport (no sockets)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from databasin_mcp.sandbox import SandboxConfig, create_app
from databasin_mcp.sandbox.store import Store

TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

MakeClient = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def make_client() -> AsyncIterator[MakeClient]:
    """``await make_client(quirks=True, ...)``: an authenticated client for a fresh sandbox with those settings.

    Defaults differ from SandboxConfig only where tests need it: a known token and instant refreshes.
    """
    async with contextlib.AsyncExitStack() as stack:

        async def make(**settings: Any) -> httpx.AsyncClient:
            config = SandboxConfig(**{"token": TOKEN, "refresh_seconds": 0.0, **settings})
            store = Store.open(config.db, config.seed)
            stack.callback(store.close)
            transport = httpx.ASGITransport(app=create_app(config, store))
            client = httpx.AsyncClient(transport=transport, base_url="http://sandbox", headers=AUTH)
            return await stack.enter_async_context(client)

        yield make


@pytest.fixture
async def client(make_client: MakeClient) -> httpx.AsyncClient:
    """A client for a sandbox with default settings."""
    return await make_client()
