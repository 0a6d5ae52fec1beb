"""Start-up: spawn -> initialize -> tools/list answered, over stdio, ours beside a bare MCPServer.

Alternated run by run (ours, bare, ours, ...) so both see the same machine. The server's CPU time up
to that answer is read too: unlike wall time, it does not grow when other work competes for the cores.
`python -X importtime` then says which modules our server imports beyond the SDK's, and what each costs.
"""

from __future__ import annotations

import compileall
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from mcp import Client

from databasin_mcp.harness.procfs import cpu_seconds

from .processes import BARE, OURS, OURS_WITHOUT_RICH, ROOT, ServerKind, children, stdio_params
from .stats import Summary

_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)")


@dataclass(frozen=True)
class StartupReport:
    ours: Summary
    bare: Summary
    ours_cpu: Summary  # CPU ms of the server process until tools/list was answered
    bare_cpu: Summary
    no_rich: Summary  # ours with `rich` hidden, as in a user install (wall ms)
    no_rich_cpu: Summary
    import_ms: dict[str, float]  # total import time per server
    extra_imports_ms: list[tuple[str, float]]  # top-level packages only ours imports, costliest first

    @property
    def ratio(self) -> float:
        return self.ours.median / self.bare.median

    @property
    def cpu_ratio(self) -> float:
        return self.ours_cpu.median / self.bare_cpu.median


async def time_start(kind: ServerKind, env: Mapping[str, str]) -> tuple[float, float]:
    """(wall ms from spawning the server to its answer to tools/list, the server's CPU ms until then)."""
    before = children()
    started = time.perf_counter()
    async with Client(stdio_params(kind, env), mode="legacy") as client:
        tools = await client.list_tools()
        elapsed = (time.perf_counter() - started) * 1000
        (pid,) = children() - before
        cpu = cpu_seconds(pid) * 1000
    assert tools.tools, f"{kind.label} listed no tools"
    return elapsed, cpu


def import_times(kind: ServerKind, env: Mapping[str, str], runs: int = 3) -> dict[str, int]:
    """Self import time (µs) of every module a stdio server imports before it reads stdin (closed here).

    Of `runs` runs, the one with the smallest total: the least disturbed by other work.
    """
    return min((_import_run(kind, env) for _ in range(runs)), key=lambda times: sum(times.values()))


def _import_run(kind: ServerKind, env: Mapping[str, str]) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *kind.argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=dict(env),
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    return {m.group(2): int(m.group(1)) for m in map(_IMPORT_LINE.match, done.stderr.splitlines()) if m}


def extra_imports(ours: dict[str, int], bare: dict[str, int]) -> list[tuple[str, float]]:
    by_package: Counter[str] = Counter()
    for module, micros in ours.items():
        if module not in bare:
            by_package[module.partition(".")[0]] += micros
    return [(package, micros / 1000) for package, micros in by_package.most_common()]


def compile_like_an_install() -> None:
    """Write the bytecode of databasin_mcp, as `pip install` of a wheel does for every package.

    The SDK and every dependency start from bytecode written at install time. This checkout is an
    editable install, and with PYTHONDONTWRITEBYTECODE=1 (set on this machine) Python compiles
    edited modules from source at every start: 20-25 ms measured that no installed server pays.
    """
    compileall.compile_dir(ROOT / "src" / "databasin_mcp", quiet=1)


async def measure(env: Mapping[str, str], runs: int) -> StartupReport:
    compile_like_an_install()
    await time_start(OURS, env)  # warm the OS file cache for both before timing
    await time_start(BARE, env)
    samples: dict[str, list[tuple[float, float]]] = {"ours": [], "bare": [], "no_rich": []}
    for _ in range(runs):
        samples["ours"].append(await time_start(OURS, env))
        samples["bare"].append(await time_start(BARE, env))
        samples["no_rich"].append(await time_start(OURS_WITHOUT_RICH, env))
    ours_imports, bare_imports = import_times(OURS, env), import_times(BARE, env)
    return StartupReport(
        ours=Summary(OURS.label, tuple(wall for wall, _ in samples["ours"])),
        bare=Summary(BARE.label, tuple(wall for wall, _ in samples["bare"])),
        ours_cpu=Summary(OURS.label, tuple(cpu for _, cpu in samples["ours"])),
        bare_cpu=Summary(BARE.label, tuple(cpu for _, cpu in samples["bare"])),
        no_rich=Summary(OURS_WITHOUT_RICH.label, tuple(wall for wall, _ in samples["no_rich"])),
        no_rich_cpu=Summary(OURS_WITHOUT_RICH.label, tuple(cpu for _, cpu in samples["no_rich"])),
        import_ms={OURS.label: sum(ours_imports.values()) / 1000, BARE.label: sum(bare_imports.values()) / 1000},
        extra_imports_ms=extra_imports(ours_imports, bare_imports),
    )
