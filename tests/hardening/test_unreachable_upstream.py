"""Connection refused and connect timeouts, end to end: faults the sandbox cannot play.

One server process is pointed at a loopback port we control (support.SwitchableUpstream) that first
refuses connections, then accepts none (a full accept queue: SYNs are dropped, so connects time out),
then forwards to a real sandbox. All 13 tools are called in each phase; the server answers each with a
clear error, stays up (it still validates arguments and lists its tools), sends nothing anywhere, and
answers every tool correctly as soon as the API is reachable again, with no restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp_types import CallToolResult

from databasin_mcp.harness.processes import Sandbox, clean_env, sandbox_process
from databasin_mcp.harness.results import call, text
from databasin_mcp.specs import TOOL_NAMES

from .cases import UNEXPECTED, Case, assert_ok, build_cases, pick_subjects, run_together
from .support import SandboxApi, SwitchableUpstream, stdio_session

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

CONNECT_TIMEOUT = 0.5
ATTEMPTS = 2


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with sandbox_process("--rate-limit", "0", "--refresh-seconds", "0") as running:
        yield running


async def assert_still_serving(client: Client) -> None:
    """With no API at all, the server still answers: its tool list, and a call it can refuse by itself."""
    with anyio.fail_after(30):
        listed = await client.list_tools()
    # Every tool the server has (the data tools too), not only the ones the cases below call.
    assert sorted(tool.name for tool in listed.tools) == sorted(TOOL_NAMES)
    refused = await call(client, "get_connector", {"connector_id": 0})
    assert refused.is_error
    assert text(refused) == (
        "Invalid argument: connector_id: Input should be greater than or equal to 1. Fix and call again."
    )


def assert_errors(results: dict[str, CallToolResult], cases: list[Case], sentence: str) -> None:
    for case in cases:
        result = results[case.tool]
        assert result.is_error, case.tool
        assert UNEXPECTED not in text(result)
        assert text(result) == sentence + case.unsent_suffix, case.tool


async def test_refused_then_unanswered_then_reachable_again(sandbox: Sandbox, tmp_path: Path) -> None:
    subjects = pick_subjects(SandboxApi(sandbox))
    upstream = SwitchableUpstream()
    try:
        env = clean_env(
            DATABASIN_API_URL=upstream.url,
            DATABASIN_TOKEN=sandbox.token,
            DATABASIN_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
            DATABASIN_READ_TIMEOUT="5",
            DATABASIN_MAX_ATTEMPTS=str(ATTEMPTS),
            DATABASIN_RETRY_BACKOFF="0.01",
            DATABASIN_CACHE_TTL="0",
            DATABASIN_MAX_CONCURRENCY="16",
        )
        async with stdio_session(env, tmp_path / "server-stderr.log") as client:
            refused = build_cases(subjects, "refused")  # (creates what to update and delete, directly)
            unanswered = build_cases(subjects, "connect timeout")
            untouched = len(sandbox.requests())

            results = await run_together(client, refused)
            assert_errors(
                results,
                refused,
                f"Could not connect to the Databasin API at {upstream.url} (refused or unreachable). "
                "Check DATABASIN_API_URL and that the API is up.",
            )
            await assert_still_serving(client)

            upstream.black_hole()
            started = anyio.current_time()
            results = await run_together(client, unanswered)
            elapsed = anyio.current_time() - started
            assert_errors(
                results,
                unanswered,
                f"Timed out connecting to the Databasin API at {upstream.url}.",
            )
            # Each call waited out every attempt's connect timeout (the calls ran side by side),
            # and did not hang for the operating system's own minutes-long connect timeout.
            assert ATTEMPTS * CONNECT_TIMEOUT <= elapsed < 20
            await assert_still_serving(client)

            # Nothing reached the API: no listing, no look-up, and surely no write.
            assert len(sandbox.requests()) == untouched
            assert upstream.forwarded == 0

            await upstream.forward_to(sandbox.url)
            healthy = build_cases(subjects, "reachable again")
            answers = await run_together(client, healthy)
            for case in healthy:
                assert_ok(answers[case.tool], case)
            assert upstream.forwarded >= 1
    finally:
        await upstream.aclose()
