"""The fixed set of agent tasks, run in-process against a sandbox with every upstream body recorded.

Each task names the upstream requests whose bodies hold the same data as our answer (`raw`): that is
what an agent calling the API directly would read. The server runs with the listing cache off so that
every task makes its own upstream requests (the cache changes no answer, only where it comes from).
It runs as a user gets it (structured output off: the text is the whole answer) unless a caller asks
for `structured_output=True`, which adds the same facts as structuredContent for programs.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from mcp import Client
from mcp.types import CallToolResult, ElicitResult, TextContent

from databasin_mcp.config import Settings
from databasin_mcp.harness.results import created_id
from databasin_mcp.sandbox import RunningSandbox
from databasin_mcp.sandbox.samples import SAMPLE_CONNECTORS, SAMPLE_SCHEMA
from databasin_mcp.sandbox.seed import (
    BIG_CATALOG,
    BIG_CONNECTOR_ID,
    BIG_SCHEMA,
    LONG_EXTRAS_CONNECTOR_ID,
    PROJECT_95,
    WIDE_TABLE,
)
from databasin_mcp.server import create_server

# Placeholder argument: the ID the create task answered (the update and delete tasks act on it).
NEW_CONNECTOR = "<new connector>"
FOUND_CONNECTOR_ID = 311  # "Zürich Finance": what the find task finds, then reads
# What the create task answers first: "Created connector 535 'Bench Orders Postgres' (RDBMS) in proj-007."


@dataclass(frozen=True)
class Task:
    key: str  # the figure's name in budget.json and RESULTS.md
    title: str
    tool: str
    arguments: Mapping[str, Any]
    raw: str  # regex matched at the start of "METHOD /path?query": the requests that carry the same data


TABLES_ARGS = {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA}

TASKS: tuple[Task, ...] = (
    # The API has no project endpoint: an agent reads every connector to learn the projects.
    Task("list_projects", "list projects", "list_projects", {}, r"GET /api/connector$"),
    Task(
        "list_connectors",
        f"list the 95 connectors of {PROJECT_95}",
        "list_connectors",
        {"project_id": PROJECT_95},
        rf"GET /api/connector\?internalID={PROJECT_95}$",
    ),
    Task(
        "find_connectors",
        "find a connector by a word of its name",
        "find_connectors",
        {"query": "zurich"},
        r"GET /api/connector$",
    ),
    Task(
        "get_connector",
        "read one connector",
        "get_connector",
        {"connector_id": FOUND_CONNECTOR_ID},
        rf"GET /api/connector/{FOUND_CONNECTOR_ID}$",
    ),
    # A record as real backends send it: beyond the reference's fields, a long description and an options object.
    Task(
        "get_connector_long_extras",
        "read one connector with long extras",
        "get_connector",
        {"connector_id": LONG_EXTRAS_CONNECTOR_ID},
        rf"GET /api/connector/{LONG_EXTRAS_CONNECTOR_ID}$",
    ),
    Task(
        "create_connector",
        "create + test a connector",
        "create_connector",
        {
            "name": "Bench Orders Postgres",
            "connector_type": "RDBMS",
            "institution_id": 3,
            "project_id": PROJECT_95,
            "host": "orders-db.bench.local",
            "port": 5432,
            "database": "orders",
            "username": "bench_reader",
            "test": True,
        },
        r"POST /api/connector(/\d+/test)?$",
    ),
    Task(
        "update_connector",
        "update a connector",
        "update_connector",
        {"connector_id": NEW_CONNECTOR, "name": "Bench Orders (Postgres)"},
        r"PUT /api/connector/\d+$",
    ),
    Task(
        "list_catalogs",
        "list catalogs",
        "list_catalogs",
        {"connector_id": BIG_CONNECTOR_ID},
        r"GET /api/connector/\d+/catalogs",
    ),
    Task(
        "list_schemas",
        f"list schemas of {BIG_CATALOG}",
        "list_schemas",
        {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG},
        r"GET /api/connector/\d+/schemas",
    ),
    Task(
        "list_tables",
        f"list the 1,500 tables of {BIG_CATALOG}.{BIG_SCHEMA}",
        "list_tables",
        TABLES_ARGS,
        r"GET /api/connector/\d+/tables",
    ),
    Task(
        "list_columns",
        f"list the 250 columns of {WIDE_TABLE}",
        "list_columns",
        {**TABLES_ARGS, "table": WIDE_TABLE},
        r"GET /api/connector/\d+/columns",
    ),
    # The first rows of the widest table: the default preview shows its leading columns and names the rest.
    Task(
        "preview_table",
        f"preview 10 rows of the 250-column {WIDE_TABLE}",
        "preview_table",
        {**TABLES_ARGS, "table": WIDE_TABLE},
        r"POST /api/connector/\d+/query$",
    ),
    Task(
        "run_query",
        "run a GROUP BY over a table with awkward names",
        "run_query",
        {
            "connector_id": SAMPLE_CONNECTORS["postgres"],
            "sql": f'SELECT "Product Name", count(*) AS orders, round(avg("Unit Price"), 2) AS avg_price '
            f'FROM "{SAMPLE_SCHEMA}"."Order Items" GROUP BY 1 ORDER BY 2 DESC',
        },
        r"POST /api/connector/\d+/query$",
    ),
    # Last, so the sandbox ends as it started.
    Task(
        "delete_connector",
        "delete a connector (confirmed)",
        "delete_connector",
        {"connector_id": NEW_CONNECTOR, "confirm": True},
        r"DELETE /api/connector/\d+$",
    ),
)


@dataclass
class Exchange:
    """One upstream request and the JSON body it was answered with."""

    target: str  # "GET /api/connector?internalID=proj-007"
    body: Any


class RecordingTransport(httpx.AsyncBaseTransport):
    """An HTTP transport that keeps every upstream answer's body (what the API really sent)."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        target = f"{request.method} {request.url.raw_path.decode('ascii')}"
        self.exchanges.append(Exchange(target, json.loads(content) if content else None))
        return httpx.Response(response.status_code, headers=response.headers, content=content)

    async def aclose(self) -> None:
        await self._inner.aclose()


def text_of(result: CallToolResult) -> str:
    """Our text block(s), joined: the compact answer every figure is compared with."""
    return "\n".join(block.text for block in result.content if isinstance(block, TextContent))


def as_received(result: CallToolResult) -> CallToolResult:
    """A result as a client over a real transport holds it: serialized by the server, parsed back."""
    return CallToolResult.model_validate_json(result.model_dump_json(by_alias=True, exclude_none=True))


@dataclass
class TaskRun:
    """What one task's tool call answered, and the upstream bodies holding the same data."""

    task: Task
    arguments: dict[str, Any]
    result: CallToolResult  # as a client receives it
    raw_bodies: list[Any] = field(default_factory=list)

    @property
    def text(self) -> str:
        return text_of(self.result)

    @property
    def structured(self) -> dict[str, Any] | None:
        return self.result.structured_content


@dataclass
class AgentSession:
    """An MCP client session with our server; `recorder` is set when the server runs in-process."""

    client: Client
    recorder: RecordingTransport | None = None

    async def call(self, tool: str, arguments: Mapping[str, Any]) -> CallToolResult:
        return as_received(await self.client.call_tool(tool, dict(arguments)))

    async def tool_list(self) -> list[dict[str, Any]]:
        """Every tool as tools/list sends it (camelCase keys, unset fields left out)."""
        tools = (await self.client.list_tools()).tools
        return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools]


async def cancelling_person(context: Any, params: Any) -> ElicitResult:
    """A client that can ask the person (form elicitation) but runs with nobody there: Claude Code headless
    (`claude -p`) cancels every question, so a delete it makes is not confirmed."""
    return ElicitResult(action="cancel")


@asynccontextmanager
async def agent_session(
    sandbox: RunningSandbox, *, structured_output: bool = False, asks_the_person: bool = False
) -> AsyncIterator[AgentSession]:
    """Our server, in-process (the MCP SDK's in-memory client), pointed at `sandbox`, cache off. With
    `asks_the_person` the client declares elicitation and nobody answers it (cancelling_person)."""
    settings = Settings(
        api_url=sandbox.url,
        token=sandbox.token,  # type: ignore[arg-type]
        cache_ttl=0,
        structured_output=structured_output,
    )
    recorder = RecordingTransport()
    callback = cancelling_person if asks_the_person else None
    async with Client(create_server(settings, transport=recorder), elicitation_callback=callback) as client:
        yield AgentSession(client, recorder)


async def run_tasks(session: AgentSession, tasks: Sequence[Task] = TASKS) -> list[TaskRun]:
    """Run the tasks in order with default arguments; later tasks act on the connector created earlier."""
    runs: list[TaskRun] = []
    created: int | None = None
    for task in tasks:
        arguments = {key: created if value == NEW_CONNECTOR else value for key, value in task.arguments.items()}
        exchanges = session.recorder.exchanges if session.recorder else []
        exchanges.clear()
        result = await session.call(task.tool, arguments)
        if result.is_error:
            raise RuntimeError(f"{task.key} failed: {text_of(result)}")
        if task.tool == "create_connector":
            created = created_id(text_of(result))
        raw = [e.body for e in exchanges if re.match(task.raw, e.target)]
        runs.append(TaskRun(task, arguments, result, raw))
    return runs


def listing_total(text: str) -> int:
    """The count a listing's title line starts with ("1,500 tables in connector 142, ...")."""
    first = text.partition(" ")[0]
    if not first.replace(",", "").isdigit():
        raise RuntimeError(f"not a listing: {text[:120]}")
    return int(first.replace(",", ""))
