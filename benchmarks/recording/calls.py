"""The calls every client is recorded making: the benchmark's agent tasks, a large page and an error.

Made first in-process (the MCP SDK's in-memory client, a fresh sandbox, cache off) to get the
CallToolResult our server answers; a client then makes the same calls, in the same order, against
the sandbox our server embeds (`--sandbox`: same seed, so the same data and the same new IDs), with
the same settings (`--structured-output` when the in-process server had structured_output=True).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcp.types import CallToolResult

from databasin_mcp.harness.results import created_id
from databasin_mcp.sandbox import SandboxConfig, running_sandbox

from ..tasks import NEW_CONNECTOR, TABLES_ARGS, TASKS, Task, agent_session, text_of

MISSING_CONNECTOR = 999_999
# Beyond the benchmark's tasks: the largest page a caller can ask for, and an error (no structuredContent).
EXTRA_TASKS: tuple[Task, ...] = (
    Task("list_tables_500", "list_tables, limit=500", "list_tables", {**TABLES_ARGS, "limit": 500}, ""),
    Task(
        "error_not_found",
        "get_connector of a missing ID",
        "get_connector",
        {"connector_id": MISSING_CONNECTOR},
        "",
    ),
)
RECORDED_TASKS: tuple[Task, ...] = (*TASKS, *EXTRA_TASKS)


@dataclass(frozen=True)
class Call:
    """One task's tool call and what our server answered it in-process."""

    key: str
    title: str
    tool: str
    arguments: Mapping[str, Any]
    result: CallToolResult
    raw_bodies: list[Any]  # the upstream answers that carry the same data (the task's `raw` requests)

    @property
    def text(self) -> str:
        """Our text block(s): what the benchmark's token figures measure."""
        return text_of(self.result)


async def in_process_calls(
    tasks: Sequence[Task] = RECORDED_TASKS, *, structured_output: bool = False, asks_the_person: bool = False
) -> list[Call]:
    """Every task's call, in order, against a fresh sandbox; later tasks act on the connector created earlier.
    `asks_the_person`: the client declares elicitation, as Claude Code does, and nobody answers (headless).

    Each result is as a client holds it (serialized by the server, parsed back).
    """
    calls: list[Call] = []
    created: int | None = None
    async with (
        running_sandbox(SandboxConfig(port=0, rate_limit=0)) as sandbox,
        agent_session(sandbox, structured_output=structured_output, asks_the_person=asks_the_person) as session,
    ):
        for task in tasks:
            arguments = {key: created if value == NEW_CONNECTOR else value for key, value in task.arguments.items()}
            exchanges = session.recorder.exchanges if session.recorder else []
            exchanges.clear()
            result = await session.call(task.tool, arguments)
            if task.tool == "create_connector" and not result.is_error:
                created = created_id(text_of(result))
            raw = [e.body for e in exchanges if task.raw and re.match(task.raw, e.target)]
            calls.append(Call(task.key, task.title, task.tool, arguments, result, raw))
    return calls


async def in_process_tools() -> list[dict[str, Any]]:
    """Our tools as tools/list sends them (camelCase keys, unset fields left out)."""
    async with running_sandbox(SandboxConfig(port=0, rate_limit=0)) as sandbox, agent_session(sandbox) as session:
        return await session.tool_list()
