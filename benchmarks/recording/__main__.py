"""Record what the model reads in real clients; write benchmarks/recording/RESULTS-recording.md and recording.json.

python -m benchmarks.recording            every client that can run here (a few minutes on 2 cores)

Claude Code is the pinned binary tests/interop installs (DATABASIN_INTEROP_NODE_DIR); without it the
run is skipped with a one-line reason and nothing is written. The OpenAI Agents SDK comes with the
bench extra; without it its tables are left out, saying why.
Every request body is also logged as JSONL under .cache/recording/.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import anyio

from . import measure, report
from .calls import in_process_calls
from .candidates import listing_shapes, single_shapes
from .claude_code import ClaudeCode, ClientUnavailable

HERE = Path(__file__).resolve().parent
LOGS = HERE.parents[1] / ".cache" / "recording"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.recording", description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=Path, default=LOGS, help=f"where the request logs go (default {LOGS})")
    parser.add_argument("--out", type=Path, default=HERE, help="where the results go (default: beside this file)")
    args = parser.parse_args(argv)
    for name in [name for name in os.environ if name.startswith(("DATABASIN_", "PUBLIC_API_URI"))]:
        if name != "DATABASIN_INTEROP_NODE_DIR":
            del os.environ[name]  # the in-process server must see defaults, not the caller's configuration
    args.logs.mkdir(parents=True, exist_ok=True)
    for old in args.logs.glob("*.jsonl"):
        old.unlink()

    try:
        claude = ClaudeCode.installed()
    except ClientUnavailable as reason:
        # Nothing is written: the committed results stay those of a run that had the main client.
        print(f"skipped: {reason}", file=sys.stderr)
        return 0
    started = time.perf_counter()
    calls = anyio.run(in_process_calls)
    results = measure.RecordingReport(listing_shapes=listing_shapes(calls), single_shapes=single_shapes(calls))
    measure.record_claude_code(claude, calls, args.logs, results)
    print("Claude Code recorded", file=sys.stderr, flush=True)
    try:
        measure.record_openai_agents(calls, args.logs, results)
        print("OpenAI Agents SDK recorded", file=sys.stderr, flush=True)
    except ClientUnavailable as reason:
        results.skipped.append(f"OpenAI Agents SDK: {reason}")
    for line in results.skipped:
        print(f"skipped {line}", file=sys.stderr)
    (args.out / "RESULTS-recording.md").write_text(report.results_markdown(results), encoding="utf-8")
    (args.out / "recording.json").write_text(report.results_json(results), encoding="utf-8")
    print(f"{args.out / 'RESULTS-recording.md'} and recording.json written in {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
