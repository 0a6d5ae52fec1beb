"""What the upstream or the token file holds never crashes a call or misreports it (issue 12: 4, 5, 8, 9, 17).

The real databasin-mcp process over stdio against a real sandbox process, with the sandbox's scripted
faults: absurd rate-limit headers (on a 429, and on a create that succeeded), a 2xx whose body says the
write failed, a redirect, a refresh that outlasts its timeout, refreshes that would take every slot, and
token files as editors write them, broken and then fixed without a restart.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from mcp import Client

from databasin_mcp.harness.processes import Sandbox, clean_env, sandbox_process
from databasin_mcp.harness.results import call, text

from .cases import UNEXPECTED, WORK_PROJECT, pick_subjects
from .support import SandboxApi, stdio_session, write_token

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

REFRESH_SECONDS = 3.0  # how long the sandbox takes to refresh metadata: far longer than any other call


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with sandbox_process("--rate-limit", "0", "--refresh-seconds", str(REFRESH_SECONDS)) as running:
        yield running


@pytest.fixture(scope="module")
def api(sandbox: Sandbox) -> SandboxApi:
    return SandboxApi(sandbox)


@pytest.fixture
def token_file(sandbox: Sandbox, tmp_path: Path) -> Path:
    path = tmp_path / "token"
    write_token(path, sandbox.token)
    return path


def server_env(sandbox: Sandbox, token_file: Path, **extra: str) -> dict[str, str]:
    return clean_env(
        DATABASIN_API_URL=sandbox.url,
        DATABASIN_TOKEN_FILE=str(token_file),
        DATABASIN_CACHE_TTL="0",
        DATABASIN_RETRY_BACKOFF="0.01",
        DATABASIN_LOG_LEVEL="INFO",
        **extra,
    )


@pytest.fixture
async def server(sandbox: Sandbox, token_file: Path, tmp_path: Path) -> AsyncIterator[Client]:
    async with stdio_session(server_env(sandbox, token_file), tmp_path / "server.log") as client:
        yield client


def sent(sandbox: Sandbox, start: int, method: str, path: str) -> int:
    return sum(1 for r in sandbox.requests()[start:] if (r["method"], r["path"]) == (method, path))


def wait_for_request(sandbox: Sandbox, start: int, path: str, timeout: float = 30.0) -> None:
    """Return once the sandbox received a request for `path` after the `start`-th (an external process:
    its request log is polled, with a deadline)."""
    deadline = time.monotonic() + timeout
    while not any(r["path"] == path for r in sandbox.requests()[start:]):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the sandbox received no request for {path} within {timeout} s")
        time.sleep(0.02)


def write_bytes(path: Path, content: bytes) -> None:
    path.write_bytes(content)


def assert_log_clean(log: Path, *secrets: str) -> None:
    written = log.read_text(encoding="utf-8")
    assert "Traceback" not in written
    assert " crashed" not in written
    assert [secret for secret in secrets if secret in written] == []


# --- headers (finding 5) ------------------------------------------------------------------------------------


async def test_a_create_that_succeeded_with_absurd_headers_is_reported_created(
    sandbox: Sandbox, api: SandboxApi, server: Client
) -> None:
    name = f"Headers create {uuid.uuid4().hex[:6]}"
    absurd = {"X-RateLimit-Reset": "inf", "X-RateLimit-Limit": "-Infinity", "X-RateLimit-Remaining": "1e400"}
    sandbox.script_faults([{"kind": "headers", "headers": absurd}], path="/api/connector", method="POST")
    start = len(sandbox.requests())

    result = await call(
        server,
        "create_connector",
        {"name": name, "connector_type": "RDBMS", "institution_id": 4, "project_id": WORK_PROJECT},
    )

    assert not result.is_error, text(result)
    assert text(result).startswith("Created connector ")
    assert sent(sandbox, start, "POST", "/api/connector") == 1
    assert len(api.named(name, WORK_PROJECT)) == 1


async def test_an_absurd_retry_after_gives_way_to_a_sane_reset(
    sandbox: Sandbox, api: SandboxApi, server: Client
) -> None:
    connector_id = pick_subjects(api).get_id
    path = f"/api/connector/{connector_id}"
    # The sandbox's 429 also says X-RateLimit-Reset: now + 1 s; only Retry-After is absurd.
    sandbox.script_faults(
        [{"status": 429, "headers": {"Retry-After": "99999999999999999999"}}], path=path, method="GET"
    )
    start = len(sandbox.requests())

    result = await call(server, "get_connector", {"connector_id": connector_id})

    assert not result.is_error, text(result)
    assert sent(sandbox, start, "GET", path) == 2


@pytest.mark.parametrize(
    "headers",
    [
        {"Retry-After": "1e300", "X-RateLimit-Reset": "1e30"},
        {"Retry-After": "inf", "X-RateLimit-Reset": "nan"},
        {"Retry-After": "Fri, 31 Dec 9999 23:59:59 GMT", "X-RateLimit-Reset": "99999999999999999999"},
    ],
    ids=["1e300 and 1e30", "inf and nan", "year 9999 and 20 digits"],
)
async def test_absurd_rate_limit_waits_are_answered_without_a_crash(
    sandbox: Sandbox, api: SandboxApi, server: Client, headers: dict[str, str]
) -> None:
    connector_id = pick_subjects(api).get_id
    path = f"/api/connector/{connector_id}"
    sandbox.script_faults([{"status": 429, "headers": headers}], path=path, method="GET")
    start = len(sandbox.requests())

    result = await call(server, "get_connector", {"connector_id": connector_id})

    assert result.is_error
    assert text(result) == "The Databasin API is rate limiting this token; try again later."
    assert sent(sandbox, start, "GET", path) == 1
    healthy = await call(server, "get_connector", {"connector_id": connector_id})
    assert not healthy.is_error


# --- failure bodies on a 2xx (finding 8) ----------------------------------------------------------------------


async def test_a_delete_refused_in_a_200_body_is_an_error_and_the_connector_stays(
    sandbox: Sandbox, api: SandboxApi, server: Client
) -> None:
    connector_id = api.create(f"Refused delete {uuid.uuid4().hex[:6]}", WORK_PROJECT)
    body = {"status": "error", "message": "Connector is used by 3 pipelines"}
    sandbox.script_faults([{"kind": "body", "body": body}], path=f"/api/connector/{connector_id}", method="DELETE")

    result = await call(server, "delete_connector", {"connector_id": connector_id, "confirm": True})

    assert result.is_error
    assert text(result) == (
        f"The Databasin API reported that the delete of connector {connector_id} failed: Connector is used by 3 "
        f"pipelines. It is most likely still there: get_connector(connector_id={connector_id}) shows it."
    )
    assert api.request("GET", f"/api/connector/{connector_id}")[0] == 200


async def test_a_create_refused_in_a_200_body_says_the_api_refused_it(
    sandbox: Sandbox, api: SandboxApi, server: Client
) -> None:
    name = f"Refused create {uuid.uuid4().hex[:6]}"
    body = {"status": "error", "message": "Missing connectorHost"}
    sandbox.script_faults([{"kind": "body", "body": body}], path="/api/connector", method="POST")

    result = await call(
        server,
        "create_connector",
        {"name": name, "connector_type": "RDBMS", "institution_id": 4, "project_id": WORK_PROJECT},
    )

    assert result.is_error
    assert text(result) == (
        "The Databasin API reported that the create failed: Missing connectorHost. "
        "Fix what the API names and call create_connector again."
    )
    assert api.named(name, WORK_PROJECT) == []


# --- redirects (finding 17) -------------------------------------------------------------------------------------


async def test_a_redirect_names_the_url_to_set(sandbox: Sandbox, api: SandboxApi, server: Client) -> None:
    connector_id = pick_subjects(api).get_id
    location = f"https://user:pw@databasin.example/v2/api/connector/{connector_id}?session=abc"
    sandbox.script_faults(
        [{"kind": "empty", "status": 308, "headers": {"Location": location}}],
        path=f"/api/connector/{connector_id}",
        method="GET",
    )

    result = await call(server, "get_connector", {"connector_id": connector_id})

    assert result.is_error
    assert text(result) == (
        f"Databasin API error 308 Permanent Redirect: it redirects to https://databasin.example/v2/api/connector/"
        f"{connector_id}. Set DATABASIN_API_URL to https://databasin.example/v2 (the base URL that redirect "
        "points to)."
    )


# --- actions and slots (finding 9) -----------------------------------------------------------------------------


async def test_a_refresh_that_outlasts_its_timeout_is_sent_once(
    sandbox: Sandbox, api: SandboxApi, token_file: Path, tmp_path: Path
) -> None:
    connector_id = pick_subjects(api).refresh_id
    env = server_env(sandbox, token_file, DATABASIN_REFRESH_TIMEOUT="1", DATABASIN_MAX_ATTEMPTS="3")
    start = len(sandbox.requests())
    async with stdio_session(env, tmp_path / "server.log") as client:
        result = await call(client, "refresh_connector_metadata", {"connector_id": connector_id})

    assert result.is_error
    assert text(result) == (
        f"The Databasin API at {sandbox.url} did not answer in time. The refresh was sent once and may still be "
        f"running: wait a few minutes, then check with list_catalogs(connector_id={connector_id}) before "
        "refreshing again."
    )
    assert sent(sandbox, start, "POST", f"/api/connector/{connector_id}/refresh") == 1


async def test_long_refreshes_do_not_hold_every_slot(
    sandbox: Sandbox, api: SandboxApi, token_file: Path, tmp_path: Path
) -> None:
    subjects = pick_subjects(api)
    env = server_env(sandbox, token_file, DATABASIN_MAX_CONCURRENCY="2", DATABASIN_SLOT_WAIT_TIMEOUT="30")
    finished: list[str] = []
    results: dict[str, Any] = {}

    async def one(label: str, tool: str, arguments: dict[str, Any]) -> None:
        results[label] = await call(client, tool, arguments)
        finished.append(label)

    start = len(sandbox.requests())
    first_refresh = f"/api/connector/{subjects.refresh_id}/refresh"
    async with stdio_session(env, tmp_path / "server.log") as client, anyio.create_task_group() as tasks:
        tasks.start_soon(one, "refresh 1", "refresh_connector_metadata", {"connector_id": subjects.refresh_id})
        await anyio.to_thread.run_sync(wait_for_request, sandbox, start, first_refresh)
        tasks.start_soon(one, "refresh 2", "refresh_connector_metadata", {"connector_id": subjects.test_id})
        tasks.start_soon(one, "get", "get_connector", {"connector_id": subjects.get_id})

    # Two slots, two refreshes of 3 s: one refresh at a time goes upstream, so the read is answered first.
    assert finished[0] == "get", finished
    assert all(not result.is_error for result in results.values()), {k: text(v) for k, v in results.items()}


# --- tokens (finding 4) -----------------------------------------------------------------------------------------


async def test_a_token_file_broken_then_fixed_needs_no_restart(
    sandbox: Sandbox, api: SandboxApi, token_file: Path, tmp_path: Path
) -> None:
    connector_id = pick_subjects(api).get_id
    log = tmp_path / "server.log"
    write_bytes(token_file, f"{sandbox.token}\nsecond-line-of-token\n".encode())
    start = len(sandbox.requests())
    async with stdio_session(server_env(sandbox, token_file), log) as client:
        broken = await call(client, "get_connector", {"connector_id": connector_id})
        assert broken.is_error
        assert text(broken) == (
            f"The Databasin API token in the token file {token_file} cannot be sent: it has a line break inside. "
            "Nothing was sent. Put the token alone on one line in that file; it is read again on the next call."
        )
        write_token(token_file, "tök-" + sandbox.token)
        still_broken = await call(client, "list_connectors", {"project_id": WORK_PROJECT})
        assert text(still_broken) == (
            f"The Databasin API token in the token file {token_file} cannot be sent: it has a character that is "
            "not ASCII. Nothing was sent. Put the token alone on one line in that file; it is read again on the "
            "next call."
        )
        assert len(sandbox.requests()) == start  # nothing reached the API

        write_bytes(token_file, f"\ufeff{sandbox.token}\r\n".encode())  # fixed, in Windows Notepad
        fixed = await call(client, "get_connector", {"connector_id": connector_id})
        assert not fixed.is_error, text(fixed)
        assert UNEXPECTED not in text(broken) + text(still_broken)
    assert_log_clean(log, sandbox.token, "second-line-of-token")
