"""The listing cache's memory over many large listings (issue 12, finding 13).

`python -m benchmarks.cache_growth [--calls 70] [--tables 20000] [--ttl 10]`

A stand-in upstream answers every catalog with `--tables` tables of its own; the real server, over
stdio, lists the tables of `--calls` distinct catalogs (each a new cache entry). Its RSS is read from
/proc before the calls, after them, and once the cache TTL has passed (after one more small call, which
is when a cache can drop what has expired). Before the cache was bounded by bytes, every entry stayed.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import anyio
from mcp import Client

from databasin_mcp.harness.processes import clean_env
from databasin_mcp.harness.procfs import Memory, memory
from databasin_mcp.harness.upstreams import serving

from .processes import OURS, children, stdio_params


class _Tables(BaseHTTPRequestHandler):
    """GET /api/connector/{id}/tables?catalog=c -> `tables` tables named after the catalog; [] elsewhere."""

    tables = 20_000

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        catalog = parse_qs(url.query).get("catalog", ["default"])[0]
        rows: list[dict[str, object]] = []
        if url.path.endswith("/tables"):
            rows = [
                {"tableName": f"{catalog}_table_{n:05d}", "tableType": "TABLE", "rowCount": n * 7, "sizeInBytes": n}
                for n in range(self.tables)
            ]
        body = json.dumps(rows).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def upstream(tables: int) -> Iterator[str]:
    handler = type("Tables", (_Tables,), {"tables": tables})
    with serving(handler) as url:
        yield url


async def measure(calls: int, tables: int, ttl: float) -> dict[str, Memory]:
    with upstream(tables) as url:
        env = clean_env(DATABASIN_API_URL=url, DATABASIN_TOKEN="bench-token", DATABASIN_CACHE_TTL=str(ttl))
        before_start = children()
        async with Client(stdio_params(OURS, env), mode="legacy") as client:
            (pid,) = children() - before_start
            await client.list_tools()
            figures = {"started": memory(pid)}
            for n in range(calls):
                result = await client.call_tool(
                    "list_tables", {"connector_id": 7, "catalog": f"c{n:03d}", "schema": "s"}
                )
                assert not result.is_error, result
            figures[f"after {calls} calls"] = memory(pid)
            await anyio.sleep(ttl + 1)
            # One small call (an empty listing): a cache drops what has expired when it is next used.
            await client.call_tool("list_catalogs", {"connector_id": 7})
            figures["after the TTL"] = memory(pid)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=70)
    parser.add_argument("--tables", type=int, default=20_000)
    parser.add_argument("--ttl", type=float, default=10.0)
    options = parser.parse_args()
    figures = anyio.run(measure, options.calls, options.tables, options.ttl)
    for label, figure in figures.items():
        print(f"{label:>20}: RSS {figure.rss_mb:6.0f} MiB (peak {figure.peak_mb:.0f} MiB)")


if __name__ == "__main__":
    main()
