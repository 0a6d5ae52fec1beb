"""Shared by the end-to-end tests: one sandbox API process per module, and asyncio for module-scoped fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from databasin_mcp.harness.processes import Sandbox, sandbox_process


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    """A sandbox API on a free loopback port, for the module's tests (those that write undo it or don't mind)."""
    with sandbox_process() as running:
        yield running


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"
