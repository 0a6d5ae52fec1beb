"""Session set-up for the interoperability tests: the pinned npm clients and one shared sandbox API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from databasin_mcp.harness.node import NodeTools, node_dir_from_environment
from databasin_mcp.harness.processes import Sandbox, sandbox_process

from .nodetools import missing_node, prepare

# Read when this file is imported, before the root conftest isolates each test's environment and HOME:
# the install must see DATABASIN_INTEROP_NODE_DIR and reuse the developer's npm cache.
ORIGINAL_ENVIRONMENT = dict(os.environ)
NODE_DIR = node_dir_from_environment(ORIGINAL_ENVIRONMENT)


# Without node, the tests of the node clients are left out, and the run says so once, in one line.
NODE_TESTS_LEFT_OUT: list[str] = []


# Last, after -m has deselected: `make check` (-m "not e2e") keeps none of these, so asks node nothing.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    needing = [item for item in items if "node_tools" in getattr(item, "fixturenames", ())]
    if not needing:
        return
    env = {k: v for k, v in ORIGINAL_ENVIRONMENT.items() if not k.startswith(("DATABASIN_", "PUBLIC_API_URI"))}
    reason = missing_node(env)
    if reason is None:
        return
    config.hook.pytest_deselected(items=needing)
    items[:] = [item for item in items if item not in needing]
    NODE_TESTS_LEFT_OUT.append(f"{len(needing)} tests of the real node clients (tests/interop) not run: {reason}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for line in NODE_TESTS_LEFT_OUT:
        terminalreporter.write_line(f"SKIPPED {line}", yellow=True)


@pytest.fixture(scope="session")
def node_tools() -> NodeTools:
    """The pinned Inspector, TypeScript SDK and Claude Code, installed once into NODE_DIR."""
    env = {k: v for k, v in ORIGINAL_ENVIRONMENT.items() if not k.startswith(("DATABASIN_", "PUBLIC_API_URI"))}
    return prepare(NODE_DIR, env)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox API on a free loopback port, shared by the read-only interop tests."""
    with sandbox_process() as running:
        yield running


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty HOME for a client (the Inspector and Claude Code write their state there)."""
    path = tmp_path / "client-home"
    path.mkdir()
    return path
