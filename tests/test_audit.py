"""The audit log (issue 18 #8): one line for every write and every refused write, with who and what, never a secret.

In process against respx, reading the audit records the server logs; tests/e2e/test_transports.py reads
them from DATABASIN_LOG_FILE of real servers on every transport, tests/hardening/test_secrets.py scans
them for planted secrets.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from mcp import Client

from databasin_mcp.audit import AUDIT_LOGGER, AuditEntry, Caller

from .conftest import ServerFactory

pytestmark = pytest.mark.anyio

PASSWORD = "Planted-Pa55word-7f3a9c"
ROWS = [
    {"connectorID": 7, "connectorName": "Orders", "connectorType": "RDBMS", "internalID": "proj-1", "institutionID": 1},
    {"connectorID": 8, "connectorName": "Ledger", "connectorType": "RDBMS", "internalID": "proj-1", "institutionID": 1},
]


class Audited:
    """The audit records logged so far in the test, in order."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self._caplog = caplog

    def __iter__(self) -> Iterator[logging.LogRecord]:
        return iter([record for record in self._caplog.records if record.name == AUDIT_LOGGER])


@pytest.fixture
def audited(caplog: pytest.LogCaptureFixture) -> Audited:
    caplog.set_level(logging.INFO, logger=AUDIT_LOGGER)
    return Audited(caplog)


@pytest.fixture
def api(router: respx.Router) -> respx.Router:
    router.get("/api/connector").mock(return_value=httpx.Response(200, json=ROWS))
    router.get("/api/connector/7").mock(return_value=httpx.Response(200, json=ROWS[0]))
    router.get("/api/connector/8").mock(return_value=httpx.Response(200, json=ROWS[1]))
    router.post("/api/connector").mock(return_value=httpx.Response(200, json={"connectorID": 99}))
    router.put("/api/connector/7").mock(return_value=httpx.Response(200, json={"connectorID": 7}))
    router.delete("/api/connector/8").mock(return_value=httpx.Response(200, json={"message": "deleted"}))
    router.post("/api/connector/7/refresh").mock(return_value=httpx.Response(200, json={"catalogCount": 2}))
    router.put("/api/connector/404").mock(return_value=httpx.Response(404, json={"message": "no such connector"}))
    router.get("/api/connector/404").mock(return_value=httpx.Response(200, json={**ROWS[0], "connectorID": 404}))
    return router


def fields(records: Iterable[logging.LogRecord]) -> list[dict[str, Any]]:
    """Each record's audit fields without who asked (checked separately)."""
    caller = ("client", "session", "peer")
    return [{k: v for k, v in record.audit.items() if k not in caller} for record in records]  # type: ignore[attr-defined]


async def test_every_write_is_recorded_with_its_outcome_project_and_connector(
    make_server: ServerFactory, api: respx.Router, audited: Audited
) -> None:
    async with Client(make_server()) as client:
        await client.call_tool("list_connectors", {"project_id": "proj-1"})  # a read: not recorded
        create = {"connector_type": "RDBMS", "institution_id": 1, "project_id": "proj-1", "password": PASSWORD}
        await client.call_tool("create_connector", {"name": "New Orders", **create})
        await client.call_tool("create_connector", {"name": "Orders", **create})
        await client.call_tool("update_connector", {"connector_id": 7, "password": PASSWORD})
        await client.call_tool("delete_connector", {"connector_id": 8})
        await client.call_tool("delete_connector", {"connector_id": 8, "confirm": True})
        await client.call_tool("refresh_connector_metadata", {"connector_id": 7})
        await client.call_tool("get_connector", {"connector_id": 7})  # a read: not recorded
    assert fields(audited) == [
        {"tool": "create_connector", "outcome": "ok", "project": "proj-1", "connector_id": 99,
         "connector_name": "New Orders"},
        {"tool": "create_connector", "outcome": "no_change", "reason": "already_exists", "project": "proj-1",
         "connector_id": 7, "connector_name": "Orders"},
        {"tool": "update_connector", "outcome": "ok", "project": "proj-1", "connector_id": 7,
         "connector_name": "Orders"},
        {"tool": "delete_connector", "outcome": "no_change", "reason": "not_confirmed", "project": "proj-1",
         "connector_id": 8, "connector_name": "Ledger"},
        {"tool": "delete_connector", "outcome": "ok", "project": "proj-1", "connector_id": 8,
         "connector_name": "Ledger"},
        {"tool": "refresh_connector_metadata", "outcome": "ok", "connector_id": 7},
    ]  # fmt: skip
    assert all(PASSWORD not in record.getMessage() for record in audited)
    assert all(record.levelno == logging.INFO for record in audited)


async def test_the_line_says_who_asked(make_server: ServerFactory, api: respx.Router, audited: Audited) -> None:
    async with Client(make_server()) as client:
        await client.call_tool("delete_connector", {"connector_id": 8})
    (record,) = list(audited)
    assert record.audit["client"].startswith("mcp/")  # type: ignore[attr-defined]
    assert record.getMessage().startswith(
        "write tool=delete_connector outcome=no_change reason=not_confirmed project=proj-1 connector_id=8 "
        "connector_name=Ledger client=mcp/"  # the MCP SDK's client, as it names itself
    )


async def test_failed_and_refused_writes_are_recorded_without_their_arguments(
    make_server: ServerFactory, api: respx.Router, audited: Audited
) -> None:
    async with Client(make_server()) as client:
        await client.call_tool("update_connector", {"connector_id": 404, "name": "Renamed"})
        await client.call_tool("update_connector", {"connector_id": 7})  # nothing to update: refused before sending
        await client.call_tool("delete_connector", {"connector_id": "eight"})
        await client.call_tool("create_connector", {"name": "X", "passwrd": PASSWORD})
    assert fields(audited) == [
        {"tool": "update_connector", "outcome": "failed", "reason": "NotFoundError", "connector_id": 404,
         "connector_name": "Renamed"},
        {"tool": "update_connector", "outcome": "refused", "reason": "InvalidArgumentError", "connector_id": 7},
        {"tool": "delete_connector", "outcome": "refused", "reason": "invalid_arguments"},
        {"tool": "create_connector", "outcome": "refused", "reason": "invalid_arguments", "connector_name": "X"},
    ]  # fmt: skip
    assert all(PASSWORD not in record.getMessage() for record in audited)
    assert all(PASSWORD not in str(record.audit) for record in audited)  # type: ignore[attr-defined]


async def test_a_write_asked_of_a_read_only_server_is_recorded_as_refused(
    make_server: ServerFactory, api: respx.Router, audited: Audited
) -> None:
    async with Client(make_server(read_only=True)) as client:
        result = await client.call_tool("delete_connector", {"connector_id": 8, "confirm": True})
        await client.call_tool("no_such_tool", {})  # not a write: not recorded
    assert result.is_error
    assert fields(audited) == [
        {"tool": "delete_connector", "outcome": "refused", "reason": "read_only", "connector_id": 8}
    ]
    assert not [r for r in api.calls if r.request.method == "DELETE"]


async def test_a_write_not_offered_by_tools_is_recorded_as_refused(
    make_server: ServerFactory, api: respx.Router, audited: Audited
) -> None:
    async with Client(make_server(tools="read")) as client:
        await client.call_tool("create_connector", {"name": "Sneaky", "password": PASSWORD})
    assert fields(audited) == [
        {"tool": "create_connector", "outcome": "refused", "reason": "not_offered", "connector_name": "Sneaky"}
    ]


async def test_a_write_with_no_answer_says_it_may_have_been_made(
    make_server: ServerFactory, router: respx.Router, audited: Audited
) -> None:
    router.get("/api/connector").mock(return_value=httpx.Response(200, json=ROWS))
    router.post("/api/connector").mock(side_effect=httpx.ReadTimeout("slow"))
    async with Client(make_server()) as client:
        result = await client.call_tool(
            "create_connector", {"name": "Slow", "connector_type": "RDBMS", "institution_id": 1, "project_id": "proj-1"}
        )
    assert result.is_error
    assert fields(audited) == [
        {"tool": "create_connector", "outcome": "failed", "reason": "no_answer", "project": "proj-1",
         "connector_name": "Slow"}
    ]  # fmt: skip


def test_names_that_could_forge_a_line_are_quoted_and_escaped() -> None:
    entry = AuditEntry(
        "update_connector",
        "ok",
        connector_id=7,
        connector_name='Orders\nwrite tool=delete_connector outcome=ok "\u202e',
        caller=Caller(client="evil client/1.0", session="ab12", peer="127.0.0.1"),
    )
    line = entry.line()
    assert "\n" not in line
    assert "\u202e" not in line
    assert line == (
        "write tool=update_connector outcome=ok connector_id=7 "
        'connector_name="Orders\\nwrite tool=delete_connector outcome=ok \\"\\u202e" '
        'client="evil client/1.0" session=ab12 peer=127.0.0.1'
    )


def test_the_readme_example_is_a_line_the_log_writes() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"INFO databasin_mcp\.audit: (write .*)", readme)
    entry = AuditEntry(
        "delete_connector",
        "ok",
        project="proj-007",
        connector_id=118,
        connector_name="Claims Snowflake",
        caller=Caller(client="claude-code/2.1.332", session="5f0c2a9e41b7", peer="10.0.4.12"),
    )
    assert example == entry.line()
