"""Tokens the model reads: per client, beside our compact text and the same data as the raw API returns it.

Counted with Anthropic's legacy Claude tokenizer (`anthropic_tokenizer`, offline), a proxy for current
Claude models. The tasks run twice, each time on a fresh sandbox:
- as users get the server (structured output off): what each client's model reads, computed with the
  client's view function (benchmarks/recording/client_views.py, checked byte for byte against the real
  clients by `python -m benchmarks.recording`), beside our text block;
- with `structured_output=True` (`--structured-output`): what Claude Code's model reads then (it forwards
  structuredContent instead of the text), and the rows and fields shown, for the format-only comparison.
Per task, three comparisons with the raw API:
- what the model reads vs the raw API bodies (pretty JSON, minified JSON, TOON): what the tool saves in all;
- our text vs the rows and fields we show, re-encoded (format only: paging and projection taken out);
- our text vs the vendor CLI's CSV on the same connector rows (tokens per row).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from anthropic_tokenizer import count_tokens

from databasin_mcp.redact import is_secret_field
from databasin_mcp.sandbox import RunningSandbox, SandboxConfig, running_sandbox
from databasin_mcp.sandbox.seed import PROJECT_95
from databasin_mcp.server import INSTRUCTIONS

from . import formats
from .recording.client_views import (
    claude_code_deferred_listing,
    claude_code_tool_definitions,
    claude_code_view,
    openai_agents_view,
)
from .tasks import AgentSession, TaskRun, agent_session, run_tasks

SERVER_NAME = "databasin"  # the name a client config gives our server; Claude Code prefixes tools with it
CLI_FIELDS = ("connectorID", "connectorName", "connectorType", "active")
# The budget's groups (benchmarks/budget.json): what the model reads per client, and what comes before any call.
CLAUDE_CODE, OPENAI_AGENTS, DEFINITIONS = "claude_code", "openai_agents", "definitions"
TOOL_DEFINITIONS_OFF = "tool_definitions_tool_search_off"
TOOL_NAMES_ON = "tool_names_tool_search_on"
INSTRUCTIONS_FIGURE = "instructions"


def count(text: str) -> int:
    return int(count_tokens(text))


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def prefixed(tool: str) -> str:
    """The name Claude Code gives our tool (what it passes to its view of the result)."""
    return f"mcp__{SERVER_NAME}__{tool}"


def non_secret(body: Any) -> Any:
    """A record without the fields whose names say they hold a secret (what no answer may show)."""
    if isinstance(body, dict):
        return {key: value for key, value in body.items() if not is_secret_field(key)}
    return body


@dataclass(frozen=True)
class Encodings:
    """Tokens of the same data as pretty JSON (a), minified JSON (b) and TOON (c)."""

    pretty: int
    minified: int
    toon: int

    @classmethod
    def of(cls, bodies: Sequence[Any]) -> Encodings:
        return cls(
            pretty=count(formats.joined(formats.pretty, bodies)),
            minified=count(formats.joined(formats.minified, bodies)),
            toon=count(formats.joined(formats.toon, bodies)),
        )


@dataclass(frozen=True)
class TaskTokens:
    key: str
    title: str
    tool: str
    claude_code: int  # what Claude Code's model reads (the server as users get it)
    openai_agents: int  # what the OpenAI Agents SDK's model reads (MCPServerStdio's defaults)
    ours: int  # our text block: the compact answer as designed
    claude_code_structured: int  # what Claude Code's model reads from a server run with --structured-output
    openai_agents_structured: int  # the same through the Agents SDK with use_structured_content=True
    structured: int  # that structuredContent as compact JSON
    raw: Encodings  # the upstream bodies that carry the same data
    record: Encodings | None  # a single connector: the non-secret fields of the upstream record
    shown: Encodings | None  # only the rows and fields our answer shows (format-only comparison)
    rows: int | None
    fields: int | None
    title_line: int | None  # of `ours`, the title line of a listing (count, scope, next offset)

    @property
    def read(self) -> int:
        """The larger of what the two clients' models read."""
        return max(self.claude_code, self.openai_agents)


@dataclass(frozen=True)
class PeerRow:
    """The vendor CLI's CSV and our answer over the same connector rows."""

    label: str
    rows: int
    csv: int
    ours: int


@dataclass(frozen=True)
class Definitions:
    """What the model reads of the server before any call, as Claude Code sends it (computed offline)."""

    tool_definitions_off: int  # tool search off: our tool definitions (prefixed name, description, input schema)
    tool_names_on: int  # tool search on (the default): only our prefixed names, one a line
    instructions: int  # shown verbatim by Claude Code (the OpenAI Agents SDK does not send them)
    tools_list: int  # every field of tools/list as our server sends it (compact JSON)
    tools: int


@dataclass(frozen=True)
class TokenReport:
    definitions: Definitions
    tasks: list[TaskTokens]
    peers: list[PeerRow]

    def figure(self, key: str) -> TaskTokens:
        return next(t for t in self.tasks if t.key == key)


def definitions(tools: list[dict[str, Any]]) -> Definitions:
    return Definitions(
        tool_definitions_off=count(compact_json(claude_code_tool_definitions(tools, SERVER_NAME))),
        tool_names_on=count(claude_code_deferred_listing(tools, SERVER_NAME)),
        instructions=count(INSTRUCTIONS),
        tools_list=count(compact_json(tools)),
        tools=len(tools),
    )


def shown_data(run: TaskRun) -> tuple[Any, int, int] | None:
    """(the records our answer shows, rows, fields), for listings and single connectors (structured run)."""
    data = run.structured or {}
    if "items" in data:
        return data["items"], len(data["items"]), len(data["fields"])
    if "connector" in data:
        return data["connector"], 1, len(data["connector"])
    return None


def task_tokens(run: TaskRun, structured_run: TaskRun) -> TaskTokens:
    if run.text != structured_run.text:
        raise RuntimeError(f"{run.task.key}: --structured-output changed the text:\n{run.text}\n{structured_run.text}")
    if structured_run.structured is None:
        raise RuntimeError(f"{run.task.key}: no structuredContent with structured_output=True")
    shown = shown_data(structured_run)
    single = run.task.tool == "get_connector"
    return TaskTokens(
        key=run.task.key,
        title=run.task.title,
        tool=run.task.tool,
        claude_code=count(claude_code_view(run.result, prefixed(run.task.tool))),
        openai_agents=count(openai_agents_view(run.result)),
        ours=count(run.text),
        claude_code_structured=count(claude_code_view(structured_run.result, prefixed(run.task.tool))),
        openai_agents_structured=count(openai_agents_view(structured_run.result, use_structured_content=True)),
        structured=count(compact_json(structured_run.structured)),
        raw=Encodings.of(run.raw_bodies),
        record=Encodings.of([non_secret(body) for body in run.raw_bodies]) if single else None,
        shown=Encodings.of([shown[0]]) if shown else None,
        rows=shown[1] if shown else None,
        fields=shown[2] if shown else None,
        title_line=count(run.text.partition("\n")[0]) if shown and not single else None,
    )


async def peer_rows(session: AgentSession, runs: list[TaskRun], structured_runs: list[TaskRun]) -> list[PeerRow]:
    """The vendor CSV on our default page (25 rows), and on all 95 rows against our limit=100 answer."""
    listing = next(run for run in runs if run.task.key == "list_connectors")
    data = next(run for run in structured_runs if run.task.key == "list_connectors").structured
    assert data is not None
    assert tuple(data["fields"]) == CLI_FIELDS
    page = data["items"]
    everything = sorted(listing.raw_bodies[0], key=lambda row: row["connectorID"])
    wide = await session.call("list_connectors", {"project_id": PROJECT_95, "limit": len(everything) + 5})
    return [
        PeerRow(
            f"default page ({len(page)} rows)",
            len(page),
            count(formats.vendor_csv(page, CLI_FIELDS)),
            count(listing.text),
        ),
        PeerRow(
            f"all {len(everything)} rows (ours: limit=100)",
            len(everything),
            count(formats.vendor_csv(everything, CLI_FIELDS)),
            count(claude_code_view(wide, prefixed("list_connectors"))),
        ),
    ]


async def measure() -> TokenReport:
    """Both runs, each on a fresh sandbox (so that the created connector gets the same ID)."""
    async with (
        running_sandbox(SandboxConfig(port=0, rate_limit=0)) as sandbox,
        agent_session(sandbox, structured_output=True) as session,
    ):
        structured_runs = await run_tasks(session)
    async with running_sandbox(SandboxConfig(port=0, rate_limit=0)) as sandbox, agent_session(sandbox) as session:
        tools = await session.tool_list()
        runs = await run_tasks(session)
        peers = await peer_rows(session, runs, structured_runs)
    tasks = [task_tokens(run, structured) for run, structured in zip(runs, structured_runs, strict=True)]
    return TokenReport(definitions(tools), tasks, peers)


def budget_groups(definitions: Definitions, runs: Sequence[TaskRun]) -> dict[str, dict[str, int]]:
    """The figures benchmarks/budget.json holds, by group: per client per task, and before any call."""
    return {
        DEFINITIONS: {
            TOOL_DEFINITIONS_OFF: definitions.tool_definitions_off,
            TOOL_NAMES_ON: definitions.tool_names_on,
            INSTRUCTIONS_FIGURE: definitions.instructions,
        },
        CLAUDE_CODE: {run.task.key: count(claude_code_view(run.result, prefixed(run.task.tool))) for run in runs},
        OPENAI_AGENTS: {run.task.key: count(openai_agents_view(run.result)) for run in runs},
    }


async def budget_figures(sandbox: RunningSandbox) -> dict[str, dict[str, int]]:
    """What tests/test_budget.py holds to benchmarks/budget.json (the server as users get it, offline)."""
    async with agent_session(sandbox) as session:
        tools = await session.tool_list()
        runs = await run_tasks(session)
    return budget_groups(definitions(tools), runs)
