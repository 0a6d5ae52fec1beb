"""Tokens an agent reads: our answers beside the same data as the raw API returns it.

Counted with Anthropic's legacy Claude tokenizer (`anthropic_tokenizer`, offline), a proxy for current
Claude models. Three comparisons per task:
- ours vs the raw API bodies (pretty JSON, minified JSON, TOON): what the tool saves an agent in all;
- ours vs the rows and fields we show, re-encoded (format only: paging and projection taken out);
- ours vs the vendor CLI's CSV on the same connector rows (tokens per row).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from anthropic_tokenizer import count_tokens

from databasin_mcp.sandbox import RunningSandbox
from databasin_mcp.sandbox.seed import PROJECT_95

from . import formats
from .tasks import AgentSession, TaskRun, agent_session, run_tasks

CLI_FIELDS = ("connectorID", "connectorName", "connectorType", "active")
TOOL_LIST = "tool_list"  # the budget figure of the whole tool list


def count(text: str) -> int:
    return int(count_tokens(text))


def compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


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
    ours: int
    structured: int | None  # structuredContent as compact JSON (if a client forwards it to the model)
    raw: Encodings  # the upstream bodies that carry the same data
    shown: Encodings | None  # only the rows and fields our answer shows (format-only comparison)
    rows: int | None
    fields: int | None
    title_line: int | None  # of `ours`, the title line of a listing (count, scope, next offset)


@dataclass(frozen=True)
class PeerRow:
    """The vendor CLI's CSV and our answer over the same connector rows."""

    label: str
    rows: int
    csv: int
    ours: int


@dataclass(frozen=True)
class TokenReport:
    tool_list: int  # name + description + input schema of every tool, compact JSON
    tool_list_full: int  # every field a server sends in tools/list (output schemas, annotations)
    tasks: list[TaskTokens]
    peers: list[PeerRow]

    def figure(self, key: str) -> TaskTokens:
        return next(t for t in self.tasks if t.key == key)


def shown_data(run: TaskRun) -> tuple[Any, int, int] | None:
    """(the records our answer shows, rows, fields), for listings and the single connector."""
    data = run.structured or {}
    if "items" in data:
        return data["items"], len(data["items"]), len(data["fields"])
    if "connector" in data:
        return data["connector"], 1, len(data["connector"])
    return None


def task_tokens(run: TaskRun) -> TaskTokens:
    shown = shown_data(run)
    return TaskTokens(
        key=run.task.key,
        title=run.task.title,
        tool=run.task.tool,
        ours=count(run.text),
        structured=count(compact_json(run.structured)) if run.structured is not None else None,
        raw=Encodings.of(run.raw_bodies),
        shown=Encodings.of([shown[0]]) if shown else None,
        rows=shown[1] if shown else None,
        fields=shown[2] if shown else None,
        title_line=count(run.text.partition("\n")[0]) if shown else None,
    )


def tool_list_figures(tools: list[dict[str, Any]]) -> tuple[int, int]:
    essentials = [{key: tool[key] for key in ("name", "description", "inputSchema")} for tool in tools]
    return count(compact_json(essentials)), count(compact_json(tools))


async def peer_rows(session: AgentSession, runs: list[TaskRun]) -> list[PeerRow]:
    """The vendor CSV on our default page (25 rows), and on all 95 rows against our limit=100 answer."""
    listing = next(run for run in runs if run.task.key == "list_connectors")
    assert listing.structured is not None
    assert tuple(listing.structured["fields"]) == CLI_FIELDS
    page = listing.structured["items"]
    everything = sorted(listing.raw_bodies[0], key=lambda row: row["connectorID"])
    text, _, _ = await session.call("list_connectors", {"project_id": PROJECT_95, "limit": len(everything) + 5})
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
            count(text),
        ),
    ]


async def measure(sandbox: RunningSandbox) -> TokenReport:
    async with agent_session(sandbox) as session:
        tool_list, tool_list_full = tool_list_figures(await session.tool_list())
        runs = await run_tasks(session)
        peers = await peer_rows(session, runs)
    return TokenReport(tool_list, tool_list_full, [task_tokens(run) for run in runs], peers)


async def budget_figures(sandbox: RunningSandbox) -> dict[str, int]:
    """What tests/test_budget.py holds to benchmarks/budget.json: tool list and default answers."""
    async with agent_session(sandbox) as session:
        tool_list, _ = tool_list_figures(await session.tool_list())
        runs = await run_tasks(session)
    return {TOOL_LIST: tool_list, **{run.task.key: count(run.text) for run in runs}}
