"""`make bench`: measure everything, write benchmarks/RESULTS.md and benchmarks/tokens.svg, print the summary.

python -m benchmarks           the full run (a few minutes on 2 cores)
python -m benchmarks --quick   fewer samples: a smoke run of every section

With Claude Code installed where tests/interop puts it (DATABASIN_INTEROP_NODE_DIR), the real clients are
recorded too (benchmarks/recording: Claude Code, and the OpenAI Agents SDK of the `recording` extra), and
RESULTS.md says whether the offline views matched them; without it, one line says so.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

import anyio

from databasin_mcp.harness.processes import sandbox_process

from . import chart, latency, memory, report, startup, tokens
from .recording import __main__ as recording_run
from .recording.claude_code import ClientUnavailable
from .report import Recording, Results

HERE = Path(__file__).parent
CHART = "tokens.svg"
README = HERE.parent / "README.md"
# README's copies of the summary table and of the tokens table, rewritten by every full run
# (tests/test_readme.py and tests/test_bench_report.py check they agree with RESULTS.md).
README_TABLE = re.compile(r"(<!-- performance-table:start[^\n]*-->\n)(.*?)(<!-- performance-table:end -->)", re.DOTALL)
README_TOKENS = re.compile(r"(<!-- tokens-table:start[^\n]*-->\n)(.*?)(<!-- tokens-table:end -->)", re.DOTALL)


def record_clients() -> Recording:
    """The real clients' recording (RESULTS-recording.md and recording.json rewritten), or why it cannot run."""
    try:
        recorded = recording_run.record()
    except ClientUnavailable as reason:
        print(f"recording skipped: {reason}", file=sys.stderr, flush=True)
        return Recording(None, str(reason))
    recording_run.write(recorded)
    print(f"real clients recorded in {recorded.seconds['total']:.0f} s", file=sys.stderr, flush=True)
    return Recording(recorded)


def run(quick: bool) -> Results:
    started = time.perf_counter()
    token_report = anyio.run(tokens.measure)
    print("tokens measured", file=sys.stderr, flush=True)
    recorded = record_clients()
    # Rate limiting off: thousands of calls in a minute are the point here.
    with sandbox_process("--rate-limit", "0") as sandbox:
        rounds, batch = (4, 25) if quick else (20, 50)
        latency_report = anyio.run(latency.measure, sandbox, rounds, batch)
        print("latency measured", file=sys.stderr, flush=True)
        startup_report = anyio.run(startup.measure, sandbox.env(), 3 if quick else 10)
        print("start-up measured", file=sys.stderr, flush=True)
    huge = str(memory.HUGE_TABLES)
    with sandbox_process("--rate-limit", "0", "--huge-schema-tables", huge) as sandbox:
        memory_report = anyio.run(memory.measure, sandbox, 2 if quick else 5)
        print("memory measured", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    return Results(token_report, recorded, latency_report, startup_report, memory_report, elapsed, quick)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples: a smoke run of every section")
    args = parser.parse_args()
    for name in [name for name in os.environ if name.startswith(("DATABASIN_", "PUBLIC_API_URI"))]:
        if name not in recording_run.KEPT_VARIABLES:
            del os.environ[name]  # the in-process server must see defaults, not the caller's configuration
    results = run(args.quick)
    (HERE / CHART).write_text(chart.render(results.tokens), encoding="utf-8")
    (HERE / "RESULTS.md").write_text(report.results_markdown(results, CHART), encoding="utf-8")
    summary = report.summary_table(results)
    if not args.quick:
        readme = README.read_text(encoding="utf-8")
        readme = README_TABLE.sub(lambda m: m.group(1) + summary + "\n" + m.group(3), readme)
        token_block = report.tokens_block(results.tokens)
        readme = README_TOKENS.sub(lambda m: m.group(1) + token_block + "\n" + m.group(3), readme)
        README.write_text(readme, encoding="utf-8")
    print(summary)
    print(f"\nbenchmarks/RESULTS.md and benchmarks/{CHART} written in {results.elapsed_s:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
