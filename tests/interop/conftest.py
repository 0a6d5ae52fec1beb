"""Session set-up for the interoperability tests: the pinned npm clients and one shared sandbox API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from databasin_mcp.harness.node import NodeTools, node_dir_from_environment
from databasin_mcp.harness.processes import Sandbox, sandbox_process

from .nodetools import prepare

# Read when this file is imported, before the root conftest isolates each test's environment and HOME:
# the install must see DATABASIN_INTEROP_NODE_DIR and reuse the developer's npm cache.
ORIGINAL_ENVIRONMENT = dict(os.environ)
NODE_DIR = node_dir_from_environment(ORIGINAL_ENVIRONMENT)


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
