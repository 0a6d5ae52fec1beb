"""Slow clients against the real HTTP server: raw sockets that send a request head or body too slowly, or not at all.

Every connection must finish its request head within DATABASIN_MCP_HEAD_TIMEOUT and its body within
DATABASIN_MCP_BODY_TIMEOUT, before authentication as after, and the server holds at most
DATABASIN_MCP_MAX_CONNECTIONS connections: slow clients neither pile up nor lock out a client that
sends its request at once. The deadlines are set short here (a second) to keep the tests short.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest

from databasin_mcp.harness.processes import HttpServer, Sandbox, free_port, watched_process
from databasin_mcp.http_protocol import DESCRIPTORS_RESERVED
from databasin_mcp.serving import ACCEPT_BACKLOG, MAX_REQUEST_HEAD_BYTES

from .support import HTTP_TIMEOUT, MCP_HEADERS, initialize_request, port_of

pytestmark = pytest.mark.e2e

TOKEN = "slow-clients-token-7Qx2"
AUTHORIZED = f"Authorization: Bearer {TOKEN}\r\n"
DEADLINE = 1.0  # seconds: the head and body deadlines of the server under test
# Long enough that a test that relies on the deadline fails plainly when there is none, short enough to keep it short.
PATIENCE = DEADLINE + 4
DRIBBLE_INTERVAL = 0.1  # seconds between the bytes a dribbling client sends


def deadlines_env(sandbox: Sandbox, **extra: str) -> dict[str, str]:
    deadlines = {"DATABASIN_MCP_HEAD_TIMEOUT": str(DEADLINE), "DATABASIN_MCP_BODY_TIMEOUT": str(DEADLINE)}
    return sandbox.env(DATABASIN_MCP_AUTH_TOKEN=TOKEN, **{**deadlines, **extra})


@contextmanager
def limited_server(env: dict[str, str], *, open_files: int | None = None) -> Iterator[HttpServer]:
    """`databasin-mcp --transport streamable-http` on a free port, optionally limited to `open_files` descriptors."""
    limit = f"resource.setrlimit(resource.RLIMIT_NOFILE, ({open_files}, {open_files}))" if open_files else "pass"
    start = (
        f"import resource, runpy, sys; {limit}; "
        "sys.argv = ['databasin-mcp', '--transport', 'streamable-http', '--port', '0']; "
        "runpy.run_module('databasin_mcp', run_name='__main__')"
    )
    with watched_process([sys.executable, "-c", start], env) as (process, output):
        url = output.wait_for(r"^databasin-mcp: streamable-http on (\S+)").group(1)
        yield HttpServer(url=url, process=process, output=output)


@pytest.fixture(scope="module")
def server(sandbox: Sandbox) -> Iterator[HttpServer]:
    with limited_server(deadlines_env(sandbox)) as running:
        yield running


def connect(server: HttpServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port_of(server.url)), timeout=HTTP_TIMEOUT)


def request_head(port: int, *, content_length: int, authorization: str = AUTHORIZED) -> bytes:
    return (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{authorization}Content-Type: application/json\r\n"
        f"Accept: application/json, text/event-stream\r\nContent-Length: {content_length}\r\n\r\n"
    ).encode()


@dataclass
class Ending:
    """What a client read until the server closed its connection, and when that was."""

    received: bytes
    after: float


def until_closed(connection: socket.socket, started: float) -> Ending:
    """Read until the server closes the connection; fails if it is still open after PATIENCE seconds."""
    connection.settimeout(PATIENCE)
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except TimeoutError:
        raise AssertionError(f"still open after {PATIENCE} s; received {received!r}") from None
    except ConnectionResetError:
        pass
    return Ending(received, time.monotonic() - started)


@contextmanager
def dribbling(connection: socket.socket, data: bytes) -> Iterator[None]:
    """Send `data` a byte at a time, DRIBBLE_INTERVAL apart, until it is all sent or the server hangs up.

    The pace is the behaviour under test (each byte arrives before any per-read timeout could fire), not a wait.
    """
    stop = threading.Event()

    def dribble() -> None:
        for byte in data:
            if stop.wait(DRIBBLE_INTERVAL):
                return
            try:
                connection.send(bytes([byte]))
            except OSError:
                return

    thread = threading.Thread(target=dribble, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HTTP_TIMEOUT)


def status_of(received: bytes) -> int:
    return int(received.split(b" ", 2)[1])


# --- the request head ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    [
        pytest.param(b"", id="nothing"),
        pytest.param(b"POST /mcp HTTP/1.1\r\nHost: x\r\n", id="an-unfinished-head"),
    ],
)
def test_a_connection_that_never_finishes_its_request_head_is_closed(server: HttpServer, sent: bytes) -> None:
    with connect(server) as connection:
        started = time.monotonic()
        connection.sendall(sent)
        ending = until_closed(connection, started)

    assert ending.received == b""
    assert ending.after >= DEADLINE * 0.9, ending


def test_a_head_sent_a_byte_at_a_time_is_cut_off_at_the_deadline(server: HttpServer) -> None:
    # A per-read timeout never fires on this client: only a deadline for the whole head stops it.
    head = b"POST /mcp HTTP/1.1\r\nHost: x\r\n" + b"X-Padding: " + b"y" * 200 + b"\r\n\r\n"
    with connect(server) as connection:
        started = time.monotonic()
        with dribbling(connection, head):
            ending = until_closed(connection, started)

    assert ending.received == b""
    assert ending.after < len(head) * DRIBBLE_INTERVAL


def test_the_next_head_on_a_kept_alive_connection_has_a_deadline_too(server: HttpServer) -> None:
    body = json.dumps(initialize_request()).encode()
    with connect(server) as connection:
        connection.sendall(request_head(port_of(server.url), content_length=len(body)) + body)
        answer = connection.recv(65536)
        assert status_of(answer) == 200
        connection.settimeout(PATIENCE)
        while not answer.endswith(b"\r\n0\r\n\r\n"):  # the end of the chunked SSE response
            answer += connection.recv(65536)
        started = time.monotonic()
        connection.sendall(b"POST /mcp HTTP/1.1\r\nHost: x\r\n")
        ending = until_closed(connection, started)

    assert ending.received == b""


def test_an_unfinished_head_over_16_kib_is_refused_400(server: HttpServer) -> None:
    head = b"POST /mcp HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"y" * MAX_REQUEST_HEAD_BYTES
    with connect(server) as connection:
        started = time.monotonic()
        connection.sendall(head)
        ending = until_closed(connection, started)

    assert status_of(ending.received) == 400  # not the deadline's silent close


# --- the request body -------------------------------------------------------------------------------------


def test_a_body_sent_too_slowly_is_answered_408_and_the_connection_closed(server: HttpServer) -> None:
    body = json.dumps(initialize_request()).encode()
    with connect(server) as connection:
        started = time.monotonic()
        connection.sendall(request_head(port_of(server.url), content_length=len(body)) + body[:10])
        with dribbling(connection, body[10:]):
            ending = until_closed(connection, started)

    assert status_of(ending.received) == 408
    head, _, answer = ending.received.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    assert json.loads(answer) == {
        "error": "request_timeout",
        "message": f"The request body did not arrive within {DEADLINE:g} s.",
    }
    assert ending.after < len(body) * DRIBBLE_INTERVAL


def test_an_unauthorized_client_dribbling_a_body_is_answered_and_then_cut_off(server: HttpServer) -> None:
    # Refused at once (the body is never read), it keeps sending: that is a new head's bytes, under the head deadline.
    body = json.dumps(initialize_request()).encode()
    with connect(server) as connection:
        started = time.monotonic()
        connection.sendall(request_head(port_of(server.url), content_length=len(body), authorization="") + body[:10])
        with dribbling(connection, body[10:]):
            ending = until_closed(connection, started)

    assert status_of(ending.received) == 401
    assert ending.after < len(body) * DRIBBLE_INTERVAL


# --- how many connections -----------------------------------------------------------------------------------

# The server's descriptor limit: room for its cap, a burst of accepted connections (serving.ACCEPT_BACKLOG) and its
# own files (http_protocol.DESCRIPTORS_RESERVED), and no more.
MAX_CONNECTIONS = 64
OPEN_FILES = MAX_CONNECTIONS + ACCEPT_BACKLOG + DESCRIPTORS_RESERVED
SLOW_CLIENTS = 250  # more than the server could hold open


def sockets_of(pid: int) -> int:
    fds = f"/proc/{pid}/fd"
    count = 0
    for fd in os.listdir(fds):
        with contextlib.suppress(FileNotFoundError):  # closed between the listing and the look
            count += os.readlink(f"{fds}/{fd}").startswith("socket:")
    return count


def test_slow_clients_beyond_the_descriptor_limit_do_not_lock_out_an_authorized_client(sandbox: Sandbox) -> None:
    env = deadlines_env(sandbox, DATABASIN_MCP_HEAD_TIMEOUT="60", DATABASIN_MCP_MAX_CONNECTIONS=str(MAX_CONNECTIONS))
    with limited_server(env, open_files=OPEN_FILES) as server, contextlib.ExitStack() as slow_clients:
        held = []
        for _ in range(SLOW_CLIENTS):
            connection = slow_clients.enter_context(connect(server))
            connection.sendall(b"POST /mcp HTTP/1.1\r\nHost: x\r\n")
            held.append(connection)

        started = time.monotonic()
        answered = httpx.post(
            server.url,
            json=initialize_request(),
            headers={**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}"},
            timeout=PATIENCE,
        )
        took = time.monotonic() - started
        server_sockets = sockets_of(server.process.pid)
        first = until_closed(held[0], started)  # the oldest slow client made room
        log = server.output.text()

    assert answered.status_code == 200
    assert "event: message" in answered.text
    assert server_sockets <= MAX_CONNECTIONS + 8  # the listener, the API client's pool
    assert first.received == b""
    assert "Traceback" not in log
    assert "Too many open files" not in log
    print(f"\nanswered in {took:.2f} s with {SLOW_CLIENTS} slow clients; the server held {server_sockets} sockets")


# --- under uvicorn's own command line ---------------------------------------------------------------------


def test_the_worker_recipe_gets_the_deadlines_from_the_environment(sandbox: Sandbox) -> None:
    # README's recipe with one worker (uvicorn runs it in its own process), and the protocol named on its command line.
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "databasin_mcp.serving:app_from_environment"]
    command += ["--port", str(port), "--http", "databasin_mcp.http_protocol:GuardedH11Protocol", "--backlog", "64"]
    with watched_process(command, deadlines_env(sandbox, DATABASIN_MCP_STATELESS="1")) as (_, output):
        output.wait_for(rf"Uvicorn running on http://127\.0\.0\.1:{port}\b")
        with socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT) as silent:
            head = until_closed(silent, time.monotonic())
        body = json.dumps(initialize_request()).encode()
        with socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT) as slow_body:
            slow_body.sendall(request_head(port, content_length=len(body)) + body[:10])
            ending = until_closed(slow_body, time.monotonic())

    assert head.received == b""
    assert head.after >= DEADLINE * 0.9
    assert status_of(ending.received) == 408
