"""Token budget: the tool list and the default answers of the agent tasks, held to benchmarks/budget.json.

Deterministic: token counts only (Claude's legacy tokenizer), against the seeded in-process sandbox.
A figure may grow at most `tolerance` (5%) over its budget; after an improvement, lower it in budget.json.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from benchmarks.tokens import budget_figures

from databasin_mcp.sandbox import SandboxConfig, running_sandbox

BUDGET_FILE = Path(__file__).parent.parent / "benchmarks" / "budget.json"
BUDGET = json.loads(BUDGET_FILE.read_text(encoding="utf-8"))


async def _measure() -> dict[str, int]:
    async with running_sandbox(SandboxConfig(port=0, rate_limit=0)) as sandbox:
        return await budget_figures(sandbox)


@pytest.fixture(scope="module")
def measured() -> Iterator[dict[str, int]]:
    """Every figure, measured once for the module, with no DATABASIN_* setting of the caller's."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("DATABASIN_", "PUBLIC_API_URI")):
                patch.delenv(name)
        yield anyio.run(_measure)


@pytest.mark.parametrize("figure", sorted(BUDGET["tokens"]))
def test_figure_within_budget(measured: dict[str, int], figure: str) -> None:
    budget = BUDGET["tokens"][figure]
    limit = budget * (1 + BUDGET["tolerance"])
    value = measured[figure]
    assert value <= limit, (
        f"{figure}: {value:,} tokens, over its budget of {budget:,} (+{BUDGET['tolerance']:.0%} = {limit:,.0f}). "
        "Make the answer smaller, or, if the growth is intended, raise the budget in benchmarks/budget.json."
    )


def test_every_figure_has_a_budget(measured: dict[str, int]) -> None:
    assert set(measured) == set(BUDGET["tokens"]), "benchmarks/budget.json and the measured figures differ"
