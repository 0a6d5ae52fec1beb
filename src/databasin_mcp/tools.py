"""The MCP tools, derived from the specs: each tool's parameters are its operation's, with the context injected.

A tool is not written by hand: `tool_function(spec)` takes the signature of the operation the spec names
(whose parameters are declared in params.py), adds the MCP context, and runs the operation; its Answer
becomes the tool result, and a failure becomes one or two sentences in an agent's words (outcomes.py).
"""

from __future__ import annotations

import inspect
import logging
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, cast

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel

from . import audit
from .errors import DatabasinError
from .ops import Operations
from .ops.base import INJECTED
from .outcomes import explain
from .specs import ToolSpec
from .wording import AGENT_WORDS

logger = logging.getLogger(__name__)

# --- what structuredContent holds, when structured output is on -------------------------------------------


class ListingOutput(BaseModel):
    summary: str  # the text's title line: how many, which page, the next offset
    items: list[dict[str, Any]]
    fields: list[str]
    omitted_fields: list[str]
    total: int
    offset: int
    limit: int
    next_offset: int | None
    truncated: bool
    notes: list[str] = []  # the text's lines after the table: why it is empty, what the cap cut


class ConnectorOutput(BaseModel):
    summary: str
    connector: dict[str, Any]
    omitted_fields: list[str]
    notes: list[str] = []  # the text's lines after the fields: empty ones, more fields


class ResultOutput(BaseModel):
    """The outcome of a write or an action; keys depend on the tool."""

    model_config = {"extra": "allow"}

    summary: str  # what the text says
    connector_id: int | None


RESULT_TYPES: dict[str, Any] = {
    "listing": Annotated[CallToolResult, ListingOutput],
    "record": Annotated[CallToolResult, ConnectorOutput],
    "outcome": Annotated[CallToolResult, ResultOutput],
}


# --- from a spec to a tool function ---------------------------------------------------------------------


def tool_function(spec: ToolSpec) -> Callable[..., Awaitable[CallToolResult]]:
    """The function the MCP SDK registers for `spec`: the operation's parameters after a Context."""
    hints = typing.get_type_hints(spec.operation, include_extras=True)
    parameters = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Context),
        *(
            parameter.replace(annotation=hints[name])
            for name, parameter in inspect.signature(spec.operation).parameters.items()
            if name != "self" and name not in INJECTED
        ),
    ]
    result_type = RESULT_TYPES[spec.answers]

    async def tool(ctx: Context, **arguments: Any) -> CallToolResult:
        return await run(ctx, spec, arguments)

    tool.__name__ = tool.__qualname__ = spec.name
    tool.__doc__ = spec.description
    tool.__signature__ = inspect.Signature(parameters, return_annotation=result_type)  # type: ignore[attr-defined]
    tool.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": result_type}
    return tool


async def run(ctx: Context, spec: ToolSpec, arguments: Mapping[str, Any]) -> CallToolResult:
    """Run `spec`'s operation with the validated arguments; its Answer, or its failure, as a tool result."""
    ops = cast(Operations, ctx.request_context.lifespan_context)
    supplied: dict[str, Any] = {}
    if "progress" in inspect.signature(spec.operation).parameters:

        async def progress(elapsed: float, message: str) -> None:
            await ctx.report_progress(elapsed, None, message)

        supplied["progress"] = progress
    # Every write is recorded, whatever happens to it (audit.py); None for a read.
    caller = audit.caller_of(ctx) if spec.writes else None
    try:
        answer = await ops.bind(spec.operation)(**arguments, **supplied)
    except DatabasinError as error:
        if caller is not None:
            audit.record(audit.failed(spec.name, arguments, error, ops.settings.project, caller))
        logger.info("%s failed: %s", spec.name, type(error).__name__)
        return error_result(explain(error, spec, arguments, AGENT_WORDS).text)
    except BaseException as error:  # a crash or a cancellation: the write may or may not have been made
        if caller is not None:
            audit.record(audit.failed(spec.name, arguments, error, ops.settings.project, caller))
        raise
    if caller is not None:
        facts = {**answer.about, **answer.data}
        audit.record(audit.answered(spec.name, arguments, facts, ops.settings.project, caller))
    # structuredContent only for programs that asked for it: a client that has it forwards it to the
    # model instead of the text (Claude Code does), at 1.4-2.4x the tokens (benchmarks/recording).
    structured = answer.structured() if ops.settings.structured_output else None
    return CallToolResult(content=[TextContent(type="text", text=answer.text)], structured_content=structured)


def error_result(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
