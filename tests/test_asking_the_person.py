"""The person, not the model (issue 15): passwords typed on our page, deletes confirmed by typing the name.

Through the MCP SDK's own client in-process, on both protocol generations (mode="legacy": 2025-11-25, asked
mid-call; mode="auto": 2026-07-28, asked by InputRequiredResult and a retry), with respx as the API. The
page is reached over HTTP on its loopback listener, as a browser would (tests/e2e/test_credentials_browser.py
does it with a real browser). Every answer and every log record is searched for the password.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
import respx
from anyio.abc import TaskGroup
from mcp import Client
from mcp.client.session import ClientSession
from mcp_types import CallToolResult, ElicitRequestFormParams, ElicitRequestURLParams, ElicitResult

from .conftest import ServerFactory

pytestmark = pytest.mark.anyio

PASSWORD = "Typ3d-by-the-person!"
MODES = [pytest.param("legacy", id="2025-11-25"), pytest.param("auto", id="2026-07-28")]
CREATE = {
    "name": "Orders Postgres",
    "connector_type": "RDBMS",
    "institution_id": 1,
    "project_id": "proj-001",
    "host": "pg.example.com",
    "port": 5432,
    "username": "svc",
}
EXISTING = {
    "connectorID": 101,
    "connectorName": "Production MySQL",
    "connectorType": "RDBMS",
    "connectorHost": "mysql.example.com",
    "connectorPort": "3306",
    "connectorDatabaseName": "sales",
    "connectorUsername": "etl",
    "institutionID": 1,
    "internalID": "proj-001",
}
LINK = re.compile(
    r"Nothing written yet: ask the person to open (http://127\.0\.0\.1:\d+/credentials/([A-Za-z0-9_-]{22})) and "
    r"type the password there \(it works once, for 10 minutes\)\. Then call (\w+) again with the same arguments "
    r"and password_ref='\2'\."
)

Callback = Callable[[Any, Any], Awaitable[ElicitResult]]


def text(result: CallToolResult) -> str:
    return result.content[0].text  # type: ignore[union-attr]


@pytest.fixture
def api(router: respx.Router) -> respx.Router:
    """A project with one connector (101), a create, an update and a delete that answer."""
    router.get("/api/connector").respond(json=[EXISTING])
    router.get("/api/connector/101").respond(json=EXISTING)
    router.post("/api/connector", name="create").respond(json={"connectorID": 789, "status": "success"})
    router.put("/api/connector/101", name="update").respond(json={"status": "success"})
    router.delete("/api/connector/101", name="delete").respond(json={"status": "success"})
    return router


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every log record at DEBUG, unformatted (before any masking), to search for the password."""
    with caplog.at_level(logging.DEBUG):
        yield caplog
    for record in caplog.records:
        assert PASSWORD not in record.getMessage()
        assert PASSWORD not in repr(record.args)


@asynccontextmanager
async def session(
    make_server: ServerFactory, mode: str, callback: Callback | None = None, **settings: Any
) -> AsyncIterator[Client]:
    server = make_server(allow_secret_arguments=False, **settings)
    async with Client(server, mode=mode, elicitation_callback=callback) as client:
        yield client


async def type_on_page(url: str, password: str = PASSWORD, action: str = "save") -> httpx.Response:
    """What a person does in the browser: open the page, type, press the button."""
    async with httpx.AsyncClient(timeout=10) as browser:
        page = await browser.get(url)
        assert page.status_code == 200, page.text
        found = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert found
        return await browser.post(url, data={"csrf": found.group(1), "password": password, "action": action})


def shown(result: CallToolResult) -> str:
    """Everything a result carries: what the model and the client can read."""
    return result.model_dump_json()


def sent_password(route: respx.Route) -> Any:
    return json.loads(route.calls.last.request.content).get("connectorPassword")


def person_who(tasks: TaskGroup, *, types: str | None = PASSWORD, answers: str = "accept", name: str = "") -> Callback:
    """An elicitation callback: URL mode opens the page (and types `types`, or declines on it) in the
    background, as a browser would, and answers `answers`; form mode answers with `name` typed."""

    async def callback(context: Any, params: Any) -> ElicitResult:
        calls.append(params)
        if isinstance(params, ElicitRequestURLParams):
            if answers == "accept":
                action = "save" if types is not None else "decline"
                tasks.start_soon(type_on_page, params.url, types or "", action)
            return ElicitResult(action=answers)  # type: ignore[arg-type]
        assert isinstance(params, ElicitRequestFormParams)
        content = {"name": name} if answers == "accept" else None
        return ElicitResult(action=answers, content=content)  # type: ignore[arg-type]

    calls: list[Any] = []
    callback.calls = calls  # type: ignore[attr-defined]
    return callback


@pytest.fixture
def form_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The client declares form elicitation only (as Claude Code does), not URL."""
    build = ClientSession._build_capabilities

    def without_url(self: ClientSession, version: str) -> Any:
        capabilities = build(self, version)
        if capabilities.elicitation is not None:
            capabilities.elicitation.url = None
        return capabilities

    monkeypatch.setattr(ClientSession, "_build_capabilities", without_url)


# --- the fallback: a link the agent passes on, then password_ref --------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_without_url_support_the_agent_passes_a_link_on_and_the_typed_password_is_sent(
    make_server: ServerFactory, api: respx.Router, logged: Any, mode: str
) -> None:
    async with session(make_server, mode) as client:
        asked = await client.call_tool("create_connector", {**CREATE, "ask_password": True})
        link = LINK.fullmatch(text(asked))
        assert link, text(asked)
        assert api.routes["create"].call_count == 0  # nothing is written before the person typed it
        assert asked.structured_content == {
            "summary": text(asked),
            "connector_id": None,
            "written": False,
            "password_ref": link.group(2),
            "url": link.group(1),
        }
        assert (await type_on_page(link.group(1))).status_code == 200

        created = await client.call_tool("create_connector", {**CREATE, "password_ref": link.group(2)})

    assert text(created) == "Created connector 789 'Orders Postgres' (RDBMS) in proj-001."
    assert api.routes["create"].call_count == 1
    assert sent_password(api.routes["create"]) == PASSWORD
    assert link.group(3) == "create_connector"
    # The audit log says the first call wrote nothing (it was not "ok": no connector was made then).
    audit = [record.audit for record in logged.records if record.name == "databasin_mcp.audit"]
    assert [(entry["outcome"], entry.get("reason"), entry.get("connector_id")) for entry in audit] == [
        ("no_change", "waiting_for_password", None),
        ("ok", None, 789),
    ]
    for result in (asked, created):
        assert PASSWORD not in shown(result)


async def test_the_agent_may_keep_ask_password_when_it_passes_the_ref(
    make_server: ServerFactory, api: respx.Router
) -> None:
    async with session(make_server, "legacy") as client:
        link = LINK.fullmatch(text(await client.call_tool("create_connector", {**CREATE, "ask_password": True})))
        assert link
        await type_on_page(link.group(1))
        created = await client.call_tool(
            "create_connector", {**CREATE, "ask_password": True, "password_ref": link.group(2)}
        )

    assert text(created).startswith("Created connector 789")
    assert sent_password(api.routes["create"]) == PASSWORD


async def test_a_ref_typed_for_another_write_is_refused_and_nothing_is_sent(
    make_server: ServerFactory, api: respx.Router
) -> None:
    async with session(make_server, "legacy") as client:
        link = LINK.fullmatch(text(await client.call_tool("create_connector", {**CREATE, "ask_password": True})))
        assert link
        await type_on_page(link.group(1))
        elsewhere = await client.call_tool(
            "create_connector", {**CREATE, "host": "evil.example.com", "password_ref": link.group(2)}
        )
        other_tool = await client.call_tool("update_connector", {"connector_id": 101, "password_ref": link.group(2)})

    assert elsewhere.is_error
    assert text(elsewhere) == (
        "password_ref was typed for another write (not the same host): use the arguments it was typed for, or call "
        "create_connector again with ask_password=true for a new page. Nothing was written."
    )
    assert text(other_tool) == (
        "password_ref was typed for another write (not the same tool): use the arguments it was typed for, or call "
        "update_connector again with ask_password=true for a new page. Nothing was written."
    )
    assert api.routes["create"].call_count == 0
    assert api.routes["update"].call_count == 0


async def test_a_ref_serves_one_call_and_is_refused_before_the_person_typed(
    make_server: ServerFactory, api: respx.Router
) -> None:
    async with session(make_server, "legacy") as client:
        link = LINK.fullmatch(text(await client.call_tool("create_connector", {**CREATE, "ask_password": True})))
        assert link
        arguments = {**CREATE, "password_ref": link.group(2)}
        early = await client.call_tool("create_connector", arguments)
        await type_on_page(link.group(1))
        first = await client.call_tool("create_connector", arguments)
        again = await client.call_tool("create_connector", arguments)
        unknown = await client.call_tool("create_connector", {**CREATE, "password_ref": "Z" * 22})

    assert text(early) == (
        f"The person has not typed the password yet: ask them to open {link.group(1)} (10 minutes left), "
        "then call create_connector again. Nothing was written."
    )
    assert text(first).startswith("Created connector 789")
    assert text(again) == (
        "password_ref was already used (a typed password serves one call): call create_connector again with "
        "ask_password=true for a new page. Nothing was written."
    )
    assert text(unknown) == (
        "password_ref is unknown to this server (it may have restarted): call create_connector again with "
        "ask_password=true for a new page. Nothing was written."
    )
    assert api.routes["create"].call_count == 1


async def test_a_malformed_ref_is_refused_before_anything_is_sent(
    make_server: ServerFactory, api: respx.Router
) -> None:
    async with session(make_server, "legacy") as client:
        result = await client.call_tool("create_connector", {**CREATE, "password_ref": "../../etc"})

    assert text(result) == (
        "Invalid argument: password_ref: is not a reference an answer gave; copy the password_ref it named. "
        "Fix and call again."
    )
    assert api.calls.call_count == 0


# --- URL elicitation: the client opens the page ------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_with_url_support_the_call_waits_for_the_page_and_creates_with_the_typed_password(
    make_server: ServerFactory, api: respx.Router, logged: Any, mode: str
) -> None:
    async with anyio.create_task_group() as tasks, session(make_server, mode, person := person_who(tasks)) as client:
        with anyio.fail_after(20):
            created = await client.call_tool("create_connector", {**CREATE, "ask_password": True, "test": False})

    assert text(created) == "Created connector 789 'Orders Postgres' (RDBMS) in proj-001."
    assert sent_password(api.routes["create"]) == PASSWORD
    assert api.routes["create"].call_count == 1
    (asked,) = person.calls  # type: ignore[attr-defined]
    assert isinstance(asked, ElicitRequestURLParams)
    assert asked.message == (
        "Create connector 'Orders Postgres': type the connector's password on this page. The AI agent never sees it."
    )
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/credentials/[A-Za-z0-9_-]{22}", asked.url)
    assert PASSWORD not in shown(created)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("answer", ["decline", "cancel"])
async def test_a_declined_or_cancelled_url_elicitation_writes_nothing(
    make_server: ServerFactory, api: respx.Router, logged: Any, mode: str, answer: str
) -> None:
    async with anyio.create_task_group() as tasks:
        person = person_who(tasks, answers=answer)
        async with session(make_server, mode, person) as client:
            result = await client.call_tool("create_connector", {**CREATE, "ask_password": True})
            async with httpx.AsyncClient() as browser:
                page = await browser.get(person.calls[0].url)  # type: ignore[attr-defined]

    said = "declined" if answer == "decline" else "cancelled"
    assert text(result) == f"Nothing written: the person {said} typing the password."
    assert not result.is_error
    assert api.routes["create"].call_count == 0
    assert page.status_code == 410  # and the page no longer takes a password
    (audit,) = [record.audit for record in logged.records if record.name == "databasin_mcp.audit"]
    assert (audit["outcome"], audit["reason"]) == ("no_change", "password_declined")


@pytest.mark.parametrize("mode", MODES)
async def test_declining_on_the_page_writes_nothing(make_server: ServerFactory, api: respx.Router, mode: str) -> None:
    async with anyio.create_task_group() as tasks, session(make_server, mode, person_who(tasks, types=None)) as client:
        result = await client.call_tool("create_connector", {**CREATE, "ask_password": True})

    assert text(result) == "Nothing written: the person declined typing the password."
    assert api.routes["create"].call_count == 0


@pytest.mark.parametrize("mode", MODES)
async def test_an_update_shows_the_connector_as_it_is_and_sends_the_typed_password(
    make_server: ServerFactory, api: respx.Router, logged: Any, mode: str
) -> None:
    seen: list[str] = []

    async def person(context: Any, params: Any) -> ElicitResult:
        async with httpx.AsyncClient() as browser:
            seen.append((await browser.get(params.url)).text)
        await type_on_page(params.url)
        return ElicitResult(action="accept")

    async with session(make_server, mode, person) as client:
        updated = await client.call_tool("update_connector", {"connector_id": 101, "ask_password": True})

    assert not updated.is_error, text(updated)
    assert json.loads(api.routes["update"].calls.last.request.content) == {"connectorPassword": PASSWORD}
    assert "<h1>Update connector 101 &#x27;Production MySQL&#x27;</h1>" in seen[0]
    assert "<dt>Host</dt><dd>mysql.example.com:3306</dd>" in seen[0]
    assert "<dt>Project</dt><dd>proj-001</dd>" in seen[0]
    assert PASSWORD not in shown(updated)


async def test_a_client_that_declares_only_forms_gets_the_link_never_a_form_for_the_password(
    make_server: ServerFactory, api: respx.Router, form_only: None
) -> None:
    async with anyio.create_task_group() as tasks:
        person = person_who(tasks)
        async with session(make_server, "auto", person) as client:
            result = await client.call_tool("create_connector", {**CREATE, "ask_password": True})

    assert LINK.fullmatch(text(result))
    assert person.calls == []  # type: ignore[attr-defined]


async def test_a_password_and_a_page_in_one_call_are_refused(make_server: ServerFactory, api: respx.Router) -> None:
    async with Client(make_server(allow_secret_arguments=True)) as client:
        result = await client.call_tool(
            "create_connector", {**CREATE, "password": "Also-pasted-pw1", "ask_password": True}
        )

    assert text(result) == "Give password or ask_password/password_ref, not both. Nothing was written."
    assert api.routes["create"].call_count == 0


# --- deletes the person confirms by typing the name --------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_typing_the_connectors_name_deletes_it_once(
    make_server: ServerFactory, api: respx.Router, mode: str
) -> None:
    async with anyio.create_task_group() as tasks:
        person = person_who(tasks, name=" Production MySQL ")
        async with session(make_server, mode, person) as client:
            result = await client.call_tool("delete_connector", {"connector_id": 101})

    assert text(result) == (
        "Deleted connector 101 'Production MySQL' (RDBMS, project proj-001). Pipelines that used it will now fail."
    )
    assert api.routes["delete"].call_count == 1
    (asked,) = person.calls  # type: ignore[attr-defined]
    assert isinstance(asked, ElicitRequestFormParams)
    assert asked.message == (
        "Delete connector 101 'Production MySQL' (RDBMS, project proj-001)? Pipelines using it will fail. "
        "To delete it, type its name: Production MySQL"
    )
    assert asked.requested_schema["required"] == ["name"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("answer", "typed", "said"),
    [
        ("accept", "production mysql", "Not deleted: the name the person typed is not the connector's."),
        ("accept", "101", "Not deleted: the name the person typed is not the connector's."),
        ("decline", "", "Not deleted: the person declined."),
        ("cancel", "", "Not deleted: the person cancelled."),
    ],
)
async def test_anything_but_the_right_name_deletes_nothing(
    make_server: ServerFactory, api: respx.Router, mode: str, answer: str, typed: str, said: str
) -> None:
    async with (
        anyio.create_task_group() as tasks,
        session(make_server, mode, person_who(tasks, answers=answer, name=typed)) as client,
    ):
        result = await client.call_tool("delete_connector", {"connector_id": 101, "confirm": True})

    assert text(result) == said
    assert not result.is_error
    assert api.routes["delete"].call_count == 0
    assert result.structured_content is not None
    assert result.structured_content["deleted"] is False


async def test_without_form_support_the_agents_confirm_decides_as_before(
    make_server: ServerFactory, api: respx.Router
) -> None:
    async with session(make_server, "auto") as client:  # no elicitation callback: the client cannot ask
        preview = await client.call_tool("delete_connector", {"connector_id": 101})
        deleted = await client.call_tool("delete_connector", {"connector_id": 101, "confirm": True})

    assert text(preview).startswith("Not deleted: confirm is false.")
    assert text(deleted).startswith("Deleted connector 101")
    assert api.routes["delete"].call_count == 1


@pytest.mark.parametrize(
    ("transport", "stateless", "mid_call", "own_listener"),
    [
        ("stdio", False, True, True),
        ("streamable-http", False, True, False),
        ("streamable-http", True, False, False),  # the answer to a mid-call question would reach another transport
        ("sse", False, True, False),
    ],
)
def test_where_the_page_is_and_whether_a_2025_client_is_asked_mid_call(
    transport: str, stateless: bool, mid_call: bool, own_listener: bool
) -> None:
    from databasin_mcp.config import Settings
    from databasin_mcp.credentials import LoopbackSite
    from databasin_mcp.person import Person

    person = Person.for_server(Settings(transport=transport, stateless=stateless))  # type: ignore[arg-type]

    assert person.passwords.back_channel is mid_call
    assert person.deletes.back_channel is mid_call
    assert isinstance(person.credentials.site, LoopbackSite) is own_listener
