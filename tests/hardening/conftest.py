"""Fixtures of the hardening suite (issue 6): one event loop per module, so a server process can be shared."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# Reproducible property tests: the same examples on every run and every machine, no example database,
# no per-example deadline (a loaded CI machine must not turn slowness into a failure).
settings.register_profile(
    "hardening",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=60,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# `make check` (the quick tier) sets HYPOTHESIS_PROFILE=check, Hypothesis's idiom for a developer profile: a
# third of the examples, still derandomized (the same ones on every run). `make test` and CI draw all 60.
settings.register_profile("hardening-check", parent=settings.get_profile("hardening"), max_examples=20)
HARDENING = settings.get_profile("hardening-check" if os.environ.get("HYPOTHESIS_PROFILE") == "check" else "hardening")


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    # Module scope (the root conftest's is per test): module-scoped async fixtures, such as one
    # MCP server process shared by every test of a module, need one event loop for the module.
    return "asyncio"
