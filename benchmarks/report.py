"""RESULTS.md and the summary table: every figure comes from this run's measurements."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version

from .latency import (
    DIRECT_HTTP_CLIENT,
    DIRECT_HTTPX,
    HTTP_BARE,
    HTTP_OURS,
    STDIO_BARE,
    STDIO_NO_SNIFFIO,
    STDIO_OURS,
    LatencyReport,
)
from .memory import HUGE_PAGES, MemoryReport
from .startup import StartupReport
from .tokens import TokenReport

TOKENIZER_NOTE = (
    "Tokens are counted with Anthropic's legacy Claude tokenizer (`anthropic_tokenizer`, offline), "
    "a proxy for current Claude models: absolute counts differ, ratios hold."
)


@dataclass(frozen=True)
class Results:
    tokens: TokenReport
    latency: LatencyReport
    startup: StartupReport
    memory: MemoryReport
    elapsed_s: float
    quick: bool


@dataclass(frozen=True)
class Goal:
    name: str
    target: str
    measured: str
    met: bool


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _x(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.1f}×"


def _ms(value: float) -> str:
    return f"{value:.2f}"


def goals(r: Results) -> list[Goal]:
    t = r.tokens
    connectors, tables, single = t.figure("list_connectors"), t.figure("list_tables"), t.figure("get_connector")
    largest = max(t.tasks, key=lambda task: task.ours)
    page, _ = t.peers
    page_ours, page_csv = page.ours / page.rows, page.csv / page.rows
    added = r.latency.added("stdio")
    huge = r.memory.scale[0]
    concurrency = r.memory.concurrency
    return [
        Goal(
            "95-connector listing vs pretty JSON",
            "≥ 50× fewer",
            _x(connectors.raw.pretty, connectors.ours),
            connectors.raw.pretty >= 50 * connectors.ours,
        ),
        Goal(
            "1,500-table listing vs pretty JSON",
            "≥ 100× fewer",
            _x(tables.raw.pretty, tables.ours),
            tables.raw.pretty >= 100 * tables.ours,
        ),
        Goal(
            "single connector vs pretty JSON",
            "≥ 2× fewer",
            _x(single.raw.pretty, single.ours),
            single.raw.pretty >= 2 * single.ours,
        ),
        Goal("largest default answer", "≤ 5,000 tokens", f"{largest.ours:,} ({largest.key})", largest.ours <= 5000),
        Goal(
            "whole tool list (name, description, input schema)",
            "≤ 2,000 tokens",
            f"{t.tool_list:,}",
            t.tool_list <= 2000,
        ),
        Goal(
            "vs the vendor CLI's CSV, same 25 rows",
            "≤ per row, < overall",
            f"{page_ours:.1f} vs {page_csv:.1f} per row; {page.ours} vs {page.csv}",
            page.ours / page.rows <= page.csv / page.rows and page.ours < page.csv,
        ),
        Goal(
            "get_connector over stdio, beyond SDK floor + upstream request",
            "≤ 1 ms median",
            f"{added:.2f} ms wall ({r.latency.added_cpu('stdio'):.2f} ms CPU)",
            added <= 1.0,
        ),
        Goal(
            "start-up to tools/list vs bare MCPServer",
            "≤ 1.1×",
            f"{r.startup.ratio:.2f}× wall ({r.startup.cpu_ratio:.2f}× CPU)",
            r.startup.ratio <= 1.1,
        ),
        Goal(
            "peak RSS, 20,000-table listing vs the task set",
            "≤ ~1.2×",
            f"{huge.peak_ratio:.2f}×",
            huge.peak_ratio <= 1.2,
        ),
        Goal(
            f"{concurrency.calls} concurrent calls over streamable HTTP",
            "all answered",
            f"{concurrency.answered}/{concurrency.calls}",
            concurrency.answered == concurrency.calls,
        ),
    ]


def summary_table(r: Results) -> str:
    rows = [(g.name, g.target, g.measured, "yes" if g.met else "**no**") for g in goals(r)]
    return _table(("goal", "target", "measured", "met"), rows)


def tokens_section(t: TokenReport) -> str:
    rows = [
        (
            task.title,
            f"`{task.tool}`",
            f"**{task.ours:,}**",
            f"{task.structured:,}" if task.structured is not None else "",
            f"{task.raw.pretty:,}",
            f"{task.raw.minified:,}",
            f"{task.raw.toon:,}",
            _x(task.raw.pretty, task.ours),
        )
        for task in t.tasks
    ]
    header = (
        "task",
        "tool",
        "ours (text)",
        "structuredContent",
        "(a) pretty JSON",
        "(b) minified",
        "(c) TOON",
        "(a) ÷ ours",
    )
    return _table(header, rows)


def format_only_section(t: TokenReport) -> str:
    rows = [
        (
            task.title,
            f"{task.rows} × {task.fields}",
            f"**{task.ours:,}**",
            f"{task.title_line}",
            f"{task.shown.pretty:,}",
            f"{task.shown.minified:,}",
            f"{task.shown.toon:,}",
            _x(task.shown.pretty, task.ours),
            f"{task.ours / task.shown.toon:.2f}",
        )
        for task in t.tasks
        if task.shown is not None
    ]
    header = (
        "task",
        "rows × fields shown",
        "ours",
        "of which title line",
        "(a) pretty",
        "(b) minified",
        "(c) TOON",
        "(a) ÷ ours",
        "ours ÷ (c)",
    )
    return _table(header, rows)


def peer_section(t: TokenReport) -> str:
    rows = [
        (p.label, f"{p.csv:,}", f"{p.csv / p.rows:.1f}", f"**{p.ours:,}**", f"{p.ours / p.rows:.1f}") for p in t.peers
    ]
    return _table(("same rows", "vendor CSV", "per row", "ours", "per row"), rows)


def latency_section(lat: LatencyReport) -> str:
    labels = {
        STDIO_OURS: "databasin-mcp `get_connector`, stdio",
        STDIO_NO_SNIFFIO: "the same, sniffio hidden (before the fix)",
        STDIO_BARE: "bare MCPServer no-op tool, stdio (SDK floor)",
        HTTP_OURS: "databasin-mcp `get_connector`, streamable HTTP",
        HTTP_BARE: "bare MCPServer no-op tool, streamable HTTP (SDK floor)",
        DIRECT_HTTPX: "the upstream GET alone, httpx.AsyncClient keep-alive",
        DIRECT_HTTP_CLIENT: "the upstream GET alone, http.client persistent connection",
    }
    rows = [
        (label, _ms(lat.series[key].median), _ms(lat.series[key].p99), _ms(lat.cpu_ms[key]), lat.series[key].count)
        for key, label in labels.items()
    ]
    return _table(("series", "median ms", "p99 ms", "CPU ms per call", "calls"), rows)


def startup_section(s: StartupReport) -> str:
    rows = [
        (wall.name, f"{wall.median:.0f}", f"{min(wall.samples):.0f}", f"{max(wall.samples):.0f}", f"{cpu.median:.0f}")
        for wall, cpu in ((s.ours, s.ours_cpu), (s.no_rich, s.no_rich_cpu), (s.bare, s.bare_cpu))
    ]
    rows.append(("ratio databasin-mcp ÷ bare", f"{s.ratio:.2f}×", "", "", f"{s.cpu_ratio:.2f}×"))
    no_rich = s.no_rich.median / s.bare.median, s.no_rich_cpu.median / s.bare_cpu.median
    rows.append(("ratio without rich/pygments ÷ bare", f"{no_rich[0]:.2f}×", "", "", f"{no_rich[1]:.2f}×"))
    table = _table(("server", "median ms", "min", "max", "server CPU ms (median)"), rows)
    runs = f"{s.ours.count} runs each."
    imports = ", ".join(f"{package} {ms:.1f}" for package, ms in s.extra_imports_ms[:10])
    totals = "; ".join(f"{name}: {ms:.0f} ms" for name, ms in s.import_ms.items())
    return (
        f"{table}\n\n{runs} Import time (`python -X importtime`, sum of self times): {totals}. "
        f"Packages only databasin-mcp imports, ms: {imports}."
    )


def memory_section(m: MemoryReport) -> str:
    rows = [
        (
            run.cache_ttl,
            f"{run.after_tasks.peak_mb:.1f}",
            f"{run.after_huge.peak_mb:.1f}",
            f"{run.peak_ratio:.2f}×",
            f"{run.after_huge.rss_mb:.1f}",
            f"{run.huge_chars:,}",
            " / ".join(f"{ms:.0f}" for ms in run.page_ms),
        )
        for run in m.scale
    ]
    header = (
        "DATABASIN_CACHE_TTL",
        "peak RSS after task set, MB",
        "peak after 20,000-table pages, MB",
        "ratio",
        "RSS after, MB",
        "longest answer, chars (cap 20,000)",
        "page calls, ms",
    )
    pages = "; ".join(", ".join(f"{k}={v}" for k, v in page.items()) for page in HUGE_PAGES)
    c = m.concurrency
    rounds = ", ".join(f"{s * 1000:.0f}" for s in c.rounds)
    return (
        f"{_table(header, rows)}\n\nPages called, in order: {pages} (the last is the largest page a call can ask "
        "for: 500 rows of every field). The first call fetches and parses all 20,000 rows; "
        "with the cache, the next ones are served from it.\n\n"
        f"{c.calls} concurrent tool calls on one streamable-HTTP session (45 `get_connector` of distinct "
        f"connectors, 5 `list_connectors` pages): {c.answered}/{c.calls} answered; rounds took {rounds} ms; "
        f"median throughput **{c.throughput:.0f} calls/s**; server peak RSS {c.peak.peak_mb:.1f} MB."
    )


def results_markdown(r: Results, chart_name: str) -> str:
    t, lat = r.tokens, r.latency
    machine = f"{os.cpu_count()} CPUs, Python {platform.python_version()}, mcp {version('mcp')}"
    sniffio = lat.series[STDIO_NO_SNIFFIO].median - lat.series[STDIO_OURS].median
    sniffio_cpu = lat.cpu_ms[STDIO_NO_SNIFFIO] - lat.cpu_ms[STDIO_OURS]
    return f"""# Benchmarks

Generated by `make bench` (`python -m benchmarks{" --quick" if r.quick else ""}`) in {r.elapsed_s:.0f} s on this
machine ({machine}), against the embedded sandbox API. Timings are medians of many interleaved samples
taken in the same run; the machine is shared, so compare ratios, not absolute milliseconds.
{TOKENIZER_NOTE}

## Summary

{summary_table(r)}

## Tokens an agent reads

Default arguments, text content of the answer, beside the upstream API bodies holding the same data:
(a) pretty-printed JSON (`json.dumps(body, indent=2)`, what the API reference's CLI examples print),
(b) minified JSON, (c) TOON (`toon-format`, the official Python implementation of the TOON spec).
`structuredContent` is counted as compact JSON, for clients that forward it to the model. The API has no
project endpoint, so listing projects or finding a connector reads every connector (434).

![tokens per task]({chart_name})

{tokens_section(t)}

The whole tool list (name, description and input schema of every tool, compact JSON) is **{t.tool_list:,} tokens**;
with every field of `tools/list` (output schemas, annotations), {t.tool_list_full:,}.

### Format only

The same rows and fields our answer shows, re-encoded: paging and projection taken out, the format alone.
Our text also carries a title line (total, scope, next offset, inactive connectors) that the other encodings lack.

{format_only_section(t)}

### The vendor CLI's CSV

Databasin-AI/databasin-cli's most frugal listing: CSV of connectorID,connectorName,connectorType,active
(quoted only when needed, true/false, null empty), rendered here on the same rows.

{peer_section(t)}

## Latency of one tool call

`get_connector` through a real MCP client, beside the SDK's floor and the upstream request alone, all in
the same run. The client's output-schema validation takes {lat.validation_ms["ours"]:.3f} ms for our result and
{lat.validation_ms["bare"]:.3f} ms for the no-op's: client-side, subtracted below.

{latency_section(lat)}

Our server adds **{lat.added("stdio"):.2f} ms** (stdio) and **{lat.added("http"):.2f} ms** (streamable HTTP) per call,
median wall time, beyond the SDK floor and the upstream request; in CPU time of the server process,
{lat.added_cpu("stdio"):.2f} ms (stdio) and {lat.added_cpu("http"):.2f} ms (HTTP) beyond the bare server's and the
direct httpx request's. With sniffio installed, a call is {sniffio:.2f} ms faster (median wall) and costs
{sniffio_cpu:.2f} ms less CPU: httpcore tries `import sniffio` four times per request, and a failed import is
not cached.

## Start-up

Spawn → initialize → `tools/list` answered, over stdio, alternating with a bare MCPServer with one tool.

{startup_section(r.startup)}

## Memory and scale

Peak RSS (VmHWM) of the server process over the task set, then after pages of a 20,000-table listing
(sandbox `huge_schema_tables=20000`, schema `events_archive` of `enterprise_dw` on connector 142).

{memory_section(r.memory)}
"""
