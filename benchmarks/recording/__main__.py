"""Record what the model reads in real clients; write benchmarks/recording/RESULTS-recording.md and recording.json.

python -m benchmarks.recording            every client that can run here (about a minute on 2 cores)

`make bench` (python -m benchmarks) runs the same recording and summarises it in benchmarks/RESULTS.md.
Claude Code is the pinned binary tests/interop installs (DATABASIN_INTEROP_NODE_DIR); without it the
run is skipped with a one-line reason and nothing is written. The OpenAI Agents SDK comes with the
recording extra; without it its tables are left out, saying why.
Every request body is also logged as JSONL under .cache/recording/.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from functools import partial
from pathlib import Path

import anyio

from . import measure, report
from .calls import in_process_calls, in_process_tools
from .candidates import listing_shapes, single_shapes
from .claude_code import ClaudeCode, ClientUnavailable

HERE = Path(__file__).resolve().parent
LOGS = HERE.parents[1] / ".cache" / "recording"
KEPT_VARIABLES = ("DATABASIN_INTEROP_NODE_DIR",)  # where Claude Code is: not a setting of our server


def record(logs: Path = LOGS) -> measure.RecordingReport:
    """Every client that can run here; ClientUnavailable (one line) when Claude Code cannot."""
    claude = ClaudeCode.installed()
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("*.jsonl"):
        old.unlink()
    started = time.perf_counter()
    calls = anyio.run(in_process_calls)
    structured_calls = anyio.run(partial(in_process_calls, structured_output=True))
    # Claude Code declares form elicitation: our delete asks the person, whom a headless run does not have.
    asked = anyio.run(partial(in_process_calls, asks_the_person=True))
    asked_structured = anyio.run(partial(in_process_calls, structured_output=True, asks_the_person=True))
    tools = anyio.run(in_process_tools)
    results = measure.RecordingReport(
        listing_shapes=listing_shapes(structured_calls), single_shapes=single_shapes(structured_calls)
    )
    measure.record_claude_code(claude, asked, asked_structured, tools, logs, results)
    results.seconds["Claude Code"] = time.perf_counter() - started
    print(f"Claude Code recorded ({results.seconds['Claude Code']:.0f} s)", file=sys.stderr, flush=True)
    agents_started = time.perf_counter()
    try:
        measure.record_openai_agents(calls, structured_calls, logs, results)
        results.seconds["OpenAI Agents SDK"] = time.perf_counter() - agents_started
        print(f"OpenAI Agents SDK recorded ({results.seconds['OpenAI Agents SDK']:.0f} s)", file=sys.stderr)
    except ClientUnavailable as reason:
        results.skipped.append(f"OpenAI Agents SDK: {reason}")
    results.seconds["total"] = time.perf_counter() - started
    return results


def write(results: measure.RecordingReport, out: Path = HERE) -> None:
    (out / "RESULTS-recording.md").write_text(report.results_markdown(results), encoding="utf-8")
    (out / "recording.json").write_text(report.results_json(results), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recording", description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=Path, default=LOGS, help=f"where the request logs go (default {LOGS})")
    parser.add_argument("--out", type=Path, default=HERE, help="where the results go (default: beside this file)")
    args = parser.parse_args(argv)
    for name in [name for name in os.environ if name.startswith(("DATABASIN_", "PUBLIC_API_URI"))]:
        if name not in KEPT_VARIABLES:
            del os.environ[name]  # the in-process server must see defaults, not the caller's configuration
    try:
        results = record(args.logs)
    except ClientUnavailable as reason:
        # Nothing is written: the committed results stay those of a run that had the main client.
        print(f"skipped: {reason}", file=sys.stderr)
        return 0
    for line in results.skipped:
        print(f"skipped {line}", file=sys.stderr)
    write(results, args.out)
    print(f"{args.out / 'RESULTS-recording.md'} and recording.json written in {results.seconds['total']:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
