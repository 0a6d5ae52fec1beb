"""A sandbox API per test module; the HTTP servers under test are started by each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from databasin_mcp.harness.processes import Sandbox, sandbox_process


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with sandbox_process() as running:
        yield running
