"""What the real Claude Code sends its model for our server equals the offline views of it.

The pinned Claude Code runs headless (`claude -p`) against the scripted Messages API stand-in and
starts `databasin-mcp --sandbox` itself (as users get it: structured output off).
- Tool search off: the model calls three tools (a listing, a single record, an error) and the
  tool_result of each, read back from the next request, is claude_code_view() of our in-process result,
  byte for byte: our text. Our tool definitions are claude_code_tool_definitions() of our tools/list,
  and Claude Code adds no resource tools (the server declares only the tools capability).
- Tool search on (the default): in one conversation the model searches for the dozen natural requests
  of benchmarks/recording/tool_search.py; each finds its right tool first, the deferred-tool listing
  is our 13 names with no resource tool, and no definition of ours is sent before a search loads it.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import anyio
import pytest
from benchmarks.recording import tool_search
from benchmarks.recording.calls import RECORDED_TASKS, in_process_calls, in_process_tools
from benchmarks.recording.claude_code import ClaudeCode
from benchmarks.recording.client_views import (
    claude_code_deferred_listing,
    claude_code_tool_definitions,
    claude_code_tool_result,
)
from benchmarks.recording.measure import RESOURCE_TOOLS, as_received, call_script
from benchmarks.recording.stdio_servers import SERVER_NAME, databasin_server
from benchmarks.recording.transcript import deferred_listing, deferred_names, forwarded_results, tool_definitions

from databasin_mcp.harness.node import NodeTools

pytestmark = pytest.mark.e2e

PREFIX = f"mcp__{SERVER_NAME}__"
CHECKED = ("list_connectors", "get_connector", "error_not_found")


@pytest.mark.anyio
async def test_the_tool_result_claude_code_forwards_is_claude_code_view_of_ours(
    node_tools: NodeTools, tmp_path: Path
) -> None:
    calls = await in_process_calls([task for task in RECORDED_TASKS if task.key in CHECKED])
    tools = await in_process_tools()
    claude = ClaudeCode(node_tools.claude)
    record = partial(claude.record, databasin_server(), call_script(calls, PREFIX), tool_search=False)
    with anyio.fail_after(120):
        session = await anyio.to_thread.run_sync(lambda: record(log_path=tmp_path / "requests.jsonl"))

    forwarded = forwarded_results(session.conversation)
    assert [(got.tool, got.arguments) for got in forwarded] == [(PREFIX + c.tool, dict(c.arguments)) for c in calls]
    for call, got in zip(calls, forwarded, strict=True):
        expected = claude_code_tool_result(as_received(call.result), got.tool)
        assert (got.content, got.is_error) == expected, call.key
    # Structured output is off by default: on success as on error, the model reads our text.
    for call, got in zip(calls, forwarded, strict=True):
        assert call.result.structured_content is None, call.key
        assert got.text == call.text, call.key
    assert forwarded[0].text.startswith("95 connectors in proj-007, showing 1–25")
    assert forwarded[2].is_error

    sent = tool_definitions(session.conversation[0])
    assert [t for t in sent if t["name"].startswith(PREFIX)] == claude_code_tool_definitions(tools, SERVER_NAME)
    assert [t["name"] for t in sent if t["name"] in RESOURCE_TOOLS] == [], "a resource tool for a server with none"
    assert session.unexpected == []
    assert session.leftovers == [], "a process Claude Code started outlived it"


@pytest.mark.anyio
async def test_claude_code_tool_search_finds_the_right_tool_first_for_each_natural_request(
    node_tools: NodeTools, tmp_path: Path
) -> None:
    tools = await in_process_tools()
    claude = ClaudeCode(node_tools.claude)
    record = partial(claude.record, databasin_server(), tool_search.search_all_script(), tool_search=True)
    with anyio.fail_after(120):
        session = await anyio.to_thread.run_sync(lambda: record(log_path=tmp_path / "requests.jsonl"))

    found = tool_search.rankings(forwarded_results(session.conversation), PREFIX)
    misplaced = [(r.query, r.found) for r in found if not r.first_is_right]
    assert misplaced == [], "the right tool is not the first result"
    first = session.conversation[0]
    assert deferred_listing(first, SERVER_NAME) == claude_code_deferred_listing(tools, SERVER_NAME)
    assert [name for name in deferred_names(first) if name in RESOURCE_TOOLS] == []
    assert [t["name"] for t in tool_definitions(first) if t["name"].startswith(PREFIX)] == [], "sent before a search"
    # A definition a search found is sent from then on, marked as loaded on demand.
    loaded = [t for t in tool_definitions(session.conversation[-1]) if t["name"].startswith(PREFIX)]
    assert loaded
    assert all(t["defer_loading"] for t in loaded)
    assert session.unexpected == []
    assert session.leftovers == [], "a process Claude Code started outlived it"
