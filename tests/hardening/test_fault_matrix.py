"""Fault matrix (issue 6): each of the 13 tools against each upstream fault, end to end.

The real databasin-mcp process over stdio against a real sandbox process. Faults are scripted with
POST /_sandbox/faults on the request that matters for each tool (a scripted fault applies to the next
request whose path starts with the script's path and whose method matches):

    tool                        request the fault hits      requests before it
    list_projects               GET    /api/connector       GET /api/my/projects (once: missing here, remembered)
    list_connectors             GET    /api/connector       -
    find_connectors             GET    /api/connector       -
    get_connector               GET    /api/connector/G     -
    create_connector            POST   /api/connector       GET /api/connector (duplicate check)
    update_connector            PUT    /api/connector/U     GET /api/connector/U (the "before")
    delete_connector            DELETE /api/connector/D     GET /api/connector/D (names what is deleted)
    test_connector              POST   /api/connector/T/test
    refresh_connector_metadata  POST   /api/connector/R/refresh
    list_catalogs..list_columns GET    /api/connector/142/{catalogs,schemas,tables,columns}

Every cell ends in the right answer or an isError result whose exact text is asserted; the request log
proves how often each request was sent (a create never twice, unless the API refused it unprocessed with
a 429); the sandbox state proves a failed write changed nothing; and after each fault every tool answers
a healthy call on the same server process. Connection refused and connect timeouts need an upstream the
sandbox cannot play: they are in test_unreachable_upstream.py.
"""

from __future__ import annotations

import re
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp_types import CallToolResult

from databasin_mcp.harness.processes import Sandbox, clean_env, sandbox_process
from databasin_mcp.harness.results import call, text
from databasin_mcp.sandbox.seed import BIG_CATALOG, BIG_CONNECTOR_ID, BIG_SCHEMA, UNTESTABLE_CONNECTOR_ID

from .cases import (
    LISTINGS,
    UNEXPECTED,
    WORK_PROJECT,
    Case,
    Subjects,
    assert_ok,
    build_cases,
    pick_subjects,
    run_together,
)
from .support import SandboxApi, stdio_session, write_token

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

ATTEMPTS = 2  # DATABASIN_MAX_ATTEMPTS of the server under test
READ_TIMEOUT = 1.0  # seconds; healthy sandbox answers take ~50 ms, so a loaded machine has 20x headroom
DELAY = READ_TIMEOUT + 1.0  # a "delay" fault the server must give up on
RATE_LIMIT_MAX_WAIT = 3.0
MISSING_ID = 99_999


# --- the processes, shared by the module ---------------------------------------------------------------


@dataclass
class Harness:
    sandbox: Sandbox
    api: SandboxApi
    client: Client
    token_file: Path
    errlog: Path
    subjects: Subjects
    tokens: list[str]  # every API token the server was given, none of which may show in its log

    @property
    def get_id(self) -> int:
        return self.subjects.get_id


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # No rate limit of its own (this module sends ~1,500 requests a minute); refreshes are instant.
    with sandbox_process("--rate-limit", "0", "--refresh-seconds", "0") as running:
        yield running


@pytest.fixture(scope="module")
async def harness(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    folder = tmp_path_factory.mktemp("fault-matrix")
    token_file, errlog = folder / "token", folder / "server-stderr.log"
    write_token(token_file, sandbox.token)
    api = SandboxApi(sandbox)
    subjects = pick_subjects(api)
    env = clean_env(
        DATABASIN_API_URL=sandbox.url,
        DATABASIN_TOKEN_FILE=str(token_file),  # a file, so a rotated token can be picked up
        DATABASIN_CONNECT_TIMEOUT="2",
        DATABASIN_READ_TIMEOUT=str(READ_TIMEOUT),
        DATABASIN_REFRESH_TIMEOUT=str(READ_TIMEOUT),
        DATABASIN_MAX_ATTEMPTS=str(ATTEMPTS),
        DATABASIN_RETRY_BACKOFF="0.01",
        DATABASIN_RATE_LIMIT_MAX_WAIT=str(RATE_LIMIT_MAX_WAIT),
        DATABASIN_CACHE_TTL="0",  # every call reaches the upstream, so every call meets its fault
        DATABASIN_MAX_CONCURRENCY="16",
        DATABASIN_LOG_LEVEL="INFO",
    )
    async with stdio_session(env, errlog) as client:
        # The server learns which metadata routes the API serves from its first answer. Learnt here, a
        # row's 404 is never taken for a missing route, whose fallback (POST /api/connector/columns) would
        # meet the create's script; whichever row runs first, alone or not.
        assert not (await call(client, "list_catalogs", {"connector_id": BIG_CONNECTOR_ID})).is_error
        yield Harness(sandbox, api, client, token_file, errlog, subjects, [sandbox.token])


# --- rows ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One upstream fault, scripted on the request that matters."""

    id: str
    action: dict[str, Any]
    message: Callable[[Case, Harness], str]  # the isError text; unused when the call recovers
    retried: bool = False  # the server retries it (5xx, dropped connection, read timeout) if it is safe
    once: bool = False  # only the first attempt meets the fault; the retry meets a healthy upstream
    applies_late: bool = False  # the upstream still acts on the request after the server gave up
    one_at_a_time: bool = False  # 13 concurrent 50 MB streams would make the 2-core machine the fault
    # Listings may share one script even though a retry could meet a second fault: true for 429, whose
    # waits are bounded by time (two 429s are 2 s < 3 s), not for 503 (two 503s are the attempt limit).
    listings_share: bool = True
    refused_unprocessed: bool = False  # a 429: the request was turned away, so even a create is sent again
    unanswered: bool = False  # no answer came back: the upstream may still be acting on the request

    def attempts(self, case: Case) -> int:
        """How many times the server sends the faulted request."""
        if self.refused_unprocessed and self.once:
            return 2  # waited out, then sent again (a 429 is not an attempt that may have been acted on)
        if not self.retried or case.creates or case.acts:
            return 1  # never re-send a create, test or refresh that may have reached the API
        return ATTEMPTS

    def recovers(self, case: Case) -> bool:
        return self.once and self.attempts(case) > 1

    def script(self, case: Case) -> list[dict[str, Any]]:
        return [self.action] * (1 if self.once else self.attempts(case))


def _url(h: Harness) -> str:
    return h.sandbox.url


FAULTS = (
    Fault(
        "read timeout",
        {"kind": "delay", "seconds": DELAY},
        lambda c, h: f"The Databasin API at {_url(h)} did not answer in time.{c.transient_suffix}",
        retried=True,
        applies_late=True,
    ),
    Fault(
        "connection dropped mid-body",
        {"kind": "drop"},
        lambda c, h: (
            f"The connection to the Databasin API at {_url(h)} failed mid-request "
            f"(RemoteProtocolError|ReadError).{c.transient_suffix}"
        ),
        retried=True,
        unanswered=True,
    ),
    Fault(
        "500",
        {"status": 500},
        lambda c, h: (
            f"Databasin API error 500 Internal Server Error: An unexpected error occurred.{c.transient_suffix}"
        ),
        retried=True,
    ),
    Fault(
        "502 with an HTML body",
        {"kind": "html", "status": 502},
        lambda c, h: f"Databasin API error 502 Bad Gateway (not a JSON body): 502 Bad Gateway.{c.transient_suffix}",
        retried=True,
    ),
    Fault(
        "502 with an empty body",
        {"kind": "empty", "status": 502},
        lambda c, h: f"Databasin API error 502 Bad Gateway (empty body).{c.transient_suffix}",
        retried=True,
    ),
    Fault(
        "503, then success",
        {"status": 503},
        lambda c, h: (
            "Databasin API error 503 Service Unavailable: Service temporarily unavailable." + c.transient_suffix
        ),
        retried=True,
        once=True,
        listings_share=False,
    ),
    Fault(
        "429 short reset, then success",
        {"status": 429, "retry_after": 1, "reset_in": 1},
        lambda c, h: "",
        once=True,
        refused_unprocessed=True,
    ),
    Fault(
        "429 beyond the longest wait",
        {"status": 429, "retry_after": 30, "reset_in": 30},
        lambda c, h: "The Databasin API is rate limiting this token; try again in 30 s (at YYYY-MM-DDTHH:MM:SSZ).",
    ),
    Fault(
        "401",
        {"status": 401},
        lambda c, h: (
            f"The Databasin API refused the token from the token file {h.token_file} "
            "(401: Invalid or expired authentication token). Put a valid token there."
        ),
    ),
    Fault(
        "400 with the reference's body",
        {"status": 400},
        lambda c, h: "The Databasin API refused the request: Bad request. " + _after_refusal(c),
    ),
    Fault(
        "404 with the reference's body",
        {"status": 404},
        lambda c, h: _not_found(c),
    ),
    Fault(
        "200 with invalid JSON",
        {"kind": "invalid_json"},
        lambda c, h: (
            'The Databasin API answered 200 with a body that is not valid JSON: {"connectorID": 1, "connectorName":'
            + c.accepted_suffix
        ),
    ),
    Fault(
        "200 with a 50 MB body",
        {"kind": "huge", "bytes": 50_000_000},
        lambda c, h: (
            "The Databasin API answer is larger than the 20 MB cap; it was not read. "
            "Ask for less (filter by project, catalog or schema)." + c.accepted_suffix
        ),
        one_at_a_time=True,
    ),
)


def _not_found(case: Case) -> str:
    """A 404 whose body says only "Resource not found": about the connector when the tool names one."""
    if case.tool in (
        "get_connector",
        "update_connector",
        "delete_connector",
        "test_connector",
        "refresh_connector_metadata",
    ):
        return (
            f"Connector {case.connector_id} not found. "
            "Find IDs with list_connectors(project_id=...) or find_connectors(query=...)."
        )
    if case.connector_id is None:  # the listings and create: a 404 there means a wrong base URL
        return "Resource not found. Check that DATABASIN_API_URL is the Databasin API's base URL."
    return (
        "Resource not found. "
        f"Check the names with list_catalogs(connector_id={case.connector_id}) "
        f"or list_schemas(connector_id={case.connector_id})."
    )


def _after_refusal(case: Case) -> str:
    """A 400 to a test or refresh is about the connector: its ID is all the call has, so nothing to fix."""
    if case.tool in ("test_connector", "refresh_connector_metadata"):
        return f"Trying again will not help; get_connector(connector_id={case.connector_id}) shows its settings."
    return f"Fix the arguments and call {case.tool} again."


def assert_error(result: CallToolResult, expected: str, case: Case) -> None:
    assert result.is_error, f"{case.tool}: expected an error, got {text(result)!r}"
    got = text(result)
    if "YYYY-MM-DDTHH:MM:SSZ" in expected:
        got = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "YYYY-MM-DDTHH:MM:SSZ", got)
    if "(RemoteProtocolError|ReadError)" in expected:
        got = re.sub(r"\((RemoteProtocolError|ReadError)\)", "(RemoteProtocolError|ReadError)", got)
    assert got == expected, f"{case.tool}"


# --- running a row ----------------------------------------------------------------------------------------


def requests_since(h: Harness, start: int) -> Counter[tuple[str, str]]:
    return Counter((r["method"], r["path"]) for r in h.sandbox.requests()[start:])


async def run_phase(h: Harness, fault: Fault, cases: Sequence[Case], results: dict[str, CallToolResult]) -> None:
    """Script the fault for each case, call them together, check results and request counts."""
    start = len(h.sandbox.requests())
    # Scripts are consulted in the order posted: the create's ("/api/connector", POST) is a prefix of
    # the test and refresh paths, so it goes last and those two never reach it.
    for case in sorted(cases, key=lambda c: c.creates):
        h.sandbox.script_faults(fault.script(case), path=case.path, method=case.method)
    try:
        results.update(await run_together(h.client, cases))
        assert h.api.pending_faults() == [], "a scripted fault was not met: a request was sent fewer times"
    finally:
        h.api.clear_faults()
    sent = requests_since(h, start)
    for case in cases:
        # Listings share one path: their requests are counted together.
        sharing = [c for c in cases if (c.method, c.path) == (case.method, case.path)]
        assert sent[(case.method, case.path)] == sum(fault.attempts(c) for c in sharing), (case.tool, sent)


async def run_row(h: Harness, fault: Fault) -> tuple[list[Case], dict[str, CallToolResult]]:
    cases = build_cases(h.subjects, fault.id)
    by_tool = {case.tool: case for case in cases}
    results: dict[str, CallToolResult] = {}
    specific = [c for c in cases if c.tool not in LISTINGS and not c.creates]
    if fault.one_at_a_time:
        for case in cases:
            await run_phase(h, fault, [case], results)
    elif fault.once:
        # A retry must not meet another tool's script: the create's POST script would catch the test's
        # and refresh's retries, so the create goes alone; listings share one path and script.
        await run_phase(h, fault, specific, results)
        await run_phase(h, fault, [by_tool["create_connector"]], results)
        if fault.listings_share:
            await run_phase(h, fault, [by_tool[tool] for tool in LISTINGS], results)
        else:
            for tool in LISTINGS:
                await run_phase(h, fault, [by_tool[tool]], results)
    else:
        # Every attempt meets a fault, so shared scripts are used up exactly, whatever the order.
        await run_phase(h, fault, [*specific, by_tool["create_connector"]], results)
        await run_phase(h, fault, [by_tool[tool] for tool in LISTINGS], results)
    return cases, results


# --- the matrix ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
async def test_every_tool_answers_every_fault(harness: Harness, fault: Fault) -> None:
    h = harness
    cases, results = await run_row(h, fault)
    for case in cases:
        result = results[case.tool]
        assert UNEXPECTED not in text(result)
        if fault.recovers(case):
            assert_ok(result, case)
        else:
            assert_error(result, fault.message(case, h), case)

    # Writes: a failed one changed nothing (unless the upstream acts on it after the server gave up).
    for case in cases:
        recovered = fault.recovers(case)
        if fault.applies_late and not recovered:
            continue
        if case.creates:
            assert len(h.api.named(case.name or "", WORK_PROJECT)) == (1 if recovered else 0), case.name
        elif case.tool == "update_connector":
            status, now = h.api.request("GET", f"/api/connector/{case.connector_id}")
            assert status == 200
            changed = {key: now[key] for key in case.changes}
            if recovered:
                assert changed == case.changes
            else:  # nothing half-applied: neither the name nor the host moved
                assert changed == case.original
        elif case.tool == "delete_connector":
            status, _ = h.api.request("GET", f"/api/connector/{case.connector_id}")
            assert status == (404 if recovered else 200)

    # The same server still answers every tool, right after the fault.
    healthy = build_cases(h.subjects, f"{fault.id} healthy")
    answers = await run_together(h.client, healthy)
    for case in healthy:
        assert_ok(answers[case.tool], case)

    # Calling create again with the same name, as the error advises, never makes a duplicate.
    create = next(c for c in cases if c.creates)
    if not fault.applies_late:
        again = await call(h.client, "create_connector", create.arguments)
        assert not again.is_error, text(again)
        if fault.recovers(create):
            assert text(again).startswith(f"Not created: {WORK_PROJECT} already has connector ")
        elif fault.unanswered:
            # The first create got no answer and might still land: the retry waits rather than risk a second.
            assert text(again).startswith(f"Not created: a create of {create.name!r} in {WORK_PROJECT} got no answer ")
            assert h.api.named(create.name or "", WORK_PROJECT) == []
            return
        else:
            assert create.ok(text(again)), text(again)
        assert len(h.api.named(create.name or "", WORK_PROJECT)) == 1


# --- faults the script cannot express ---------------------------------------------------------------------------


async def test_a_token_rotated_on_disk_is_picked_up_after_a_401(harness: Harness) -> None:
    """The sandbox starts refusing the old token and the file holds the new one: every call succeeds."""
    h = harness
    cases = build_cases(h.subjects, "rotation")
    for number, case in enumerate(cases):
        token = f"rotated-{number}-{uuid.uuid4().hex}"
        h.tokens.append(token)
        h.api.rotate_token(token)
        write_token(h.token_file, token)
        start = len(h.sandbox.requests())

        result = await call(h.client, case.tool, case.arguments)

        assert_ok(result, case)
        sent = requests_since(h, start)
        first = next(iter(sent))  # the call's first request met the 401 and was sent again, nothing else
        assert sent[first] == 2, (case.tool, sent)
        assert all(count == 1 for request, count in sent.items() if request != first), (case.tool, sent)
        if case.tool in ("update_connector", "delete_connector", "create_connector"):
            assert sent[(case.method, case.path)] == 1  # the write itself went once, with the new token
        if case.creates:
            assert sent[("POST", "/api/connector")] == 1
            assert len(h.api.named(case.name or "", WORK_PROJECT)) == 1


async def test_real_404s_name_what_is_missing(harness: Harness) -> None:
    """The sandbox's own 404s: an unknown connector for connector tools, unknown names for metadata tools."""
    h = harness
    unknown = {"connector_id": MISSING_ID}
    calls: dict[str, dict[str, Any]] = {
        "get_connector": unknown,
        "update_connector": {**unknown, "name": "x"},
        "delete_connector": {**unknown, "confirm": True},
        "test_connector": unknown,
        "refresh_connector_metadata": unknown,
        "list_catalogs": unknown,
    }
    start = len(h.sandbox.requests())
    for tool, arguments in calls.items():
        result = await call(h.client, tool, arguments)
        assert result.is_error
        assert text(result) == (
            f"Connector {MISSING_ID} not found. "
            "Find IDs with list_connectors(project_id=...) or find_connectors(query=...)."
        ), tool
    sent = requests_since(h, start)
    assert ("PUT", f"/api/connector/{MISSING_ID}") not in sent  # the look-up failed: no write was sent
    assert ("DELETE", f"/api/connector/{MISSING_ID}") not in sent

    names = {
        "list_schemas": (
            {"catalog": "no_such_catalog"},
            f"Catalog 'no_such_catalog' not found for connector {BIG_CONNECTOR_ID}",
        ),
        "list_tables": (
            {"catalog": BIG_CATALOG, "schema": "no_such_schema"},
            f"Schema 'no_such_schema' not found in catalog '{BIG_CATALOG}'",
        ),
        "list_columns": (
            {"catalog": BIG_CATALOG, "schema": BIG_SCHEMA, "table": "no_such_table"},
            f"Table 'no_such_table' not found in schema '{BIG_CATALOG}.{BIG_SCHEMA}'",
        ),
    }
    for tool, (arguments, upstream) in names.items():
        result = await call(h.client, tool, {"connector_id": BIG_CONNECTOR_ID, **arguments})
        assert result.is_error
        assert text(result) == (
            f"{upstream}. Check the names with list_catalogs(connector_id=142) or list_schemas(connector_id=142)."
        ), tool

    untestable = await call(h.client, "test_connector", {"connector_id": UNTESTABLE_CONNECTOR_ID})
    assert untestable.is_error
    assert text(untestable) == (
        "The Databasin API refused the request: Connection testing is not supported for connector type SFTP. "
        f"Trying again will not help; get_connector(connector_id={UNTESTABLE_CONNECTOR_ID}) shows its settings."
    )


LOOKUP_FAULTS = [
    pytest.param([{"status": 500}] * ATTEMPTS, "Databasin API error 500 Internal Server Error", id="500"),
    pytest.param([{"kind": "drop"}] * ATTEMPTS, "failed mid-request (", id="drop"),
    pytest.param([{"status": 401}], "refused the token from the token file", id="401"),
    pytest.param([{"kind": "invalid_json"}], "not valid JSON", id="invalid-json"),
    pytest.param([{"kind": "huge", "bytes": 50_000_000}], "larger than the 20 MB cap", id="huge"),
    pytest.param([{"status": 429, "retry_after": 30}], "rate limiting this token; try again in 30 s", id="429"),
]


@pytest.mark.parametrize(("script", "says"), LOOKUP_FAULTS)
async def test_a_failed_look_up_sends_no_write(harness: Harness, script: list[dict[str, Any]], says: str) -> None:
    """Update, delete and create read before they write: when that read fails, nothing is written."""
    h = harness
    by_tool = {c.tool: c for c in build_cases(h.subjects, f"lookup {says[:12]}")}
    for tool in ("update_connector", "delete_connector", "create_connector"):
        case = by_tool[tool]
        lookup = "/api/connector" if case.creates else case.path
        start = len(h.sandbox.requests())
        h.sandbox.script_faults(script, path=lookup, method="GET")
        try:
            result = await call(h.client, tool, case.arguments)
            assert h.api.pending_faults() == []
        finally:
            h.api.clear_faults()

        assert result.is_error
        assert says in text(result), text(result)
        sent = requests_since(h, start)
        assert sent == Counter({("GET", lookup): len(script)}), (tool, sent)  # the look-up only, no write
    update, delete, create = (by_tool[t] for t in ("update_connector", "delete_connector", "create_connector"))
    now = h.api.get(f"/api/connector/{update.connector_id}")
    assert {key: now[key] for key in update.original} == update.original
    assert h.api.request("GET", f"/api/connector/{delete.connector_id}")[0] == 200
    assert h.api.named(create.name or "", WORK_PROJECT) == []


async def test_the_server_never_crashed(harness: Harness) -> None:
    """Runs last in this module: the process is alive, and its log has no traceback and no token."""
    result = await call(harness.client, "get_connector", {"connector_id": harness.get_id})
    assert not result.is_error
    log = harness.errlog.read_text(encoding="utf-8")
    assert " INFO " in log  # the log was written (at INFO: retries, waits, failures)
    assert "Traceback" not in log
    assert " crashed" not in log
    assert [token for token in harness.tokens if token in log] == []
