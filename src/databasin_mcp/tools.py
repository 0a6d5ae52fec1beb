"""The MCP tools, derived from the specs: each tool's parameters are its operation's, with the context injected.

A tool is not written by hand: `tool_function(spec, person)` takes the signature of the operation the spec
names (whose parameters are declared in params.py), adds the MCP context, and runs the operation; its Answer
becomes the tool result, and a failure becomes one or two sentences in an agent's words (outcomes.py).
A secret parameter (a password) is not the model's to give: it is left out, and `ask_password` and
`password_ref` take its place (person.py), unless the server allows secret arguments.
"""

from __future__ import annotations

import inspect
import logging
import typing
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any, cast

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, InputRequiredResult, TextContent
from pydantic import BaseModel

from . import audit
from .errors import DatabasinError
from .ops import Operations
from .ops.base import INJECTED
from .outcomes import explain
from .params import Secret
from .person import STAND_INS, Person, marked
from .shaping import Answer
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


def tool_function(
    spec: ToolSpec, person: Person, *, secret_arguments: bool = False
) -> Callable[..., Awaitable[CallToolResult | InputRequiredResult]]:
    """The function the MCP SDK registers for `spec`: the operation's parameters after a Context, a secret
    one replaced by its stand-ins (kept too when `secret_arguments`)."""
    hints = typing.get_type_hints(spec.operation, include_extras=True)
    secret = marked(spec.operation, Secret)
    parameters = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Context)]
    for name, parameter in inspect.signature(spec.operation).parameters.items():
        if name == "self" or name in INJECTED:
            continue
        if name != secret or secret_arguments:
            parameters.append(parameter.replace(annotation=hints[name]))
        if name == secret:
            parameters += [
                inspect.Parameter(stand_in, inspect.Parameter.KEYWORD_ONLY, annotation=declared, default=default)
                for stand_in, declared, default in STAND_INS
            ]
    result_type = RESULT_TYPES[spec.answers]

    async def tool(ctx: Context, **arguments: Any) -> CallToolResult | InputRequiredResult:
        return await run(ctx, spec, arguments, person)

    tool.__name__ = tool.__qualname__ = spec.name
    tool.__doc__ = spec.description
    tool.__signature__ = inspect.Signature(parameters, return_annotation=result_type)  # type: ignore[attr-defined]
    tool.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": result_type}
    return tool


async def run(
    ctx: Context, spec: ToolSpec, arguments: Mapping[str, Any], person: Person
) -> CallToolResult | InputRequiredResult:
    """Run `spec`'s operation with the validated arguments and what the person gave; its Answer, or its
    failure, as a tool result (or the question for the person, on a 2026-07-28 connection)."""
    ops = cast(Operations, ctx.request_context.lifespan_context)
    supplied: dict[str, Any] = {}
    if "progress" in inspect.signature(spec.operation).parameters:

        async def progress(elapsed: float, message: str) -> None:
            await ctx.report_progress(elapsed, None, message)

        supplied["progress"] = progress
    # Every write is recorded, whatever happens to it (audit.py); None for a read.
    caller = audit.caller_of(ctx) if spec.writes else None
    try:
        prepared = await person.prepare(ctx, spec, dict(arguments), ops)
        if isinstance(prepared, InputRequiredResult):
            return prepared
        answer = prepared if isinstance(prepared, Answer) else await ops.bind(spec.operation)(**prepared, **supplied)
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
