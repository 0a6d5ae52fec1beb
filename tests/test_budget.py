"""Token budget: what the model reads, per client and task, and before any call; held to benchmarks/budget.json.

Deterministic and offline: token counts only (Claude's legacy tokenizer), against the seeded in-process
sandbox, with the server as users get it. What a client's model reads is computed with that client's view
function (benchmarks/recording/client_views.py; `make bench` checks them byte for byte against the real
clients). A figure may grow at most `tolerance` (5%) over its budget; after an improvement, lower it.
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


def flat(groups: dict[str, dict[str, int]]) -> dict[str, int]:
    """{"claude_code": {"list_tables": 562}} -> {"claude_code.list_tables": 562}."""
    return {f"{group}.{name}": value for group, figures in groups.items() for name, value in figures.items()}


BUDGETS = flat(BUDGET["tokens"])


async def _measure() -> dict[str, int]:
    async with running_sandbox(SandboxConfig(port=0, rate_limit=0)) as sandbox:
        return flat(await budget_figures(sandbox))


@pytest.fixture(scope="module")
def measured() -> Iterator[dict[str, int]]:
    """Every figure, measured once for the module, with no DATABASIN_* setting of the caller's."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(("DATABASIN_", "PUBLIC_API_URI")):
                patch.delenv(name)
        yield anyio.run(_measure)


@pytest.mark.parametrize("figure", sorted(BUDGETS))
def test_figure_within_budget(measured: dict[str, int], figure: str) -> None:
    budget = BUDGETS[figure]
    limit = budget * (1 + BUDGET["tolerance"])
    value = measured[figure]
    assert value <= limit, (
        f"{figure}: {value:,} tokens, over its budget of {budget:,} (+{BUDGET['tolerance']:.0%} = {limit:,.0f}). "
        "Make the answer smaller, or, if the growth is intended, raise the budget in benchmarks/budget.json."
    )


def test_every_figure_has_a_budget(measured: dict[str, int]) -> None:
    assert set(measured) == set(BUDGETS), "benchmarks/budget.json and the measured figures differ"


def test_every_task_is_budgeted_for_both_clients() -> None:
    """The headline is per client: a task budgeted for one client only would go unwatched for the other."""
    tokens = BUDGET["tokens"]
    assert set(tokens) == {"definitions", "claude_code", "openai_agents"}
    assert set(tokens["claude_code"]) == set(tokens["openai_agents"])
    assert set(tokens["definitions"]) == {
        "tool_definitions_tool_search_off",
        "tool_names_tool_search_on",
        "instructions",
    }


def test_the_default_preview_of_the_250_column_table_stays_under_2000_tokens(measured: dict[str, int]) -> None:
    """Issue 17: what the model reads of preview_table's default answer for the widest table, per client."""
    assert measured["claude_code.preview_table"] < 2000
    assert measured["openai_agents.preview_table"] < 2000
