"""Fixtures for the command-line tests: a sandbox API served from a thread, and `databasin` run by CliRunner.

CliRunner calls the command synchronously in the test's thread, and each command runs its own event
loop (`anyio.run`). The sandbox therefore runs on another thread with its own loop, listening on a
real loopback port: nothing is shared between the two loops but the socket, and the same sandbox serves
a `databasin` subprocess just as well. Startup and shutdown are signalled with a queue and an event,
never waited for with sleeps.

Which API a test's `databasin` talks to:
- by default a fresh sandbox per test, so writes never leak between tests (starting one takes ~30 ms,
  stopping it ~200 ms: uvicorn notices the stop on its next 0.1 s tick, then waits 0.1 s for connections);
- `pytest.mark.shared_sandbox` on a module whose tests write nothing: one sandbox for the module, its
  scripted faults and request log emptied before each test;
- `pytest.mark.offline` on a test that must never reach the API (usage errors, help, read-only refusals,
  file validation): no sandbox, a refused loopback port and a dummy token, so a request that does happen
  fails the test with "Could not connect".
"""

from __future__ import annotations

import functools
import queue
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
import httpx._transports.default as httpx_transports
import pytest
from click.testing import CliRunner, Result

from databasin_mcp.cli import cli
from databasin_mcp.harness.processes import sandbox_admin
from databasin_mcp.sandbox import RunningSandbox, SandboxConfig, running_sandbox

STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


@dataclass
class Api:
    """Where `databasin` is pointed: an API URL and the token it sends."""

    url: str
    token: str

    def env(self, **extra: str) -> dict[str, str]:
        return {"DATABASIN_API_URL": self.url, "DATABASIN_TOKEN": self.token, "DATABASIN_RETRY_BACKOFF": "0", **extra}


@dataclass
class Sandbox(Api):
    """A sandbox on a loopback port, and the settings that point `databasin` at it."""

    def script_faults(self, path: str, *actions: dict[str, Any], method: str | None = None) -> None:
        """Queue faults for the next requests to `path` (see databasin_mcp.sandbox.faults)."""
        sandbox_admin(self.url, "POST", "/_sandbox/faults", {"path": path, "method": method, "script": list(actions)})

    def requests(self) -> list[dict[str, Any]]:
        """The /api requests the sandbox received, in order."""
        return sandbox_admin(self.url, "GET", "/_sandbox/requests")  # type: ignore[no-any-return]

    def forget(self) -> None:
        """Empty the scripted faults and the request log (what one test leaves for the next)."""
        sandbox_admin(self.url, "DELETE", "/_sandbox/faults")
        sandbox_admin(self.url, "DELETE", "/_sandbox/requests")


@contextmanager
def sandbox_thread(config: SandboxConfig) -> Iterator[Sandbox]:
    """`running_sandbox(config)` on its own thread and event loop, for the duration of the block."""
    started: queue.Queue[RunningSandbox | BaseException] = queue.Queue()
    stop = threading.Event()

    async def serve() -> None:
        try:
            async with running_sandbox(config) as running:
                started.put(running)
                await anyio.to_thread.run_sync(stop.wait)
        except Exception as error:  # handed to the test's thread, which raises it
            started.put(error)

    thread = threading.Thread(target=anyio.run, args=(serve,), name="sandbox", daemon=True)
    thread.start()
    try:
        running = started.get(timeout=STARTUP_TIMEOUT)
        if isinstance(running, BaseException):
            raise running
        yield Sandbox(url=running.url, token=running.token)
    finally:
        stop.set()
        thread.join(timeout=STOP_TIMEOUT)
        assert not thread.is_alive(), "the sandbox thread did not stop"


@pytest.fixture(autouse=True, scope="module")
def one_tls_context() -> Iterator[None]:
    """Every httpx client shares one TLS context while a CLI module runs.

    Each `databasin` run builds an httpx client, and httpx builds a TLS context from the CA bundle for each
    (~45 ms here), even for the plain-HTTP loopback these tests use: ~90 contexts, ~4 s of the quick tier.
    A real `databasin` process builds one. The key is httpx's arguments (the environment is not read
    again): no CLI test varies SSL_CERT_FILE.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(httpx_transports, "create_ssl_context", functools.cache(httpx_transports.create_ssl_context))
        yield


MakeSandbox = Callable[..., Sandbox]


@pytest.fixture
def make_sandbox() -> Iterator[MakeSandbox]:
    """`make_sandbox(refresh_seconds=0.5, ...)`: a fresh sandbox with those settings, stopped after the test."""
    with ExitStack() as stack:

        def make(**settings: Any) -> Sandbox:
            config = SandboxConfig(**{"port": 0, "refresh_seconds": 0.0, **settings})
            return stack.enter_context(sandbox_thread(config))

        yield make


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[Sandbox]:
    """The sandbox a `shared_sandbox` module's tests share."""
    with sandbox_thread(SandboxConfig(port=0, refresh_seconds=0.0)) as running:
        yield running


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """A fresh sandbox, or the module's shared one in a `shared_sandbox` module (see the module docstring)."""
    if request.node.get_closest_marker("offline"):
        pytest.fail(f"{request.node.nodeid} is marked offline: it cannot use a sandbox", pytrace=False)
    if request.node.get_closest_marker("shared_sandbox"):
        shared: Sandbox = request.getfixturevalue("module_sandbox")
        shared.forget()
        return shared
    make: MakeSandbox = request.getfixturevalue("make_sandbox")
    return make()


OFFLINE_TOKEN = "offline-test-token"  # a dummy: nothing may be sent with it


@pytest.fixture
def offline_api(refused_url: str) -> Api:
    """An API that refuses every connection: a test marked offline must never reach it."""
    return Api(url=refused_url, token=OFFLINE_TOKEN)


Databasin = Callable[..., Result]


def databasin_for(api: Api) -> Databasin:
    """`databasin("connectors", "get", "142", input=..., env=...)`: the CLI in-process, pointed at `api`."""
    runner = CliRunner(env=api.env())

    def invoke(*args: str, input: str | None = None, env: dict[str, str | None] | None = None) -> Result:
        return runner.invoke(cli, list(args), input=input, env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def databasin(request: pytest.FixtureRequest) -> Databasin:
    """The CLI pointed at the test's sandbox, or, in a test marked offline, at `offline_api`."""
    api: Api = request.getfixturevalue("offline_api" if request.node.get_closest_marker("offline") else "sandbox")
    return databasin_for(api)


@pytest.fixture
def refused_url() -> Iterator[str]:
    """The URL of a loopback port that refuses connections: bound, never listening, held for the test."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
