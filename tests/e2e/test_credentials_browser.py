"""A person types the password in a real browser (issue 15 #6), and it reaches the API and nothing else.

The real databasin-mcp process, over stdio and streamable HTTP, on both protocol generations, with the MCP
SDK's client and an elicitation callback; a headless Chromium from the distribution's packages, driven by
Playwright, opens our page, types the password and submits. The sandbox API (in this process, so its store
can be read) receives it; every byte of MCP traffic (a tee between client and server over stdio, a recording
transport over HTTP), every answer and structuredContent, and the server's DEBUG log are searched for it.
Deletes are confirmed by typing the name in a form; a wrong name deletes nothing.

UPDATE_SCREENSHOTS=1 also saves docs/credentials-page.png, the README's picture of the page.
"""

from __future__ import annotations

import os
import re
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import httpx2
import pytest
from anyio.abc import TaskGroup
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import CallToolResult, ElicitRequestFormParams, ElicitRequestURLParams, ElicitResult

from databasin_mcp.harness.processes import clean_env, http_server
from databasin_mcp.harness.results import created_id
from databasin_mcp.sandbox import RunningSandbox, SandboxConfig, running_sandbox
from databasin_mcp.sandbox.seed import PROJECT_95
from tests.browser import browser_context, chromium  # noqa: F401 - the fixture is used by name

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

CALL_TIMEOUT = 60.0  # the call waits for a browser to type: generous on a loaded 2-core machine
MCP_TOKEN = "browser-test-token-8c1d"
TEE = Path(__file__).with_name("tee_stdio.py")
SCREENSHOT = Path(__file__).parents[2] / "docs" / "credentials-page.png"
CASES = [
    pytest.param("stdio", "legacy", id="stdio-2025-11-25"),
    pytest.param("stdio", "auto", id="stdio-2026-07-28"),
    pytest.param("streamable-http", "legacy", id="http-2025-11-25"),
    pytest.param("streamable-http", "auto", id="http-2026-07-28"),
]
LINK = re.compile(r"open (http://\S+/credentials/(\S+)) and type")
Callback = Callable[[Any, Any], Awaitable[ElicitResult]]


@pytest.fixture(scope="module")
async def browser(chromium: Path, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:  # noqa: F811
    async with browser_context(chromium, tmp_path_factory.mktemp("chromium-profile")) as context:
        yield context


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    async with running_sandbox(SandboxConfig(port=0, rate_limit=0)) as running:
        yield running


@pytest.fixture
def password() -> str:
    return f"Br0wser-{uuid.uuid4().hex[:12]}!"  # fresh and distinctive: found only where it really is


@dataclass
class Seen:
    """What the test saw pass: every byte of MCP traffic, every result, the server's log file."""

    traffic: bytearray = field(default_factory=bytearray)
    results: list[CallToolResult] = field(default_factory=list)
    log: Path | None = None

    def holds(self, secret: str) -> list[str]:
        """Where `secret` shows up: nowhere, in a test that passes."""
        places = []
        if secret.encode() in self.traffic:
            places.append("MCP traffic")
        if any(secret in result.model_dump_json() for result in self.results):
            places.append("a result")
        if self.log is not None and secret in self.log.read_text(encoding="utf-8", errors="replace"):
            places.append("the server log")
        return places


class Recording(httpx2.AsyncBaseTransport):
    """An HTTP transport that appends every request and response byte (heads and bodies) to `record`."""

    def __init__(self, record: bytearray) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self._record = record

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        self._record += f"{request.method} {request.url}\n{request.headers}\n".encode()
        self._record += await request.aread()
        response = await self._inner.handle_async_request(request)
        self._record += f"{response.status_code}\n{response.headers}\n".encode()
        response.stream = _Tee(response.stream, self._record)  # type: ignore[arg-type]
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


class _Tee(httpx2.AsyncByteStream):
    def __init__(self, inner: Any, record: bytearray) -> None:
        self._inner = inner
        self._record = record

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            self._record += chunk
            yield chunk

    async def aclose(self) -> None:
        await self._inner.aclose()


@asynccontextmanager
async def connect(
    sandbox: RunningSandbox, transport: str, mode: str, tmp_path: Path, callback: Callback | None = None, *flags: str
) -> AsyncIterator[tuple[Client, Seen]]:
    """A fresh databasin-mcp process at DEBUG on `transport`, and what passes between it and the client."""
    env = clean_env(DATABASIN_API_URL=sandbox.url, DATABASIN_TOKEN=sandbox.token, DATABASIN_LOG_LEVEL="DEBUG")
    seen = Seen(log=tmp_path / "server.log")
    if transport == "stdio":
        record = tmp_path / "stdio.bytes"
        command = [str(TEE), str(record), "--", sys.executable, "-m", "databasin_mcp"]
        parameters = StdioServerParameters(command=sys.executable, args=command, env=env)
        with seen.log.open("w", encoding="utf-8") as errlog:
            try:
                async with Client(
                    stdio_client(parameters, errlog=errlog), mode=mode, elicitation_callback=callback
                ) as client:
                    yield client, seen
            finally:
                seen.traffic += record.read_bytes() if record.exists() else b""
        return
    with http_server(env, transport, "--auth-token", MCP_TOKEN, *flags) as server:
        headers = {"Authorization": f"Bearer {MCP_TOKEN}"}
        timeout = httpx2.Timeout(CALL_TIMEOUT, read=CALL_TIMEOUT)
        try:
            async with (
                httpx2.AsyncClient(transport=Recording(seen.traffic), headers=headers, timeout=timeout) as http,
                Client(
                    streamable_http_client(server.url, http_client=http), mode=mode, elicitation_callback=callback
                ) as client,
            ):
                yield client, seen
        finally:
            seen.log.write_text(server.output.text(), encoding="utf-8")


async def call(client: Client, seen: Seen, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    with anyio.fail_after(CALL_TIMEOUT):
        result = await client.call_tool(tool, arguments)
    seen.results.append(result)
    return result


def text(result: CallToolResult) -> str:
    return result.content[0].text  # type: ignore[union-attr]


def create_arguments(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "connector_type": "RDBMS",
        "institution_id": 3,
        "project_id": PROJECT_95,
        "host": "orders-db.example.com",
        "port": 5432,
        "database": "orders",
        "username": "reader",
    }


async def type_in_browser(browser: Any, url: str, password: str, *, screenshot: bool = False) -> str:
    """What the person does: open the page, read it, type the password, press the button. The page after."""
    page = await browser.new_page()
    violations: list[str] = []
    page.on("console", lambda message: violations.append(message.text) if "Content Security" in message.text else None)
    try:
        await page.goto(url)
        assert await page.locator("h1").inner_text() in (await page.title())
        # The style is allowed by its hash: a blocked style would leave the button unstyled.
        colour = await page.locator("button[value=save]").evaluate("b => getComputedStyle(b).backgroundColor")
        assert colour == "rgb(31, 95, 209)"
        if screenshot and os.environ.get("UPDATE_SCREENSHOTS") == "1":
            await page.set_viewport_size({"width": 760, "height": 640})
            SCREENSHOT.parent.mkdir(exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT), full_page=True)
        await page.fill("#password", password)
        await page.click("button[value=save]")
        await page.wait_for_selector("h1")
        after = await page.locator("h1").inner_text()
        assert violations == []
        return after
    finally:
        await page.close()


def person_at(browser: Any, tasks: TaskGroup, password: str, *, name: str | None = None) -> Callback:
    """An elicitation callback: a URL is opened in the browser (in the background, as a client hands it to
    one) and accepted; a form is answered with `name` typed, or declined when there is none."""

    async def callback(context: Any, params: Any) -> ElicitResult:
        if isinstance(params, ElicitRequestURLParams):
            tasks.start_soon(type_in_browser, browser, params.url, password)
            return ElicitResult(action="accept")
        assert isinstance(params, ElicitRequestFormParams)
        if name is None:
            return ElicitResult(action="decline")
        return ElicitResult(action="accept", content={"name": name})

    return callback


def deletes_of(sandbox: RunningSandbox, connector_id: int) -> int:
    return sum(
        1
        for entry in sandbox.state.requests.entries
        if entry["method"] == "DELETE" and entry["path"] == f"/api/connector/{connector_id}"
    )


# --- URL elicitation: the client opens our page in the browser --------------------------------------------------


@pytest.mark.parametrize(("transport", "mode"), CASES)
async def test_the_password_typed_in_the_browser_creates_the_connector_and_goes_nowhere_else(
    browser: Any, sandbox: RunningSandbox, tmp_path: Path, password: str, transport: str, mode: str
) -> None:
    name = f"Browser {transport} {mode} {uuid.uuid4().hex[:6]}"
    async with anyio.create_task_group() as tasks:
        callback = person_at(browser, tasks, password, name=name)
        async with connect(sandbox, transport, mode, tmp_path, callback) as (client, seen):
            created = await call(client, seen, "create_connector", {**create_arguments(name), "ask_password": True})
            connector_id = created_id(text(created))
            stored = sandbox.store.get(connector_id)
            deleted = await call(client, seen, "delete_connector", {"connector_id": connector_id})

    assert text(created) == f"Created connector {connector_id} {name!r} (RDBMS) in {PROJECT_95}."
    assert stored is not None
    assert stored["connectorPassword"] == password  # the API got what the person typed
    assert text(deleted).startswith(f"Deleted connector {connector_id} {name!r}")
    assert sandbox.store.get(connector_id) is None  # deleted once the person typed its name, and once
    assert deletes_of(sandbox, connector_id) == 1
    assert seen.holds(password) == []
    assert seen.traffic  # the recording did record the session


# --- the fallback: the agent passes the link on, the person types, the agent passes password_ref ------------------


async def never_asked(context: Any, params: Any) -> ElicitResult:
    raise AssertionError(f"asked mid-call where the answer cannot come back: {params!r}")


@pytest.mark.parametrize(
    ("transport", "mode", "flags", "callback"),
    [
        pytest.param("stdio", "legacy", (), None, id="stdio-2025-11-25-no-elicitation"),
        pytest.param("streamable-http", "auto", (), None, id="http-2026-07-28-no-elicitation"),
        # Stateless HTTP cannot carry a question to a 2025-11-25 client mid-call: the link, not a hang.
        pytest.param("streamable-http", "legacy", ("--stateless",), never_asked, id="http-stateless-2025-11-25"),
    ],
)
async def test_the_link_and_password_ref_create_the_connector_with_the_password_typed_in_the_browser(
    browser: Any,
    sandbox: RunningSandbox,
    tmp_path: Path,
    password: str,
    transport: str,
    mode: str,
    flags: tuple[str, ...],
    callback: Callback | None,
) -> None:
    name = "Orders Postgres"  # the sandbox is this test's own: no other connector has the name
    arguments = create_arguments(name)
    async with connect(sandbox, transport, mode, tmp_path, callback, *flags) as (client, seen):
        asked = await call(client, seen, "create_connector", {**arguments, "ask_password": True})
        link = LINK.search(text(asked))
        assert link, text(asked)
        after = await type_in_browser(browser, link.group(1), password, screenshot=transport == "stdio")
        created = await call(client, seen, "create_connector", {**arguments, "password_ref": link.group(2)})
        again = await call(client, seen, "create_connector", {**arguments, "password_ref": link.group(2)})

    assert after == "Password received"
    connector_id = created_id(text(created))
    stored = sandbox.store.get(connector_id)
    assert stored is not None
    assert stored["connectorPassword"] == password
    assert text(again).startswith("password_ref was already used")
    assert seen.holds(password) == []


async def test_a_declined_page_and_a_wrong_name_change_nothing(
    browser: Any, sandbox: RunningSandbox, tmp_path: Path, password: str
) -> None:
    name = f"Declined {uuid.uuid4().hex[:6]}"
    before = sandbox.store.count()

    async def decline(context: Any, params: Any) -> ElicitResult:
        if isinstance(params, ElicitRequestFormParams):
            return ElicitResult(action="accept", content={"name": "Not its name"})
        return ElicitResult(action="decline")

    async with connect(sandbox, "streamable-http", "auto", tmp_path, decline) as (client, seen):
        declined = await call(client, seen, "create_connector", {**create_arguments(name), "ask_password": True})
        wrong = await call(client, seen, "delete_connector", {"connector_id": 311, "confirm": True})

    assert text(declined) == "Nothing written: the person declined typing the password."
    assert sandbox.store.count() == before
    assert text(wrong) == "Not deleted: the name the person typed is not the connector's."
    assert sandbox.store.get(311) is not None
    assert deletes_of(sandbox, 311) == 0


# --- the page refuses what a person did not send from it ------------------------------------------------------------


async def test_in_the_browser_the_page_refuses_reuse_a_forged_token_and_a_post_from_another_site(
    browser: Any, sandbox: RunningSandbox, tmp_path: Path, password: str
) -> None:
    async with connect(sandbox, "stdio", "legacy", tmp_path) as (client, seen):
        first = LINK.search(
            text(await call(client, seen, "create_connector", {**create_arguments("A"), "ask_password": True}))
        )
        second = LINK.search(
            text(await call(client, seen, "create_connector", {**create_arguments("B"), "ask_password": True}))
        )
        assert first
        assert second
        page = await browser.new_page()
        try:
            # A token that is not the page's own: refused, and the page still works.
            await page.goto(first.group(1))
            await page.evaluate("document.querySelector('input[name=csrf]').value = 'forged-token-forged'")
            await page.fill("#password", password)
            await page.click("button[value=save]")
            assert await page.locator("h1").inner_text() == "Refused"
            # A form on another site (here a data: URL, an origin of its own) posting to our page, with the
            # right token even: refused, by the Origin the browser sends.
            await page.goto(first.group(1))
            csrf = await page.locator("input[name=csrf]").get_attribute("value")
            elsewhere = (
                f'<form method="post" action="{first.group(1)}"><input name="csrf" value="{csrf}">'
                f'<input name="password" value="{password}"><button name="action" value="save">go</button></form>'
            )
            await page.goto("data:text/html," + quote(elsewhere))
            async with page.expect_response(first.group(1)) as posted:
                await page.click("button")
            assert (await posted.value).status == 403
            # Typed on its page: taken once; the same page again no longer works.
            assert await type_in_browser(browser, first.group(1), password) == "Password received"
            await page.goto(first.group(1))
            assert await page.locator("h1").inner_text() == "This link no longer works"
        finally:
            await page.close()
        # A ref the person typed for one write does not serve another.
        other = await call(client, seen, "create_connector", {**create_arguments("B"), "password_ref": first.group(2)})

    assert text(other).startswith("password_ref was typed for another write (not the same name)")
    assert seen.holds(password) == []
