"""Every recording, run in turn, and the figures they give: what the model read, per client and task.

Each client makes the same calls as the in-process run (benchmarks/recording/calls.py) against our
server on its embedded sandbox, once as users get it and once with `--structured-output`; the tool
result it forwarded is read back from its next model request and counted beside our text block and
our structuredContent (compact JSON). Each recorded result is also compared with the client's view
function applied to the in-process result, and Claude Code's tool definitions and deferred-tool
listing with the offline views of our tools/list.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp.types import CallToolResult

from databasin_mcp.server import INSTRUCTIONS

from ..tasks import as_received
from ..tokens import compact_json, count
from . import openai_agents, tool_search
from .calls import Call
from .candidates import ListingShapes, SingleShapes
from .claude_code import VERSION as CLAUDE_CODE_VERSION
from .claude_code import ClaudeCode
from .client_views import (
    Content,
    claude_code_deferred_listing,
    claude_code_tool_definitions,
    claude_code_tool_result,
    js_stringify,
    openai_agents_output,
)
from .probe_server import PROBES
from .script import Say, Script, ToolCall
from .stdio_servers import PROBE_NAME, SERVER_NAME, databasin_server, probe_server
from .transcript import (
    Forwarded,
    deferred_listing,
    deferred_names,
    forwarded_results,
    instructions_placement,
    loaded_definitions,
    responses_forwarded,
    server_tools,
    tool_definitions,
)

__all__ = ["RecordingReport", "as_received", "call_script", "record_claude_code", "record_openai_agents"]

RESOURCE_TOOLS = ("ListMcpResourcesTool", "ReadMcpResourceTool", "ReadMcpResourceDirTool")
PREFIX = f"mcp__{SERVER_NAME}__"
# ClientReads.key: which client, and whether our server ran with --structured-output.
CLAUDE_CODE, CLAUDE_CODE_STRUCTURED = "claude_code", "claude_code_structured"
OPENAI_AGENTS, OPENAI_AGENTS_STRUCTURED = "openai_agents", "openai_agents_structured"


@dataclass(frozen=True)
class Read:
    """One task as a client's model read it, beside what our server sent."""

    key: str
    title: str
    tool: str
    read: int  # tokens of the tool result the client forwarded
    text: int  # tokens of our text block(s)
    structured: int | None  # tokens of our structuredContent as compact JSON (None: the server sent none)
    is_error: bool
    same_as_view: bool  # the forwarded content equals the client's view of our in-process result

    @property
    def ratio(self) -> float:
        return self.read / self.text


@dataclass(frozen=True)
class ClientReads:
    key: str
    client: str
    rule: str  # in one line, how this client turns a CallToolResult into what the model reads
    reads: list[Read]

    @property
    def all_as_view(self) -> bool:
        return all(read.same_as_view for read in self.reads)


@dataclass(frozen=True)
class ProbeCheck:
    client: str
    probe: str
    forwarded: Content
    same_as_view: bool


@dataclass(frozen=True)
class Definitions:
    """What Claude Code sends of our server besides results: tool definitions and instructions."""

    our_tools_off: list[str]  # our tools with their schema in the first request, tool search off
    our_definitions_off: int  # their tokens (name, description, input_schema as compact JSON)
    definitions_off_as_view: bool  # == claude_code_tool_definitions(our tools/list), spelled as JavaScript does
    resource_tools_off: list[str]  # resource tools Claude Code added (it adds them for a resources capability)
    resource_definitions_off: int
    resource_tools_on: list[str]  # the same, in the deferred-tool listing (tool search on)
    our_tools_loaded_on: list[str]  # our tools with their schema in the first request, tool search on
    deferred_names_on: list[str]  # every name in the deferred-tool listing
    our_listing_on: int  # tokens of our lines in that listing
    listing_on_as_view: bool  # == claude_code_deferred_listing(our tools/list)
    one_definition_on: int  # tokens of one definition loaded on demand (list_tables), as sent
    instructions_where_off: str
    instructions_where_on: str
    instructions: int  # tokens of our instructions
    instructions_section: int  # with the heading Claude Code puts around them


@dataclass
class RecordingReport:
    clients: list[ClientReads] = field(default_factory=list)
    definitions: Definitions | None = None
    rankings: list[tool_search.Ranking] = field(default_factory=list)
    probes: list[ProbeCheck] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # one line per client that could not run, saying why
    unexpected: list[str] = field(default_factory=list)  # requests a stand-in did not expect ("METHOD /path")
    leftovers: list[str] = field(default_factory=list)  # processes a client left running (killed)
    listing_shapes: list[ListingShapes] = field(default_factory=list)
    single_shapes: SingleShapes | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # wall time per client, and in all ("total")

    def client(self, key: str) -> ClientReads | None:
        return next((c for c in self.clients if c.key == key), None)


def structured_tokens(result: CallToolResult) -> int | None:
    return count(compact_json(result.structured_content)) if result.structured_content is not None else None


def paired(calls: Sequence[Call], forwarded: Sequence[Forwarded], prefix: str) -> list[tuple[Call, Forwarded]]:
    """Calls and forwarded results side by side; fails when the client did not make exactly these calls."""
    made = [(f.tool, f.arguments) for f in forwarded]
    expected = [(prefix + c.tool, dict(c.arguments)) for c in calls]
    if made != expected:
        raise RuntimeError(f"the client made other calls than scripted:\n made: {made}\n expected: {expected}")
    return list(zip(calls, forwarded, strict=True))


def reads(
    calls: Sequence[Call],
    forwarded: Sequence[Forwarded],
    prefix: str,
    view: Callable[[CallToolResult, str], tuple[Content, bool]],
) -> list[Read]:
    return [
        Read(
            key=call.key,
            title=call.title,
            tool=call.tool,
            read=count(got.text),
            text=count(call.text),
            structured=structured_tokens(call.result),
            is_error=got.is_error,
            same_as_view=view(call.result, got.tool) == (got.content, got.is_error),
        )
        for call, got in paired(calls, forwarded, prefix)
    ]


def call_script(calls: Sequence[Call], prefix: str) -> Script:
    return Script((*(ToolCall(prefix + c.tool, dict(c.arguments)) for c in calls), Say("Done.")))


def probe_calls(prefix: str) -> Script:
    return Script((*(ToolCall(prefix + name, {}) for name in PROBES), Say("Done.")))


# --- Claude Code ----------------------------------------------------------------------------------------

CLAUDE_CODE_RULE = (
    "success with structuredContent: JSON.stringify(structuredContent) alone (text block dropped); "
    "error: the text blocks joined by newlines; no structuredContent: the text blocks"
)


def claude_code_view(result: CallToolResult, tool_name: str) -> tuple[Content, bool]:
    return claude_code_tool_result(as_received(result), tool_name)


def record_claude_code(
    claude: ClaudeCode,
    calls: Sequence[Call],
    structured_calls: Sequence[Call],
    tools: Sequence[dict[str, Any]],
    logs: Path,
    report: RecordingReport,
) -> None:
    """The tasks (our server as users get it, then with --structured-output), the probes, the tool search."""
    sessions = []
    for key, server_calls, structured in (
        (CLAUDE_CODE, calls, False),
        (CLAUDE_CODE_STRUCTURED, structured_calls, True),
    ):
        session = claude.record(
            databasin_server(structured_output=structured),
            call_script(server_calls, PREFIX),
            tool_search=False,
            log_path=logs / f"claude-tasks{'-structured-output' if structured else ''}.jsonl",
        )
        sessions.append(session)
        label = f"Claude Code {CLAUDE_CODE_VERSION}" + (", server --structured-output" if structured else "")
        forwarded = forwarded_results(session.conversation)
        report.clients.append(
            ClientReads(key, label, CLAUDE_CODE_RULE, reads(server_calls, forwarded, PREFIX, claude_code_view))
        )
    first_off = sessions[0].conversation[0]

    probe_prefix = f"mcp__{PROBE_NAME}__"
    probed = claude.record(
        probe_server(), probe_calls(probe_prefix), tool_search=False, log_path=logs / "claude-probe.jsonl"
    )
    for got in forwarded_results(probed.conversation):
        name = got.tool.removeprefix(probe_prefix)
        expected = claude_code_tool_result(as_received(PROBES[name]), got.tool)
        report.probes.append(ProbeCheck("Claude Code", name, got.content, expected == (got.content, got.is_error)))

    searched = claude.record(
        databasin_server(),
        tool_search.search_all_script(),
        tool_search=True,
        log_path=logs / "claude-tool-search.jsonl",
    )
    report.rankings = tool_search.rankings(forwarded_results(searched.conversation), PREFIX)
    # The last request carries every definition a search loaded (list_tables among them).
    report.definitions = definitions(first_off, searched.conversation[0], searched.conversation[-1], tools)
    report.versions["Claude Code"] = CLAUDE_CODE_VERSION
    every = (*sessions, probed, searched)
    report.unexpected += [f"{r.method} {r.path}" for s in every for r in s.unexpected]
    report.leftovers += [p for s in every for p in s.leftovers]


def definitions(
    first_off: dict[str, Any], first_on: dict[str, Any], loaded: dict[str, Any], tools: Sequence[dict[str, Any]]
) -> Definitions:
    off = tool_definitions(first_off)
    ours_off = server_tools(off, SERVER_NAME)
    resources_off = [t for t in off if t["name"] in RESOURCE_TOOLS]
    on = tool_definitions(first_on)
    listed_on = deferred_names(first_on)
    table_tool = [t for t in server_tools(tool_definitions(loaded), SERVER_NAME) if t["name"].endswith("list_tables")]
    placement_off = instructions_placement(first_off, SERVER_NAME, INSTRUCTIONS)
    placement_on = instructions_placement(first_on, SERVER_NAME, INSTRUCTIONS)
    return Definitions(
        our_tools_off=[t["name"] for t in ours_off],
        our_definitions_off=count(compact_json(ours_off)),
        definitions_off_as_view=js_stringify(ours_off)
        == js_stringify(claude_code_tool_definitions(tools, SERVER_NAME)),
        resource_tools_off=[t["name"] for t in resources_off],
        resource_definitions_off=count(compact_json(resources_off)),
        resource_tools_on=[name for name in listed_on if name in RESOURCE_TOOLS],
        our_tools_loaded_on=[t["name"] for t in server_tools(loaded_definitions(on), SERVER_NAME)],
        deferred_names_on=listed_on,
        our_listing_on=count(deferred_listing(first_on, SERVER_NAME)),
        listing_on_as_view=deferred_listing(first_on, SERVER_NAME) == claude_code_deferred_listing(tools, SERVER_NAME),
        one_definition_on=count(compact_json(table_tool)) if table_tool else 0,
        instructions_where_off=placement_off.where if placement_off else "not shown",
        instructions_where_on=placement_on.where if placement_on else "not shown",
        instructions=count(INSTRUCTIONS),
        instructions_section=count(placement_on.section) if placement_on else 0,
    )


# --- OpenAI Agents SDK ------------------------------------------------------------------------------------

AGENTS_RULES = {
    False: "the text blocks, one input_text item each; structuredContent ignored; errors unmarked",
    True: "success with structuredContent: Python json.dumps(structuredContent) (ASCII-escaped, spaced); else text",
}


def record_openai_agents(
    calls: Sequence[Call], structured_calls: Sequence[Call], logs: Path, report: RecordingReport
) -> None:
    """The SDK's defaults on our server as users get it; use_structured_content=True on --structured-output."""
    sdk = openai_agents.installed_version()
    for key, server_calls, structured in (
        (OPENAI_AGENTS, calls, False),
        (OPENAI_AGENTS_STRUCTURED, structured_calls, True),
    ):

        def view(result: CallToolResult, _: str, structured: bool = structured) -> tuple[Content, bool]:
            return openai_agents_output(as_received(result), use_structured_content=structured), False

        session = openai_agents.record(
            databasin_server(structured_output=structured),
            call_script(server_calls, ""),
            use_structured_content=structured,
            log_path=logs / f"agents-tasks-structured-{str(structured).lower()}.jsonl",
        )
        label = f"OpenAI Agents SDK {sdk}" + (
            ", use_structured_content=True, server --structured-output" if structured else ""
        )
        forwarded = responses_forwarded(session.conversation)
        report.clients.append(
            ClientReads(key, label, AGENTS_RULES[structured], reads(server_calls, forwarded, "", view))
        )
        probed = openai_agents.record(
            probe_server(),
            probe_calls(""),
            use_structured_content=structured,
            log_path=logs / f"agents-probe-structured-{str(structured).lower()}.jsonl",
        )
        for got in responses_forwarded(probed.conversation):
            expected = openai_agents_output(as_received(PROBES[got.tool]), use_structured_content=structured)
            report.probes.append(ProbeCheck(label, got.tool, got.content, expected == got.content))
        report.unexpected += [f"{r.method} {r.path}" for s in (session, probed) for r in s.unexpected]
        report.leftovers += [p for s in (session, probed) for p in s.leftovers]
    report.versions["openai-agents"] = sdk
