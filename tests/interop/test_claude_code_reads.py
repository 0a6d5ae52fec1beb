"""What the real Claude Code forwards to its model equals claude_code_view() of our in-process result.

The pinned Claude Code runs headless (`claude -p`) against the scripted Messages API stand-in and
starts `databasin-mcp --sandbox` itself; the model calls three tools (a listing, a single record,
an error) and the tool_result of each is read back from the next request, byte for byte.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import anyio
import pytest
from benchmarks.recording.calls import RECORDED_TASKS, in_process_calls
from benchmarks.recording.claude_code import ClaudeCode
from benchmarks.recording.client_views import claude_code_tool_result, claude_code_view
from benchmarks.recording.measure import as_received, call_script
from benchmarks.recording.stdio_servers import databasin_server
from benchmarks.recording.transcript import forwarded_results

from .nodetools import NodeTools

pytestmark = pytest.mark.e2e

PREFIX = "mcp__databasin__"
CHECKED = ("list_connectors", "get_connector", "error_not_found")


@pytest.mark.anyio
async def test_the_tool_result_claude_code_forwards_is_claude_code_view_of_ours(
    node_tools: NodeTools, tmp_path: Path
) -> None:
    calls = await in_process_calls([task for task in RECORDED_TASKS if task.key in CHECKED])
    claude = ClaudeCode(node_tools.claude)
    record = partial(claude.record, databasin_server(), call_script(calls, PREFIX), tool_search=False)
    with anyio.fail_after(120):
        session = await anyio.to_thread.run_sync(lambda: record(log_path=tmp_path / "requests.jsonl"))

    forwarded = forwarded_results(session.conversation)
    assert [(got.tool, got.arguments) for got in forwarded] == [(PREFIX + c.tool, dict(c.arguments)) for c in calls]
    for call, got in zip(calls, forwarded, strict=True):
        expected = claude_code_tool_result(as_received(call.result), got.tool)
        assert (got.content, got.is_error) == expected, call.key
    listing, single, error = forwarded
    # On success the model gets the structured block alone, never our text; an error is our text.
    assert listing.text == claude_code_view(as_received(calls[0].result)) != calls[0].text
    assert single.text.startswith('{"connector":{"connectorID":311,')
    assert (error.text, error.is_error) == (calls[2].text, True)
    assert session.unexpected == []
    assert session.leftovers == [], "a process Claude Code started outlived it"
