"""Real processes: the sandbox API and the databasin-mcp server, on loopback.

Every process is started on a free loopback port (port 0, or one picked just before for uvicorn),
waited for by reading the line it prints once it listens (no sleeps), and stopped and reaped by the
context manager that started it, whatever happens inside the block.
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from mcp.client.stdio import StdioServerParameters

from .procfs import children_of

STARTUP_TIMEOUT = 30.0  # generous: a cold start on a loaded 2-core machine imports the MCP SDK in ~1-2 s
STOP_TIMEOUT = 5.0


class LineReader:
    """Drains a child's output on a thread (so the pipe never fills) and lets a test wait for a line."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._drain, args=(stream,), daemon=True)
        self._thread.start()

    def _drain(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line)
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = STARTUP_TIMEOUT) -> re.Match[str]:
        """The first new line matching `pattern`; fails on timeout or end of output."""
        compiled = re.compile(pattern)
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(
                    f"no line matching {pattern!r} within {timeout} s; output: {self.text()!r}"
                ) from None
            if line is None:
                raise RuntimeError(f"process ended before printing {pattern!r}; output: {self.text()!r}")
            if match := compiled.search(line):
                return match

    def text(self) -> str:
        return "".join(self.lines)

    def join(self) -> None:
        self._thread.join(timeout=STOP_TIMEOUT)


def stop(process: subprocess.Popen[str]) -> None:
    """SIGTERM, then SIGKILL if it does not end in time; always reaps the process."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT)


@contextmanager
def watched_process(
    argv: Sequence[str], env: Mapping[str, str], *, own_group: bool = False, **popen: Any
) -> Iterator[tuple[subprocess.Popen[str], LineReader]]:
    """A child whose stdout and stderr are read together, line by line; stopped, drained and closed on exit.

    `own_group` starts it in its own process group and, once it is stopped, kills what is left of the
    group (workers a parent failed to end): only processes this test started.
    """
    process = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=dict(env),
        start_new_session=own_group,
        **popen,
    )
    assert process.stdout is not None
    output = LineReader(process.stdout)
    try:
        yield process, output
    finally:
        stop(process)
        if own_group:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        output.join()
        process.stdout.close()


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any DATABASIN_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASIN_", "PUBLIC_API_URI"))}
    env.update(extra)
    return env


# --- the sandbox ---------------------------------------------------------------------------------


def sandbox_admin(url: str, method: str, path: str, body: Any = None) -> Any:
    """Call a /_sandbox admin route (faults, request log, token rotation) of the sandbox at `url`.

    urllib, not httpx: a new httpx client builds a TLS context (~45 ms) even for plain HTTP on loopback.
    """
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


@dataclass
class Sandbox:
    """A sandbox process and what a client needs to reach it."""

    url: str
    token: str
    process: subprocess.Popen[str]
    output: LineReader

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """Call a /_sandbox admin route (faults, request log, token rotation)."""
        return sandbox_admin(self.url, method, path, body)

    def requests(self) -> list[dict[str, Any]]:
        """The /api requests the sandbox received, in order."""
        return self.admin("GET", "/_sandbox/requests")  # type: ignore[no-any-return]

    def script_faults(
        self, script: Sequence[Mapping[str, Any]], *, path: str | None = None, method: str | None = None
    ) -> None:
        body: dict[str, Any] = {"script": list(script)}
        if path:
            body["path"] = path
        if method:
            body["method"] = method
        self.admin("POST", "/_sandbox/faults", body)

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a databasin-mcp process pointed at this sandbox."""
        return clean_env(DATABASIN_API_URL=self.url, DATABASIN_TOKEN=self.token, **extra)


@contextmanager
def sandbox_process(*flags: str) -> Iterator[Sandbox]:
    """`python -m databasin_mcp.sandbox --port 0 ...`, ready when it prints its URL and token."""
    argv = [sys.executable, "-m", "databasin_mcp.sandbox", "--port", "0", *flags]
    with watched_process(argv, clean_env()) as (process, output):
        url = output.wait_for(r"^Databasin sandbox API on (\S+)").group(1)
        token = output.wait_for(r"^Token: (\S+)").group(1)
        yield Sandbox(url=url, token=token, process=process, output=output)


# --- the MCP server ---------------------------------------------------------------------------------


def stdio_server(env: Mapping[str, str], *args: str) -> StdioServerParameters:
    """Parameters for the MCP SDK's stdio client to launch `databasin-mcp` (the client owns the process)."""
    return StdioServerParameters(command=sys.executable, args=["-m", "databasin_mcp", *args], env=dict(env))


@dataclass
class HttpServer:
    url: str
    process: subprocess.Popen[str]
    output: LineReader
    args: tuple[str, ...] = field(default=())


@contextmanager
def http_server(env: Mapping[str, str], transport: str, *args: str) -> Iterator[HttpServer]:
    """`databasin-mcp --transport <transport> --port 0 ...`, ready when it prints where it listens."""
    argv = [sys.executable, "-m", "databasin_mcp", "--transport", transport, "--port", "0", *args]
    with watched_process(argv, env) as (process, output):
        url = output.wait_for(rf"^databasin-mcp: {re.escape(transport)} on (\S+)").group(1)
        yield HttpServer(url=url, process=process, output=output, args=args)


# --- uvicorn with several workers --------------------------------------------------------------------


@dataclass
class Workers:
    url: str
    process: subprocess.Popen[str]
    output: LineReader

    def worker_pids(self) -> list[int]:
        """The worker processes (not multiprocessing's resource tracker)."""
        return [
            pid for pid in children_of(self.process.pid) if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]


def free_port() -> int:
    """A port free on 127.0.0.1 right now (for a server that binds it itself, such as uvicorn --workers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def uvicorn_workers(env: Mapping[str, str], workers: int, *args: str) -> Iterator[Workers]:
    """`uvicorn --factory databasin_mcp.serving:app_from_environment --workers N`, ready when every worker is.

    Its own process group, so that workers left behind by a parent that failed to stop them are ended too.
    """
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--factory", "databasin_mcp.serving:app_from_environment"]
    command += ["--workers", str(workers), "--host", "127.0.0.1", "--port", str(port), *args]
    with watched_process(command, env, own_group=True) as (process, output):
        output.wait_for(rf"Uvicorn running on http://127\.0\.0\.1:{port}\b")
        for _ in range(workers):
            output.wait_for(r"Application startup complete", timeout=STARTUP_TIMEOUT)
        yield Workers(url=f"http://127.0.0.1:{port}/mcp", process=process, output=output)
