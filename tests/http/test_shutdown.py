"""Ending the real databasin-mcp process: SIGTERM on HTTP and stdio, end of stdin; stdout carries protocol only."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import anyio
import anyio.to_thread
import httpx
import pytest
from mcp.shared.exceptions import MCPError

from databasin_mcp.harness.processes import HttpServer, LineReader, Sandbox, http_server, stop
from databasin_mcp.harness.results import CALL_TIMEOUT
from databasin_mcp.http_shutdown import SHUTDOWN_MESSAGE
from databasin_mcp.sandbox.seed import BIG_CATALOG, BIG_CONNECTOR_ID, BIG_SCHEMA
from databasin_mcp.specs import TOOL_NAMES

from .support import MCP_HEADERS, initialize_request, sse_session, streamable_client, wait_for_upstream

pytestmark = [pytest.mark.anyio, pytest.mark.e2e]

SHUTDOWN_LIMIT = 2.0  # seconds from the signal (or end of stdin) to the process's exit
SLOW_CONNECTOR = 104
SLOW_PATH = f"/api/connector/{SLOW_CONNECTOR}"
ENDED_BY_SIGTERM = (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has shut down cleanly


def hold_upstream(sandbox: Sandbox) -> None:
    """The next request for the slow connector waits a minute in the sandbox: a tool call stays in flight.

    The request log and fault scripts are emptied first: wait_for_upstream must see this request, not an
    earlier one.
    """
    sandbox.admin("DELETE", "/_sandbox/requests")
    sandbox.admin("DELETE", "/_sandbox/faults")
    sandbox.script_faults([{"kind": "delay", "seconds": 60}], path=SLOW_PATH)


def leaves(group: BaseExceptionGroup[MCPError]) -> list[MCPError]:
    return [
        error
        for inner in group.exceptions
        for error in (leaves(inner) if isinstance(inner, BaseExceptionGroup) else [inner])
    ]


def wait_exit(process: subprocess.Popen[str], limit: float) -> tuple[int, float]:
    """The exit code and how long the process took to end; fails (and kills it) when it outlives `limit` by far."""
    started = time.monotonic()
    try:
        code = process.wait(timeout=limit + 3)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
        raise AssertionError(f"still running {limit + 3} s after being told to stop") from None
    return code, time.monotonic() - started


# --- HTTP ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transport", "mode", "args"),
    [
        pytest.param("streamable-http", "auto", (), id="streamable-http"),
        pytest.param("streamable-http", "legacy", (), id="streamable-http-legacy-session"),
        pytest.param("streamable-http", "legacy", ("--stateless",), id="streamable-http-stateless"),
        pytest.param("sse", "legacy", (), id="sse"),
    ],
)
async def test_sigterm_ends_the_http_server_promptly_and_cancels_calls_in_flight(
    sandbox: Sandbox, transport: str, mode: str, args: tuple[str, ...]
) -> None:
    outcome: dict[str, Any] = {}

    async def slow_call(url: str) -> None:
        try:
            async with sse_session(url) if transport == "sse" else streamable_client(url, mode=mode) as client:
                outcome["result"] = await client.call_tool("get_connector", {"connector_id": SLOW_CONNECTOR})
        except* MCPError as errors:
            outcome["errors"] = [(error.code, error.message) for error in leaves(errors)]

    with http_server(sandbox.env(), transport, *args) as server:
        hold_upstream(sandbox)
        with anyio.fail_after(CALL_TIMEOUT):
            async with anyio.create_task_group() as calls:
                calls.start_soon(slow_call, server.url)
                await anyio.to_thread.run_sync(wait_for_upstream, sandbox, SLOW_PATH)
                server.process.send_signal(signal.SIGTERM)
                code, took = await anyio.to_thread.run_sync(wait_exit, server.process, SHUTDOWN_LIMIT)
            # The call ended (the task group waited for it): with an error, not a result, and not by hanging.
        server.output.join()
        log = server.output.text()

    assert took < SHUTDOWN_LIMIT, f"{took:.2f} s"
    assert code in ENDED_BY_SIGTERM
    assert "Traceback" not in log
    assert " ERROR " not in log, log
    assert "result" not in outcome
    assert outcome["errors"] == [(-32000, SHUTDOWN_MESSAGE)]  # the server's answer, not the client's own
    print(f"\n{transport} {mode} {' '.join(args)}: exited {took:.2f} s after SIGTERM ({outcome})")


# --- stdio --------------------------------------------------------------------------------------------


@dataclass
class StdioServer:
    process: subprocess.Popen[str]
    stdout: LineReader
    stderr: LineReader

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def answer(self, request_id: int) -> dict[str, Any]:
        """The response to request `request_id` (the next stdout line that is one)."""
        line = self.stdout.wait_for(rf'"id":\s*{request_id}\b', timeout=CALL_TIMEOUT).string
        return json.loads(line)  # type: ignore[no-any-return]

    def handshake(self) -> dict[str, Any]:
        self.send(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "raw-json-rpc-test", "version": "1"},
                },
            }
        )
        initialized = self.answer(1)
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return initialized

    def call_tool(self, request_id: int, name: str, arguments: dict[str, Any]) -> None:
        self.send(
            {
                "jsonrpc": "2.0",
                "id": request_id,
                "method": "tools/call",
                "params": {"name": name, "arguments": arguments},
            }
        )


@contextmanager
def stdio_process(env: dict[str, str], *args: str) -> Iterator[StdioServer]:
    """`databasin-mcp` on stdio, driven with raw JSON-RPC lines; stdout and stderr read apart."""
    process = subprocess.Popen(
        [sys.executable, "-m", "databasin_mcp", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    streams: list[IO[str]] = [process.stdout, process.stderr]
    server = StdioServer(process, LineReader(process.stdout), LineReader(process.stderr))
    try:
        yield server
    finally:
        stop(process)
        server.stdout.join()
        server.stderr.join()
        for stream in [*streams, process.stdin]:
            if stream is not None:
                stream.close()


def assert_only_json_rpc(stdout: list[str]) -> list[dict[str, Any]]:
    """Every stdout line is one JSON-RPC 2.0 message (a response, or a notification/request from the server)."""
    messages = []
    for line in stdout:
        message = json.loads(line)
        assert message["jsonrpc"] == "2.0", line
        assert ("id" in message and ("result" in message) != ("error" in message)) or "method" in message, line
        messages.append(message)
    return messages


def test_stdout_carries_protocol_messages_only(sandbox: Sandbox) -> None:
    # DEBUG logging, an API error and a tool error: plenty for stderr, nothing of it on stdout.
    with stdio_process(sandbox.env(), "--log-level", "DEBUG") as server:
        initialized = server.handshake()
        server.send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        tools = server.answer(2)
        server.call_tool(3, "get_connector", {"connector_id": 104})
        found = server.answer(3)
        server.call_tool(4, "get_connector", {"connector_id": 999_999})
        missing = server.answer(4)
        server.call_tool(
            5, "list_tables", {"connector_id": BIG_CONNECTOR_ID, "catalog": BIG_CATALOG, "schema": BIG_SCHEMA}
        )
        tables = server.answer(5)
        server.send({"jsonrpc": "2.0", "id": 6, "method": "no/such/method"})
        unknown = server.answer(6)
        assert server.process.stdin is not None
        server.process.stdin.close()
        code, _ = wait_exit(server.process, SHUTDOWN_LIMIT)
        server.stdout.join()
        server.stderr.join()

    assert code == 0
    assert initialized["result"]["protocolVersion"] == "2025-11-25"
    assert len(tools["result"]["tools"]) == len(TOOL_NAMES)
    assert found["result"]["content"][0]["text"].splitlines()[1] == "connectorName: Café Orders"
    assert missing["result"]["isError"] is True
    assert tables["result"]["content"][0]["text"].startswith("1,500 tables in connector")
    assert unknown["error"]["code"] == -32601
    messages = assert_only_json_rpc(server.stdout.lines)
    assert [m.get("id") for m in messages if "id" in m] == [1, 2, 3, 4, 5, 6]
    assert "DEBUG" in server.stderr.text()  # the logs went somewhere: to stderr


def test_closing_stdin_ends_the_stdio_server_promptly_and_answers_calls_in_flight(sandbox: Sandbox) -> None:
    with stdio_process(sandbox.env()) as server:
        server.handshake()
        hold_upstream(sandbox)
        server.call_tool(2, "get_connector", {"connector_id": SLOW_CONNECTOR})
        wait_for_upstream(sandbox, SLOW_PATH)
        assert server.process.stdin is not None
        server.process.stdin.close()
        code, took = wait_exit(server.process, SHUTDOWN_LIMIT)
        server.stdout.join()
        server.stderr.join()

    assert took < SHUTDOWN_LIMIT, f"{took:.2f} s"
    assert code == 0
    messages = assert_only_json_rpc(server.stdout.lines)
    assert messages[-1] == {"jsonrpc": "2.0", "id": 2, "error": {"code": -32000, "message": "Connection closed"}}
    assert server.stderr.text() == ""
    print(f"\nstdio: exited {took:.2f} s after stdin closed")


def test_sigterm_ends_the_stdio_server_promptly(sandbox: Sandbox) -> None:
    with stdio_process(sandbox.env()) as server:
        server.handshake()
        hold_upstream(sandbox)
        server.call_tool(2, "get_connector", {"connector_id": SLOW_CONNECTOR})
        wait_for_upstream(sandbox, SLOW_PATH)
        server.process.send_signal(signal.SIGTERM)
        code, took = wait_exit(server.process, SHUTDOWN_LIMIT)
        server.stdout.join()
        server.stderr.join()

    assert took < SHUTDOWN_LIMIT, f"{took:.2f} s"
    assert code in ENDED_BY_SIGTERM
    assert_only_json_rpc(server.stdout.lines)
    assert "Traceback" not in server.stderr.text()
    print(f"\nstdio: exited {took:.2f} s after SIGTERM")


# --- HTTP: every call in flight gets an answer ----------------------------------------------------------------

CALL_ID = 7
SHUTDOWN_ANSWER = {"jsonrpc": "2.0", "id": CALL_ID, "error": {"code": -32000, "message": SHUTDOWN_MESSAGE}}
CREATE = {
    "project_id": "proj-001",
    "name": "Shutdown Probe",
    "connector_type": "RDBMS",
    "host": "db.example",
    "port": 5432,
    "database": "probe",
    "username": "probe",
    "institution_id": 1,
}
MODERN = "2026-07-28"
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": MODERN,
    "io.modelcontextprotocol/clientInfo": {"name": "raw-http-test", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def wait_for_post(sandbox: Sandbox, path: str) -> None:
    """Return once the sandbox has received a POST to `path` (polling a process's request log, with a deadline)."""
    deadline = time.monotonic() + CALL_TIMEOUT
    while not any(entry["path"] == path and entry["method"] == "POST" for entry in sandbox.requests()):
        assert time.monotonic() < deadline, f"no POST to {path} within {CALL_TIMEOUT} s"
        time.sleep(0.02)


def hold_posts(sandbox: Sandbox, path: str) -> None:
    sandbox.admin("DELETE", "/_sandbox/requests")
    sandbox.admin("DELETE", "/_sandbox/faults")
    sandbox.script_faults([{"kind": "delay", "seconds": 60}], path=path, method="POST")


def tool_call(name: str, arguments: dict[str, Any], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if meta:
        params["_meta"] = meta
    return {"jsonrpc": "2.0", "id": CALL_ID, "method": "tools/call", "params": params}


def messages_in(content_type: str, body: str) -> list[dict[str, Any]]:
    """The JSON-RPC messages of a response: its JSON body, or the `data:` of each SSE event."""
    if content_type.startswith("application/json"):
        parsed = json.loads(body)
        return parsed if isinstance(parsed, list) else [parsed]
    return [json.loads(line[5:]) for line in body.splitlines() if line.startswith("data:") and "{" in line]


@dataclass
class Answered:
    status: int = 0
    content_type: str = ""
    body: str = ""

    def messages(self) -> list[dict[str, Any]]:
        return messages_in(self.content_type, self.body)


async def handshake(http: httpx.AsyncClient, url: str) -> dict[str, str]:
    """A 2025-era handshake over streamable HTTP; the headers its later requests carry."""
    headers = {**MCP_HEADERS}
    initialized = await http.post(url, json=initialize_request(), headers=headers)
    assert initialized.status_code == 200
    if "mcp-session-id" in initialized.headers:
        headers["Mcp-Session-Id"] = initialized.headers["mcp-session-id"]
    headers["MCP-Protocol-Version"] = "2025-11-25"
    notified = await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    assert notified.status_code == 202
    return headers


async def stop_while_in_flight(
    server: HttpServer, sandbox: Sandbox, upstream: str, started: anyio.Event | None = None
) -> tuple[int, float]:
    """Once the call has reached the API (and `started` is set, when given), SIGTERM; the exit code and time."""
    await anyio.to_thread.run_sync(wait_for_post, sandbox, upstream)
    if started is not None:
        await started.wait()
    server.process.send_signal(signal.SIGTERM)
    return await anyio.to_thread.run_sync(wait_exit, server.process, SHUTDOWN_LIMIT)


async def streamable_call(
    server: HttpServer, sandbox: Sandbox, era: str, name: str, arguments: dict[str, Any], upstream: str
) -> tuple[Answered, int]:
    """One tool call over streamable HTTP, raw, with SIGTERM while it waits on the API: what came back."""
    answered = Answered()
    first_event = anyio.Event()
    async with httpx.AsyncClient(timeout=CALL_TIMEOUT) as http:
        # A refresh reports progress every second: its first notification starts the event stream.
        progress = {"progressToken": "p1"} if name == "refresh_connector_metadata" else {}
        if era == MODERN:
            headers = {**MCP_HEADERS, "MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": name}
            request = tool_call(name, arguments, {**MODERN_META, **progress})
        else:
            headers = await handshake(http, server.url)
            request = tool_call(name, arguments, progress)

        async def call() -> None:
            async with http.stream("POST", server.url, json=request, headers=headers) as response:
                answered.status = response.status_code
                answered.content_type = response.headers.get("content-type", "")
                async for chunk in response.aiter_text():
                    answered.body += chunk
                    if "data:" in answered.body:
                        first_event.set()

        with anyio.fail_after(CALL_TIMEOUT):
            async with anyio.create_task_group() as calls:
                calls.start_soon(call)
                started = first_event if name == "refresh_connector_metadata" else None
                code, _ = await stop_while_in_flight(server, sandbox, upstream, started)
    return answered, code


@pytest.mark.parametrize(
    ("era", "args"),
    [
        pytest.param("2025-11-25", (), id="session"),
        pytest.param("2025-11-25", ("--stateless",), id="stateless"),
        pytest.param(MODERN, (), id="modern"),
    ],
)
@pytest.mark.parametrize(
    ("tool", "arguments", "upstream"),
    [
        pytest.param("create_connector", CREATE, "/api/connector", id="create"),
        pytest.param(
            "refresh_connector_metadata", {"connector_id": 104}, "/api/connector/104/refresh", id="refresh-streaming"
        ),
    ],
)
async def test_sigterm_answers_a_streamable_http_call_in_flight_with_an_error_for_its_id(
    sandbox: Sandbox, era: str, args: tuple[str, ...], tool: str, arguments: dict[str, Any], upstream: str
) -> None:
    with http_server(sandbox.env(), "streamable-http", *args) as server:
        hold_posts(sandbox, upstream)
        answered, code = await streamable_call(server, sandbox, era, tool, arguments, upstream)
        server.output.join()
        log = server.output.text()

    assert code in ENDED_BY_SIGTERM
    streamed = answered.content_type.startswith("text/event-stream")
    # A response not started yet is answered 503 with the error (a modern call that sent nothing yet); a
    # started event stream gets the error as its last event.
    assert (answered.status, streamed) in [(200, True), (503, False)], answered
    assert answered.messages()[-1] == SHUTDOWN_ANSWER
    assert [m for m in answered.messages() if m.get("id") == CALL_ID] == [SHUTDOWN_ANSWER]
    assert "Traceback" not in log
    assert "transport write blocked" not in log


async def test_sigterm_answers_an_sse_call_in_flight_on_the_sessions_stream(sandbox: Sandbox) -> None:
    events: list[dict[str, Any]] = []
    endpoint: list[str] = []
    announced = anyio.Event()
    initialized = anyio.Event()

    async def listen(http: httpx.AsyncClient, url: str) -> None:
        async with http.stream("GET", url, headers={"Accept": "text/event-stream"}) as stream:
            event = ""
            async for line in stream.aiter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:") and event == "endpoint":
                    endpoint.append(line[5:].strip())
                    announced.set()
                elif line.startswith("data:"):
                    events.append(json.loads(line[5:]))
                    initialized.set()

    with http_server(sandbox.env(), "sse") as server:
        hold_posts(sandbox, "/api/connector")
        with anyio.fail_after(CALL_TIMEOUT):
            async with httpx.AsyncClient(timeout=CALL_TIMEOUT) as http, anyio.create_task_group() as session:
                session.start_soon(listen, http, server.url)
                await announced.wait()
                messages = server.url.removesuffix("/sse") + endpoint[0]
                assert (await http.post(messages, json=initialize_request(), headers=MCP_HEADERS)).status_code == 202
                await initialized.wait()
                notification = {"jsonrpc": "2.0", "method": "notifications/initialized"}
                assert (await http.post(messages, json=notification, headers=MCP_HEADERS)).status_code == 202
                call = tool_call("create_connector", CREATE)
                assert (await http.post(messages, json=call, headers=MCP_HEADERS)).status_code == 202
                code, _ = await stop_while_in_flight(server, sandbox, "/api/connector")
        server.output.join()
        log = server.output.text()

    assert code in ENDED_BY_SIGTERM
    assert [event.get("id") for event in events] == [1, CALL_ID]
    assert events[-1] == SHUTDOWN_ANSWER
    assert "Traceback" not in log
