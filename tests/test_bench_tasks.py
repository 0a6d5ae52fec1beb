"""The benchmark measures the server as users get it, and its report says what the model reads.

The agent tasks run against the default server (structured output off: the text is the whole answer),
so later tasks find the created connector in the text; the README's copies of RESULTS.md's tables
agree; the tool-search rankings are read from one scripted conversation.
"""

from __future__ import annotations

import re
from pathlib import Path

import anyio
import pytest
from benchmarks import report
from benchmarks.recording.tool_search import REQUESTS, TOOL, rankings
from benchmarks.recording.transcript import Forwarded
from benchmarks.tasks import TASKS, TaskRun, agent_session, listing_total, run_tasks

from databasin_mcp.harness.results import created_id
from databasin_mcp.sandbox import SandboxConfig, running_sandbox

ROOT = Path(__file__).resolve().parent.parent
TOKENS_TABLE = re.compile(r"<!-- tokens-table:start[^\n]*-->\n(.*?)<!-- tokens-table:end -->", re.DOTALL)


async def _default_runs() -> tuple[list[TaskRun], list[str]]:
    """The task runs, and the upstream requests of the last task (the recorder keeps one task's)."""
    async with running_sandbox(SandboxConfig(port=0, rate_limit=0)) as sandbox, agent_session(sandbox) as session:
        assert session.recorder is not None
        runs = await run_tasks(session)
        return runs, [exchange.target for exchange in session.recorder.exchanges]


def test_the_tasks_run_on_the_default_server_and_act_on_the_connector_the_text_names() -> None:
    runs, last_targets = anyio.run(_default_runs)
    assert [run.task.key for run in runs] == [task.key for task in TASKS]
    assert [run.task.key for run in runs if run.structured is not None] == [], "no structuredContent by default"
    arguments = {run.task.key: run.arguments for run in runs}
    new_id = created_id(next(run.text for run in runs if run.task.key == "create_connector"))
    assert arguments["update_connector"] == {"connector_id": new_id, "name": "Bench Orders (Postgres)"}
    assert arguments["delete_connector"] == {"connector_id": new_id, "confirm": True}
    assert runs[-1].task.key == "delete_connector"
    assert f"DELETE /api/connector/{new_id}" in last_targets


def test_created_id_is_read_from_the_first_line_of_create_connectors_answer() -> None:
    text = "Created connector 535 'Bench Orders Postgres' (RDBMS) in proj-007.\nConnector 535 test passed: ok"
    assert created_id(text) == 535
    with pytest.raises(RuntimeError, match="did not create a connector: Connector 'x' already exists"):
        created_id("Connector 'x' already exists as 12 in proj-007.")


def test_listing_total_is_the_count_the_title_line_starts_with() -> None:
    assert listing_total("1,500 tables in connector 142, enterprise_dw.sales_history, showing 1–50") == 1500
    with pytest.raises(RuntimeError, match="not a listing: connectorID: 311"):
        listing_total("connectorID: 311\nconnectorName: Zürich Finance")


def test_the_readme_tokens_table_is_the_benchmarks_tokens_table() -> None:
    """`make bench` writes both: RESULTS.md's headline (what the model reads per client) and README's copy."""
    readme = TOKENS_TABLE.search((ROOT / "README.md").read_text(encoding="utf-8"))
    results = TOKENS_TABLE.search((ROOT / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8"))
    assert readme is not None
    assert results is not None
    assert readme.group(1).strip() == results.group(1).strip()
    assert "| task | tool | Claude Code | OpenAI Agents SDK | our text |" in readme.group(1)


def test_without_claude_code_the_report_says_so_in_one_line() -> None:
    skipped = report.Recording(None, "Claude Code 2.1.332 is not installed in /x (set DATABASIN_INTEROP_NODE_DIR)")
    text = report.recording_section(skipped, None)  # type: ignore[arg-type]  # not read when skipped
    assert text == (
        "Not checked against the real clients in this run: "
        "Claude Code 2.1.332 is not installed in /x (set DATABASIN_INTEROP_NODE_DIR)."
    )


def _search_result(query: str, *names: str) -> Forwarded:
    content = [{"type": "tool_reference", "tool_name": name} for name in names]
    return Forwarded(tool=TOOL, arguments={"query": query}, content=content, is_error=False)


def test_rankings_read_each_search_of_the_one_conversation_in_order() -> None:
    prefix = "mcp__databasin__"
    forwarded = [_search_result(r.query, f"{prefix}{r.right[0]}", "CronCreate") for r in REQUESTS]
    forwarded[1] = _search_result(REQUESTS[1].query, "CronCreate", f"{prefix}{REQUESTS[1].right[0]}")
    found = rankings(forwarded, prefix)
    assert [r.query for r in found] == [r.query for r in REQUESTS]
    assert [r.right_rank for r in found] == [1, 2, *[1] * (len(REQUESTS) - 2)]
    assert found[0].found == (REQUESTS[0].right[0], "CronCreate")


def test_rankings_refuse_a_conversation_that_searched_otherwise() -> None:
    forwarded = [_search_result("something else")]
    with pytest.raises(RuntimeError, match="other searches than scripted: \\['something else'\\]"):
        rankings(forwarded, "mcp__databasin__")
