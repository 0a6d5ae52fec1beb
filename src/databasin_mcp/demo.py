"""`make demo`: an agent's session with databasin-mcp, against a local sandbox, printed step by step.

Starts the sandbox API in the background on a free port, launches the real
`databasin-mcp` server over stdio with a real MCP client, runs the calls an
agent managing connectors would make, and prints each call with exactly the
text the model reads and its size in tokens. Needs no account and no
configuration; stops the sandbox when done.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
from anyio.abc import Process
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from .redact import is_secret_field
from .sandbox.seed import BIG_CATALOG, BIG_CONNECTOR_ID, BIG_SCHEMA, PROJECT_95, WIDE_TABLE

STARTUP_TIMEOUT = 30.0
CALL_TIMEOUT = 60.0


@dataclass(frozen=True)
class Step:
    why: str
    tool: str
    arguments: dict[str, Any]


def script(new_id: Callable[[], int]) -> list[Step | Callable[[], Step]]:
    """The session: later steps use the ID the create step returned."""
    return [
        Step("Which projects are there?", "list_projects", {}),
        Step(f"What is in {PROJECT_95}?", "list_connectors", {"project_id": PROJECT_95}),
        Step("Where is the Zürich connector?", "find_connectors", {"query": "zurich"}),
        Step("Read one connector", "get_connector", {"connector_id": 311}),
        Step(
            "Create a connector and test it",
            "create_connector",
            {
                "name": "Demo Orders Postgres",
                "connector_type": "RDBMS",
                "project_id": PROJECT_95,
                "host": "orders-db.demo.local",
                "port": 5432,
                "database": "orders",
                "username": "demo_reader",
                "password": "demo-Pa55word",
                "test": True,
            },
        ),
        lambda: Step("Rename it", "update_connector", {"connector_id": new_id(), "name": "Demo Orders (Postgres)"}),
        Step(
            "Tables of a 1,500-table schema (first page)",
            "list_tables",
            {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA},
        ),
        Step(
            "Columns of a 250-column table (first page)",
            "list_columns",
            {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA, "table": WIDE_TABLE},
        ),
        lambda: Step("Delete it (confirmed)", "delete_connector", {"connector_id": new_id(), "confirm": True}),
        Step(
            "The first rows of the 250-column table",
            "preview_table",
            {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA, "table": WIDE_TABLE},
        ),
    ]


def token_counter() -> tuple[Callable[[str], int], str]:
    """Claude's (legacy) tokenizer when installed, else an estimate of 4 characters a token."""
    try:
        from anthropic_tokenizer import count_tokens
    except ImportError:
        return (lambda text: max(1, round(len(text) / 4))), "≈ tokens (estimate: install the bench extra to count)"
    return count_tokens, "tokens (Claude's legacy tokenizer)"


@asynccontextmanager
async def sandbox() -> AsyncIterator[tuple[str, str]]:
    """A sandbox process on a free port: yields (url, token), stops it on the way out."""
    process: Process = await anyio.open_process(
        [sys.executable, "-m", "databasin_mcp.sandbox", "--port", "0"], stderr=None
    )
    try:
        url, token = await _read_address(process)
        yield url, token
    finally:
        process.terminate()
        with anyio.move_on_after(5):
            await process.wait()
        if process.returncode is None:
            process.kill()
        await process.aclose()


async def _read_address(process: Process) -> tuple[str, str]:
    assert process.stdout is not None
    seen = ""
    url = token = None
    with anyio.fail_after(STARTUP_TIMEOUT):
        async for chunk in process.stdout:
            seen += chunk.decode()
            url = url or _search(r"Databasin sandbox API on (\S+)", seen)
            token = token or _search(r"Token: (\S+)", seen)
            if url and token:
                return url, token
    raise RuntimeError(f"the sandbox stopped before it was ready: {seen!r}")


def _search(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text)
    return match.group(1) if match else None


async def run() -> int:
    count, unit = token_counter()
    async with sandbox() as (url, token):
        env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASIN_")}
        env |= {"DATABASIN_API_URL": url, "DATABASIN_TOKEN": token}
        server = StdioServerParameters(command=sys.executable, args=["-m", "databasin_mcp"], env=env)
        print(f"Sandbox API on {url}; databasin-mcp over stdio. Sizes in {unit}.\n")
        created: dict[str, int] = {}
        total = 0
        async with Client(server, mode="legacy") as client:
            for number, entry in enumerate(script(lambda: created["id"]), start=1):
                step = entry if isinstance(entry, Step) else entry()
                with anyio.fail_after(CALL_TIMEOUT):
                    result = await client.call_tool(step.tool, step.arguments)
                text = "\n".join(getattr(block, "text", "") for block in result.content)
                if step.tool == "create_connector" and (found := re.search(r"Created connector (\d+)", text)):
                    created["id"] = int(found.group(1))
                tokens = count(text)
                total += tokens
                call = f"{step.tool}({_arguments(step.arguments)})"
                status = "  [error]" if result.is_error else ""
                print(f"── {number}. {step.why}: {tokens:,} {unit.split()[0]}{status}")
                print(f"   {call}")
                print("   " + text.replace("\n", "\n   ") + "\n")
                if result.is_error:
                    return 1
        print(f"{number} calls, {total:,} tokens read by the agent in all.")
    return 0


def _arguments(arguments: dict[str, Any]) -> str:
    """The call's arguments as an agent writes them, with the password masked even in a demo."""
    shown = {key: "***" if is_secret_field(key) else value for key, value in arguments.items()}
    return ", ".join(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in shown.items())


def main() -> int:
    return anyio.run(run)


if __name__ == "__main__":
    sys.exit(main())
