"""The 13 tool calls a fault is aimed at, shared by the end-to-end modules of this suite.

Each `Case` is one tool call against the sandbox, the request a fault should hit (method and path
prefix, as POST /_sandbox/faults matches them) and what its right answer looks like. `build_cases`
makes a fresh set: a new connector to update, a new one to delete, a new name to create.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from mcp import Client
from mcp_types import CallToolResult

from databasin_mcp.harness.results import call, text
from databasin_mcp.sandbox.seed import BIG_CATALOG, BIG_CONNECTOR_ID, BIG_SCHEMA, SMALLEST_PROJECT, WIDE_TABLE

from .support import SandboxApi

WORK_PROJECT = "proj-012"  # connectors the suite creates, renames and deletes live here

TOOLS = (
    "list_projects",
    "list_connectors",
    "find_connectors",
    "get_connector",
    "create_connector",
    "update_connector",
    "delete_connector",
    "test_connector",
    "refresh_connector_metadata",
    "list_catalogs",
    "list_schemas",
    "list_tables",
    "list_columns",
)
LISTINGS = ("list_projects", "list_connectors", "find_connectors")  # share GET /api/connector
SUFFIX_RETRY = " Try again; if it keeps failing, the Databasin API is having trouble."
SUFFIX_CREATE = (
    " The connector may or may not have been created. It is safe to call create_connector again: "
    "it answers with the connector if the first attempt went through, and never makes a duplicate."
)
UNEXPECTED = "failed unexpectedly"


@dataclass(frozen=True)
class Subjects:
    """The sandbox and the seed connectors the read-only cases use."""

    api: SandboxApi
    get_id: int  # an ordinary connector for get_connector
    test_id: int  # one whose connection test passes
    refresh_id: int


def pick_subjects(api: SandboxApi) -> Subjects:
    """Three active, testable seed connectors whose test passes, none a path prefix of another request."""
    chosen: list[int] = []
    for connector in api.get("/api/connector"):
        cid = connector["connectorID"]
        if cid == BIG_CONNECTOR_ID or not (connector["active"] and connector["testConnectorSupport"]):
            continue
        status, result = api.request("POST", f"/api/connector/{cid}/test")
        if status == 200 and result["success"]:
            chosen.append(cid)
        if len(chosen) == 3:
            return Subjects(api, chosen[0], chosen[1], chosen[2])
    raise AssertionError("the sandbox has no three healthy testable connectors")


@dataclass
class Case:
    """One tool call of a row, and the request a fault is aimed at."""

    tool: str
    arguments: dict[str, Any]
    method: str
    path: str
    ok: Callable[[str], bool]  # what a right answer looks like
    connector_id: int | None = None
    name: str | None = None  # create: the connector's name
    changes: dict[str, Any] = field(default_factory=dict)  # update: API field -> new value
    original: dict[str, Any] = field(default_factory=dict)  # update: API field -> value before

    @property
    def creates(self) -> bool:
        return self.tool == "create_connector"

    @property
    def acts(self) -> bool:
        """A connector test or metadata refresh: never sent again after a failure that may have reached the API."""
        return self.tool in ("test_connector", "refresh_connector_metadata")

    @property
    def writes(self) -> bool:
        return self.tool in ("create_connector", "update_connector", "delete_connector", "refresh_connector_metadata")

    @property
    def unsent_suffix(self) -> str:
        """What the server adds when the request certainly never reached the API (refused, no connection)."""
        return " Nothing was changed; try again." if self.writes else SUFFIX_RETRY

    @property
    def transient_suffix(self) -> str:
        """What the server adds after a 5xx or transport failure, by tool."""
        if self.creates:
            return SUFFIX_CREATE
        if self.tool == "refresh_connector_metadata":
            return (
                " The refresh was sent once and may still be running: wait a few minutes, then check with "
                f"list_catalogs(connector_id={self.connector_id}) before refreshing again."
            )
        if self.tool == "test_connector":
            return " The test was sent once and not repeated; call test_connector again to retry."
        if self.writes:
            return (
                " The change may or may not have been applied: check with "
                f"get_connector(connector_id={self.connector_id}) before retrying."
            )
        return SUFFIX_RETRY

    @property
    def accepted_suffix(self) -> str:
        """What the server adds when the API answered a write 2xx with a body it could not read."""
        if self.creates:
            return (
                " The API accepted the request, so the connector was probably created: "
                f"check with find_connectors(query={self.name!r}) before creating it again."
            )
        if self.tool == "refresh_connector_metadata":
            return (
                " The API accepted the request, so the refresh probably ran: "
                f"list_catalogs(connector_id={self.connector_id}) shows the metadata now."
            )
        if self.tool == "delete_connector":
            return (
                " The API accepted the request, so the connector was probably deleted: "
                f"check with get_connector(connector_id={self.connector_id})."
            )
        if self.tool == "update_connector":
            return (
                " The API accepted the request, so the change was probably applied: "
                f"check with get_connector(connector_id={self.connector_id})."
            )
        return ""


def build_cases(h: Subjects, label: str) -> list[Case]:
    """The 13 calls of one row, with a fresh connector to update and one to delete."""
    tag = f"{re.sub(r'[^A-Za-z0-9 ]', '', label)} {uuid.uuid4().hex[:6]}"
    update_id = h.api.create(f"Hardening update {tag}", WORK_PROJECT, connectorHost="before.example.com")
    delete_id = h.api.create(f"Hardening delete {tag}", WORK_PROJECT)
    create_name = f"Hardening create {tag}"
    metadata = f"/api/connector/{BIG_CONNECTOR_ID}"
    where = {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA}
    renamed = {"connectorName": f"Hardening updated {tag}", "connectorHost": f"{uuid.uuid4().hex[:8]}.example.com"}
    return [
        Case("list_projects", {}, "GET", "/api/connector", lambda t: t.startswith("12 projects with ")),
        Case(
            "list_connectors",
            {"project_id": SMALLEST_PROJECT},
            "GET",
            "/api/connector",
            lambda t: t.startswith(f"3 connectors in {SMALLEST_PROJECT} (inactive: "),
        ),
        Case(
            "find_connectors",
            {"query": "zurich"},
            "GET",
            "/api/connector",
            lambda t: "311,Zürich Finance,Snowflake,proj-009" in t,
        ),
        Case(
            "get_connector",
            {"connector_id": h.get_id},
            "GET",
            f"/api/connector/{h.get_id}",
            lambda t: t.startswith(f"connectorID: {h.get_id}\n"),
            connector_id=h.get_id,
        ),
        Case(
            "create_connector",
            {
                "name": create_name,
                "connector_type": "RDBMS",
                "institution_id": 4,
                "project_id": WORK_PROJECT,
                "host": "pg.hardening.example.com",
                "port": 5432,
                "username": "svc",
            },
            "POST",
            "/api/connector",
            lambda t: (
                re.fullmatch(rf"Created connector \d+ '{re.escape(create_name)}' \(RDBMS\) in {WORK_PROJECT}\.", t)
                is not None
            ),
            name=create_name,
        ),
        Case(
            "update_connector",
            {"connector_id": update_id, "name": renamed["connectorName"], "host": renamed["connectorHost"]},
            "PUT",
            f"/api/connector/{update_id}",
            lambda t: (
                t.startswith(f"Updated connector {update_id} (")
                and f"connectorHost: before.example.com → {renamed['connectorHost']}" in t
            ),
            connector_id=update_id,
            changes=renamed,
            original={"connectorName": f"Hardening update {tag}", "connectorHost": "before.example.com"},
        ),
        Case(
            "delete_connector",
            {"connector_id": delete_id, "confirm": True},
            "DELETE",
            f"/api/connector/{delete_id}",
            lambda t: t.startswith(f"Deleted connector {delete_id} 'Hardening delete {tag}'"),
            connector_id=delete_id,
        ),
        Case(
            "test_connector",
            {"connector_id": h.test_id},
            "POST",
            f"/api/connector/{h.test_id}/test",
            lambda t: t.startswith(f"Connector {h.test_id} test passed: Connection test successful"),
            connector_id=h.test_id,
        ),
        Case(
            "refresh_connector_metadata",
            {"connector_id": h.refresh_id},
            "POST",
            f"/api/connector/{h.refresh_id}/refresh",
            lambda t: t.startswith(f"Metadata refresh of connector {h.refresh_id}: "),
            connector_id=h.refresh_id,
        ),
        Case(
            "list_catalogs",
            {"connector_id": BIG_CONNECTOR_ID},
            "GET",
            f"{metadata}/catalogs",
            lambda t: t.startswith(f"5 catalogs in connector {BIG_CONNECTOR_ID}\n"),
            connector_id=BIG_CONNECTOR_ID,
        ),
        Case(
            "list_schemas",
            {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG},
            "GET",
            f"{metadata}/schemas",
            lambda t: re.match(rf"\d+ schemas in connector {BIG_CONNECTOR_ID}, catalog {BIG_CATALOG}\b", t) is not None,
            connector_id=BIG_CONNECTOR_ID,
        ),
        Case(
            "list_tables",
            where,
            "GET",
            f"{metadata}/tables",
            lambda t: t.startswith(f"1,500 tables in connector {BIG_CONNECTOR_ID}, {BIG_CATALOG}.{BIG_SCHEMA}, "),
            connector_id=BIG_CONNECTOR_ID,
        ),
        Case(
            "list_columns",
            {**where, "table": WIDE_TABLE},
            "GET",
            f"{metadata}/columns",
            lambda t: t.startswith(f"250 columns of {BIG_CATALOG}.{BIG_SCHEMA}.{WIDE_TABLE}"),
            connector_id=BIG_CONNECTOR_ID,
        ),
    ]


def assert_ok(result: CallToolResult, case: Case) -> None:
    assert not result.is_error, f"{case.tool}: {text(result)}"
    assert case.ok(text(result)), f"{case.tool}: {text(result)}"


async def run_together(client: Client, cases: Sequence[Case]) -> dict[str, CallToolResult]:
    """Call every case at once on the one server session; every call bounded in time."""
    results: dict[str, CallToolResult] = {}

    async def one(case: Case) -> None:
        results[case.tool] = await call(client, case.tool, case.arguments)

    async with anyio.create_task_group() as tasks:
        for case in cases:
            tasks.start_soon(one, case)
    return results
