"""tests/packaging: what each fetch and install took, said at the end of the run (they use the network once)."""

from __future__ import annotations

import pytest

from .tools import CACHE, TIMINGS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if TIMINGS:
        terminalreporter.section("packaging: installs and fetches")
        for what, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{seconds:6.1f} s  {what}")
        terminalreporter.write_line(f"cache: {CACHE}")
