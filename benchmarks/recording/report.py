"""RESULTS-recording.md and recording.json: every figure from this run's recordings."""

from __future__ import annotations

import json
import platform
from dataclasses import asdict
from typing import Any

from ..report import TOKENIZER_NOTE, _table
from .claude_code import TOOL_SEARCH_SWITCH
from .measure import ClientReads, Definitions, RecordingReport
from .tool_search import RANKING_RULE, Ranking


def _structured(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def client_section(client: ClientReads) -> str:
    rows = [
        (
            read.title + (" (error)" if read.is_error else ""),
            f"{read.read:,}",
            f"{read.text:,}",
            _structured(read.structured),
            f"{read.ratio:.2f}×",
            "yes" if read.same_as_view else "**no**",
        )
        for read in client.reads
    ]
    total_read = sum(r.read for r in client.reads)
    total_text = sum(r.text for r in client.reads)
    rows.append(
        ("**all of the above**", f"{total_read:,}", f"{total_text:,}", "", f"{total_read / total_text:.2f}×", "")
    )
    header = ("task", "tokens the model read", "our text", "our structured (compact JSON)", "read / text", "= view")
    same = "every task" if client.all_as_view else "**not** every task"
    return (
        f"### {client.client}\n\nRule: {client.rule}. The offline view matched what the client sent, "
        f"byte for byte, for {same}.\n\n{_table(header, rows)}\n"
    )


def _yes(value: bool) -> str:
    return "yes" if value else "**no**"


def definitions_section(d: Definitions) -> str:
    rows = [
        (
            "our tools sent with their schema",
            f"{len(d.our_tools_off)} ({d.our_definitions_off:,} tokens; "
            f"= offline view: {_yes(d.definitions_off_as_view)})",
            f"{len(d.our_tools_loaded_on)} (each loaded on demand: list_tables {d.one_definition_on:,} tokens)",
        ),
        (
            "our tools as names only",
            "–",
            f"{d.our_listing_on:,} tokens (= offline view: {_yes(d.listing_on_as_view)}; "
            f"{len(d.deferred_names_on)} names listed in all)",
        ),
        (
            "resource tools Claude Code adds",
            ", ".join(d.resource_tools_off) + f" ({d.resource_definitions_off:,} tokens)"
            if d.resource_tools_off
            else "none",
            ", ".join(d.resource_tools_on) or "none",
        ),
        (
            "our instructions",
            f"{d.instructions:,} tokens, in {d.instructions_where_off}",
            f"{d.instructions:,} tokens, in {d.instructions_where_on}",
        ),
    ]
    return (
        _table(("", "tool search off (ENABLE_TOOL_SEARCH=false)", "tool search on (the default)"), rows)
        + "\n\nThe offline views are benchmarks/recording/client_views.py's `claude_code_tool_definitions` and "
        "`claude_code_deferred_listing` applied to our tools/list (what `make bench` and the budget test count). "
        "With the heading Claude Code puts around them, the instructions cost "
        f"{d.instructions_section:,} tokens.\n"
    )


def rankings_section(rankings: list[Ranking]) -> str:
    rows = [
        (
            f"`{r.query}`",
            ", ".join(r.right),
            ", ".join(r.found) or "(nothing)",
            "yes" if r.first_is_right else "**no**",
            r.right_rank or "–",
        )
        for r in rankings
    ]
    first = sum(r.first_is_right for r in rankings)
    table = _table(("request", "right tool", "ToolSearch returned, in order", "right first", "rank"), rows)
    return f"{table}\n\nThe right tool comes first for {first} of {len(rankings)} requests.\n"


def probes_section(report: RecordingReport) -> str:
    rows = [
        (
            p.client,
            p.probe,
            f"`{json.dumps(p.forwarded)[:90]}`".replace("|", "\\|"),
            "yes" if p.same_as_view else "**no**",
        )
        for p in report.probes
    ]
    return _table(("client", "probe result", "forwarded (first 90 characters)", "= view"), rows) + "\n"


def shapes_section(report: RecordingReport) -> str:
    rows = [
        (
            s.title,
            f"{s.structured_today:,}",
            f"{s.columnar_with_summary:,}",
            f"{s.columnar:,}",
            f"{s.text_in_json:,}",
            f"{s.text:,}",
        )
        for s in report.listing_shapes
    ]
    header = (
        "listing",
        "structuredContent (--structured-output)",
        "columnar + title line",
        "columnar",
        '{"text": our text}',
        "our text",
    )
    text = (
        "Tokens of each shape as Claude Code would forward it (JSON.stringify), computed from this run's "
        "in-process answers with --structured-output (the shapes that decided the default: structured output "
        'off). Columnar: `{"summary": <title line>, "columns": [...], "rows": [[...]], '
        "<the other keys of the structuredContent>}`.\n\n" + _table(header, rows) + "\n"
    )
    single = report.single_shapes
    if single is not None:
        text += (
            f"\nget_connector with --structured-output: {single.forwarded_today:,} tokens forwarded; the minified JSON "
            "of the fields "
            f"shown {single.shown_fields_minified:,}; the upstream body minified {single.upstream_minified:,}, "
            f"pretty {single.upstream_pretty:,}.\n"
        )
    return text


def durations(report: RecordingReport) -> str:
    """ "62 s (Claude Code 40 s, OpenAI Agents SDK 22 s)": wall time, in-process calls counted with Claude Code."""
    parts = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in report.seconds.items() if name != "total")
    return f"{report.seconds.get('total', 0):.0f} s ({parts})"


def results_markdown(report: RecordingReport) -> str:
    versions = ", ".join(f"{name} {v}" for name, v in report.versions.items())
    parts = [
        "# What the model reads: recordings of real clients",
        "",
        "Written by `python -m benchmarks.recording` (do not edit). Each client ran headless against a local "
        "stand-in for its model API, which scripted the model's tool calls and logged every request; the tool "
        "result the client forwarded is read from its next request. Our server ran as the client started it: "
        "`.venv/bin/databasin-mcp --sandbox` (as users get it: structured output off), and again with "
        "`--structured-output`. The same calls made in-process give our text block and our "
        "structuredContent; `= view` says whether the recorded result equals, byte for byte, the client's "
        "view function (benchmarks/recording/client_views.py) applied to the in-process result.",
        "",
        f"Clients: {versions or 'none ran'}. Python {platform.python_version()}. {TOKENIZER_NOTE}",
        "",
        f"Recorded in {durations(report)}.",
        "",
    ]
    parts += [f"Skipped: {reason}" for reason in report.skipped]
    if report.leftovers:
        parts.append(f"Processes a client left running (killed): {'; '.join(report.leftovers)}.")
    if report.unexpected:
        parts.append(f"Requests the stand-ins did not expect: {', '.join(sorted(set(report.unexpected)))}.")
    parts.append("")
    if report.clients:
        parts += ["## Tokens the model read, per client and task", ""]
        parts += [client_section(client) for client in report.clients]
    if report.definitions is not None:
        parts += [
            "## Claude Code: tool definitions and instructions as sent",
            "",
            f"{TOOL_SEARCH_SWITCH}.",
            "",
            definitions_section(report.definitions),
        ]
    if report.rankings:
        parts += [
            "## Claude Code's tool search: which tool a natural request finds",
            "",
            "One headless session (tool search on), the model scripted to call `ToolSearch(query=...)` once per "
            "request with the default max_results (5); the names are what came back, in order. "
            f"{RANKING_RULE}",
            "",
            rankings_section(report.rankings),
        ]
    if report.listing_shapes:
        parts += ["## Candidate shapes (offline, Claude Code's rule)", "", shapes_section(report)]
    if report.probes:
        parts += ["## Forwarding rules, checked on the probe server's result shapes", "", probes_section(report)]
    return "\n".join(parts).rstrip() + "\n"


def results_json(report: RecordingReport) -> str:
    raw: dict[str, Any] = asdict(report)
    raw["rankings"] = [
        {**asdict(r), "first_is_right": r.first_is_right, "right_rank": r.right_rank} for r in report.rankings
    ]
    return json.dumps(raw, ensure_ascii=False, indent=1) + "\n"
