"""Helpers of the hardening suite, on top of databasin_mcp.harness and tests.conftest.

- `stdio_session`: the real server process over stdio with its stderr captured in a file.
- `SandboxApi`: the sandbox's /api used directly (with the token it accepts now) to set up and check state.
- `SwitchableUpstream`: one loopback port that refuses, then black-holes, then forwards to the sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mcp import Client
from mcp.client.stdio import stdio_client

from databasin_mcp.harness.processes import Sandbox, stdio_server


@asynccontextmanager
async def stdio_session(env: Mapping[str, str], errlog: Path, *args: str) -> AsyncIterator[Client]:
    """A databasin-mcp process over stdio (the SDK owns and stops it); its stderr goes to `errlog`."""
    with errlog.open("a", encoding="utf-8") as stderr:
        async with Client(stdio_client(stdio_server(env, *args), errlog=stderr), mode="legacy") as client:
            yield client


# --- the sandbox, used directly ------------------------------------------------------------------


class SandboxApi:
    """The sandbox's /api with the token it currently accepts (rotations go through `rotate_token`)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.token = sandbox.token

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.sandbox.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            with error:
                return error.code, json.loads(error.read() or b"null")

    def get(self, path: str) -> Any:
        status, body = self.request("GET", path)
        assert status == 200, (path, status, body)
        return body

    def create(self, name: str, project: str, **fields: Any) -> int:
        body = {"connectorName": name, "connectorType": "RDBMS", "institutionID": 4, "internalID": project} | fields
        status, answer = self.request("POST", "/api/connector", body)
        assert status == 200, answer
        return int(answer["connectorID"])

    def named(self, name: str, project: str) -> list[dict[str, Any]]:
        return [c for c in self.get(f"/api/connector?internalID={project}") if c["connectorName"] == name]

    def rotate_token(self, token: str) -> None:
        assert self.sandbox.admin("POST", "/_sandbox/token", {"token": token}) == {"token": token}
        self.token = token

    def clear_faults(self) -> None:
        self.sandbox.admin("DELETE", "/_sandbox/faults")

    def pending_faults(self) -> list[Any]:
        return self.sandbox.admin("GET", "/_sandbox/faults")["pending"]  # type: ignore[no-any-return]


def write_token(path: Path, token: str) -> None:
    """Replace a token file atomically: a server re-reading it never sees half a token."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(token + "\n", encoding="utf-8")
    temporary.replace(path)


# --- an upstream that cannot be reached, then can -------------------------------------------------------


class SwitchableUpstream:
    """One loopback port, three phases, in this order (a socket cannot go back):

    1. refuse: the socket is bound but not listening, so the kernel answers every SYN with RST
       ("connection refused"), deterministically, and nobody else can take the port meanwhile.
    2. black hole: `listen(0)` and a few connections of our own that are never accepted fill the accept
       queue; Linux then drops further SYNs (tcp_abort_on_overflow=0, the default), so a client's connect
       neither succeeds nor fails until its connect timeout. Unlike an unroutable address (10.255.255.1)
       this needs no network and no firewall rule, and unlike a slow accept it cannot race.
    3. forward: accept everything (the fillers first) and pipe each connection to the sandbox.
    """

    FILLERS = 3

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._fillers: list[socket.socket] = []
        self._server: asyncio.AbstractServer | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self.forwarded = 0

    def black_hole(self) -> None:
        overflow = Path("/proc/sys/net/ipv4/tcp_abort_on_overflow")
        if overflow.exists() and overflow.read_text().strip() != "0":
            raise AssertionError("net.ipv4.tcp_abort_on_overflow=1: a full accept queue resets, not black-holes")
        self._socket.listen(0)
        for _ in range(self.FILLERS):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(("127.0.0.1", self.port))
            self._fillers.append(filler)

    async def forward_to(self, url: str) -> None:
        target = urlsplit(url)
        for filler in self._fillers:
            filler.close()
        self._fillers.clear()

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while chunk := await reader.read(65536):
                    writer.write(chunk)
                    await writer.drain()
            with contextlib.suppress(OSError):
                writer.write_eof()

        async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
            self.forwarded += 1
            self._writers.append(client_writer)
            up_reader, up_writer = await asyncio.open_connection(target.hostname, target.port)
            self._writers.append(up_writer)
            try:
                await asyncio.gather(pipe(client_reader, up_writer), pipe(up_reader, client_writer))
            finally:
                for writer in (client_writer, up_writer):
                    writer.close()

        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._tasks.add(task)
            try:
                await handle(reader, writer)
            finally:
                self._tasks.discard(task)

        self._server = await asyncio.start_server(tracked, sock=self._socket)

    async def aclose(self) -> None:
        for filler in self._fillers:
            filler.close()
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        if self._server is not None:
            await self._server.wait_closed()
        self._socket.close()
