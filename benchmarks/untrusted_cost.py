"""What making untrusted text safe costs on a 20,000-table listing (issue 12): with and without, side by side.

python -m benchmarks.untrusted_cost [rounds]

The body is the sandbox's own 20,000-table schema, served by respx so that no socket adds noise. Each round
calls list_tables (cache off: every call decodes and validates all 20,000 rows) once as shipped and once with
the sanitizing steps replaced by the identity: `clean_json` where the body is decoded, `one_line` where text
is shaped, `writable` (the last guard) in call_tool. Rounds alternate which goes first, so a busy machine
weighs on both alike. The same for the largest page a call can ask for (500 rows of every field) from the
cache, where only the shaping and the guard run. Also timed alone: `clean_json` over the parsed body, beside
`json.loads` of it.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx
import respx
from mcp import Client

from databasin_mcp import server as server_module
from databasin_mcp import shaping, untrusted
from databasin_mcp.client import decoding as client_module
from databasin_mcp.config import Settings
from databasin_mcp.sandbox import SandboxConfig, create_app
from databasin_mcp.sandbox.seed import BIG_CATALOG, BIG_CONNECTOR_ID, HUGE_SCHEMA
from databasin_mcp.server import create_server

from .tasks import listing_total, text_of

TABLES = 20_000
API = "http://api.bench"
CALL = {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": HUGE_SCHEMA}


async def huge_body() -> bytes:
    """The sandbox's 20,000-table listing, as it sends it."""
    app = create_app(SandboxConfig(huge_schema_tables=TABLES, rate_limit=0, token="bench-token"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as sandbox:
        path = f"/api/connector/{BIG_CONNECTOR_ID}/tables"
        response = await sandbox.get(
            path,
            params={"catalog": BIG_CATALOG, "schema": HUGE_SCHEMA},
            headers={"Authorization": "Bearer bench-token"},
        )
        response.raise_for_status()
        return response.content


@contextmanager
def without_sanitizing() -> Iterator[None]:
    """The sanitizing steps replaced by the identity (what the code did before issue 12)."""
    saved = (client_module.clean_json, shaping.one_line, server_module.writable)
    client_module.clean_json = lambda value, **_: value  # type: ignore[assignment]
    shaping.one_line = lambda text: text  # type: ignore[assignment]
    server_module.writable = lambda result: result  # type: ignore[assignment]
    try:
        yield
    finally:
        client_module.clean_json, shaping.one_line, server_module.writable = saved


def timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


async def main(rounds: int) -> None:
    body = await huge_body()
    router = respx.Router(base_url=API)
    router.get(f"/api/connector/{BIG_CONNECTOR_ID}/tables").mock(return_value=httpx.Response(200, content=body))
    fetched = await side_by_side(router, rounds, cache_ttl=0, arguments=CALL)
    cached = await side_by_side(router, rounds * 4, cache_ttl=600, arguments={**CALL, "limit": 500, "fields": ["*"]})

    text = body.decode()
    loads_ms = [timed(lambda: json.loads(text)) for _ in range(rounds)]
    clean_ms = []
    for _ in range(rounds):
        parsed = json.loads(text)
        clean_ms.append(timed(lambda parsed=parsed: untrusted.clean_json(parsed, raw_text=text)))

    def line(name: str, values: list[float]) -> str:
        return f"{name:<44} median {statistics.median(values):7.1f} ms   min {min(values):7.1f} ms"

    for title, (with_ms, without_ms) in (
        (f"list_tables, {TABLES:,} tables, cache off ({len(body) / 1e6:.1f} MB body), {rounds} rounds", fetched),
        (f"list_tables, 500 rows of every field from the cache, {rounds * 4} rounds", cached),
    ):
        print(title)
        print(line("  call, sanitizing as shipped", with_ms))
        print(line("  call, sanitizing replaced by the identity", without_ms))
        added = statistics.median(with_ms) - statistics.median(without_ms)
        print(f"  added by sanitizing: {added:+.1f} ms per call ({added / statistics.median(without_ms):+.1%})")
    print(line("json.loads of the body alone", loads_ms))
    print(line("clean_json of the parsed body alone", clean_ms))


async def side_by_side(
    router: respx.Router, rounds: int, *, cache_ttl: float, arguments: dict[str, Any]
) -> tuple[list[float], list[float]]:
    """(ms per call as shipped, ms per call with the sanitizing steps replaced by the identity), interleaved."""
    settings = Settings(api_url=API, token="tok-bench-123456", cache_ttl=cache_ttl)
    server = create_server(settings, transport=httpx.MockTransport(router.async_handler))
    with_ms: list[float] = []
    without_ms: list[float] = []
    async with Client(server) as mcp:

        async def one_call() -> float:
            started = time.perf_counter()
            result = await mcp.call_tool("list_tables", arguments)
            assert not result.is_error, result.content
            assert listing_total(text_of(result)) == TABLES
            return (time.perf_counter() - started) * 1000

        await one_call()  # warm up both paths (and fill the cache when it is on)
        with without_sanitizing():
            await one_call()
        for index in range(rounds):
            for sanitized in (True, False) if index % 2 else (False, True):
                if sanitized:
                    with_ms.append(await one_call())
                else:
                    with without_sanitizing():
                        without_ms.append(await one_call())
    return with_ms, without_ms


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 15)
