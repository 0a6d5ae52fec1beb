"""The real databasin-mcp process spoken to raw: bytes in, lines out (issue 12 #1, #10; issue 13 #5).

No MCP client library in between: a raw JSON-RPC writer sends exactly the bytes a broken or hostile client
would, and every line read back must be one JSON object. The upstream is the sandbox process; a record it
cannot hold (a lone surrogate) is served with its "body" fault.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import anyio
import pytest
from mcp import Client

from databasin_mcp.harness.processes import STOP_TIMEOUT, Sandbox, http_server, sandbox_process, stop
from tests.test_stdio import INITIALIZE, INITIALIZED, MALFORMED

pytestmark = pytest.mark.e2e

ANSWER_TIMEOUT = 30.0  # generous for a loaded 2-core machine; a missing answer still fails
ENDED_TIMEOUT = 10.0  # a stop is asserted to happen, not timed: well under a second is the design
SURROGATE_RECORD = '{{"connectorID": {id}, "connectorName": "Broken \\ud83d name", "internalID": "proj-001"}}'


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with sandbox_process() as running:
        yield running


class RawStdio:
    """A databasin-mcp process over stdio, written to and read from as bytes."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        assert process.stdin is not None
        assert process.stdout is not None
        self._stdin: IO[bytes] = process.stdin
        self.lines: list[bytes] = []
        self._queue: queue.Queue[bytes | None] = queue.Queue()
        self._reader = threading.Thread(target=self._drain, args=(process.stdout,), daemon=True)
        self._reader.start()
        self._answers: dict[Any, dict[str, Any]] = {}

    def _drain(self, stdout: IO[bytes]) -> None:
        for line in stdout:
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def send(self, message: bytes | Mapping[str, Any]) -> None:
        data = message if isinstance(message, bytes) else json.dumps(message).encode()
        self._stdin.write(data + b"\n")
        self._stdin.flush()

    def close_stdin(self) -> None:
        self._stdin.close()

    def answer(self, request_id: Any) -> dict[str, Any]:
        """The answer to `request_id`; every line read on the way must be one JSON object."""
        deadline = time.monotonic() + ANSWER_TIMEOUT
        while request_id not in self._answers:
            try:
                line = self._queue.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise TimeoutError(f"no answer to {request_id!r}; lines: {self.lines!r}") from None
            if line is None:
                raise AssertionError(f"stdout ended before an answer to {request_id!r}; lines: {self.lines!r}")
            message = one_message(line)
            assert message.get("id") not in self._answers, f"a second answer to {message.get('id')!r}"
            self._answers[message.get("id")] = message
        return self._answers[request_id]

    def initialize(self) -> None:
        self.send(INITIALIZE)
        assert "result" in self.answer("init")
        self.send(INITIALIZED)

    def ended(self) -> int:
        """The exit status, once the process has ended (fails if it does not within ENDED_TIMEOUT)."""
        return self.process.wait(timeout=ENDED_TIMEOUT)

    def rest(self) -> list[dict[str, Any]]:
        """Every line written after the answers read so far, until stdout closed."""
        self._reader.join(timeout=STOP_TIMEOUT)
        return [one_message(line) for line in self.lines[len(self._answers) :]]


def one_message(line: bytes) -> dict[str, Any]:
    assert line.endswith(b"\n"), line
    text = line.decode("utf-8")  # strict: no invalid UTF-8, no surrogate
    assert len(text.splitlines()) == 1, text
    message = json.loads(text)
    assert isinstance(message, dict), text
    assert message.get("jsonrpc") == "2.0", text
    return message


@contextmanager
def raw_stdio(sandbox: Sandbox, tmp_path: Path) -> Iterator[RawStdio]:
    """`python -m databasin_mcp` on stdio against the sandbox; stopped and reaped whatever the test did."""
    with (tmp_path / "server.log").open("wb") as errlog:
        process = subprocess.Popen(
            [sys.executable, "-m", "databasin_mcp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errlog,
            env=sandbox.env(DATABASIN_RETRY_BACKOFF="0.05", DATABASIN_LOG_LEVEL="INFO"),
        )
        try:
            yield RawStdio(process)
        finally:
            stop(process)  # type: ignore[arg-type]
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()


def call(request_id: Any, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    params = {"name": tool, "arguments": arguments}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


def requests_for(sandbox: Sandbox, path: str) -> int:
    return sum(entry.get("path") == path for entry in sandbox.requests())


def wait_for_request(sandbox: Sandbox, path: str, before: int) -> None:
    """Until the sandbox has received one more request for `path` (polling an external process, with a deadline)."""
    deadline = time.monotonic() + ANSWER_TIMEOUT
    while requests_for(sandbox, path) <= before:
        assert time.monotonic() < deadline, f"no request for {path} reached the sandbox"
        time.sleep(0.05)


# --- #10: every malformed message that has an id is answered ----------------------------------------------


def test_every_malformed_message_is_answered_by_the_real_process(sandbox: Sandbox, tmp_path: Path) -> None:
    with raw_stdio(sandbox, tmp_path) as server:
        server.initialize()
        for case in MALFORMED:
            server.send(case.values[0])
        server.send({"jsonrpc": "2.0", "id": "after", "method": "ping"})
        for case in MALFORMED:
            _, request_id, code, message = case.values
            answer = server.answer(request_id)
            assert answer["error"]["code"] == code, (case.id, answer)
            assert answer["error"]["message"].startswith(message), (case.id, answer)
        assert server.answer("after")["result"] == {}
        assert server.process.poll() is None  # alive and serving


# --- #1: a lone surrogate from the upstream, over stdio and streamable HTTP -----------------------------


def test_a_surrogate_record_is_answered_over_stdio_and_the_server_lives_on(sandbox: Sandbox, tmp_path: Path) -> None:
    connector = "/api/connector/101"
    sandbox.script_faults([{"kind": "raw", "raw": SURROGATE_RECORD.format(id=101)}], path=connector, method="GET")
    listing = "[" + SURROGATE_RECORD.format(id=101) + "]"
    sandbox.script_faults([{"kind": "raw", "raw": listing}], path="/api/connector", method="GET")
    with raw_stdio(sandbox, tmp_path) as server:
        server.initialize()
        server.send(call(1, "get_connector", {"connector_id": 101}))
        got = server.answer(1)["result"]
        assert got["content"][0]["text"].split("\n")[:2] == ["connectorID: 101", "connectorName: Broken \ufffd name"]
        assert "structuredContent" not in got  # structured output is off by default
        server.send(call(2, "list_connectors", {"project_id": "proj-001"}))
        listed = server.answer(2)["result"]
        assert listed["content"][0]["text"].split("\n")[1:] == ["connectorID,connectorName", "101,Broken \ufffd name"]
        server.send({"jsonrpc": "2.0", "id": 3, "method": "ping"})
        assert server.answer(3)["result"] == {}
        assert server.process.poll() is None


def test_a_surrogate_record_is_answered_over_streamable_http(sandbox: Sandbox) -> None:
    sandbox.script_faults(
        [{"kind": "raw", "raw": SURROGATE_RECORD.format(id=102)}], path="/api/connector/102", method="GET"
    )

    async def get() -> Any:
        with http_server(sandbox.env(), "streamable-http") as server:
            async with Client(server.url) as client:
                with anyio.fail_after(ANSWER_TIMEOUT):
                    return await client.call_tool("get_connector", {"connector_id": 102})

    result = anyio.run(get)
    assert not result.is_error
    assert result.content[0].text.split("\n")[1] == "connectorName: Broken \ufffd name"


MALFORMED_HTTP = [
    pytest.param(b'{"jsonrpc": "2.0", "id": 1, "method": "ping",}', -32700, id="invalid-json"),
    pytest.param(b'[{"jsonrpc": "2.0", "id": 2, "method": "ping"}]', -32602, id="batch"),
    pytest.param(b'{"jsonrpc": "1.0", "id": 3, "method": "ping"}', -32602, id="1.0"),
    pytest.param(b'{"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": ["x"]}', -32602, id="params-array"),
    pytest.param(b'{"jsonrpc": "2.0", "id": 5, "method": "tools/li\\ud83dst"}', -32700, id="surrogate"),
]


def test_streamable_http_answers_each_malformed_message_with_a_json_rpc_error(sandbox: Sandbox) -> None:
    """The SDK's HTTP transport already answers these (with id null): checked, so that it stays so."""
    with http_server(sandbox.env(), "streamable-http") as server:
        for case in MALFORMED_HTTP:
            body, code = case.values
            request = urllib.request.Request(
                server.url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream"},
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=ANSWER_TIMEOUT)
            with refused.value as response:
                assert response.code == 400, case.id
                answer = json.loads(response.read())
            assert answer["jsonrpc"] == "2.0"
            assert answer["error"]["code"] == code, (case.id, answer)


# --- issue 13 #5: SIGINT, SIGTERM and the end of stdin stop it promptly, answering calls in flight ----------


# After a clean stop, SIGINT exits 130 and SIGTERM ends the process by the signal, as uvicorn does over HTTP.
ENDED_BY = [(signal.SIGINT, 130), (signal.SIGTERM, -signal.SIGTERM)]


@pytest.mark.parametrize(("signum", "status"), ENDED_BY)
def test_a_signal_with_no_call_in_flight_ends_the_server(
    sandbox: Sandbox, tmp_path: Path, signum: signal.Signals, status: int
) -> None:
    with raw_stdio(sandbox, tmp_path) as server:
        server.initialize()
        server.process.send_signal(signum)
        assert server.ended() == status
        assert server.rest() == []


def test_ctrl_c_with_no_call_in_flight_ends_the_server_within_a_second(sandbox: Sandbox, tmp_path: Path) -> None:
    # The bound the issue sets for a person at a terminal or a client ending its session (issue 13 #5):
    # measured at 35-65 ms, so a second leaves room for a loaded machine.
    with raw_stdio(sandbox, tmp_path) as server:
        server.initialize()
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=1.0) == 130


@pytest.mark.parametrize(("signum", "status"), ENDED_BY)
def test_a_signal_answers_the_call_in_flight_then_ends_the_server(
    sandbox: Sandbox, tmp_path: Path, signum: signal.Signals, status: int
) -> None:
    path = "/api/connector/103"
    sandbox.script_faults([{"kind": "delay", "seconds": 60}], path=path, method="GET")
    before = requests_for(sandbox, path)
    with raw_stdio(sandbox, tmp_path) as server:
        server.initialize()
        server.send(call(7, "get_connector", {"connector_id": 103}))
        wait_for_request(sandbox, path, before)
        server.process.send_signal(signum)
        assert server.answer(7)["error"] == {
            "code": -32000,
            "message": f"databasin-mcp is stopping ({signum.name} received); this call was cancelled before it "
            "finished, so a change it was making may or may not have been applied.",
        }
        assert server.ended() == status
        assert server.rest() == []


def test_closing_stdin_ends_the_server(sandbox: Sandbox, tmp_path: Path) -> None:
    with raw_stdio(sandbox, tmp_path) as server:
        server.initialize()
        server.close_stdin()
        assert server.ended() == 0


def test_closing_stdin_answers_the_call_in_flight_then_ends_the_server(sandbox: Sandbox, tmp_path: Path) -> None:
    path = "/api/connector/104"
    sandbox.script_faults([{"kind": "delay", "seconds": 60}], path=path, method="GET")
    before = requests_for(sandbox, path)
    with raw_stdio(sandbox, tmp_path) as server:
        server.initialize()
        server.send(call(8, "get_connector", {"connector_id": 104}))
        wait_for_request(sandbox, path, before)
        server.close_stdin()
        # The client closed stdin: the SDK's own words say what happened.
        assert server.answer(8)["error"] == {"code": -32000, "message": "Connection closed"}
        assert server.ended() == 0
