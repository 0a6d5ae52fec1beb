"""Running the sandbox: embedded in another program (``running_sandbox``) or as a CLI (``main``)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import anyio
import uvicorn
from starlette.applications import Starlette

from ..flags import FlagParser, parse_flags
from .app import build_sandbox
from .config import DIALECTS, SandboxConfig
from .state import SandboxState
from .store import Store

STARTUP_TIMEOUT = 10.0  # seconds; uvicorn starts in milliseconds, so this only bounds a broken start


@dataclass
class RunningSandbox:
    """A sandbox listening on ``url``; ``token`` is the currently accepted token (it can be rotated)."""

    url: str
    store: Store
    config: SandboxConfig
    state: SandboxState = field(repr=False)

    @property
    def token(self) -> str:
        return self.state.token


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its host program and tells when it is listening."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = anyio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn would install SIGINT/SIGTERM handlers here; a library must not take those from its host.
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


@contextlib.asynccontextmanager
async def running_sandbox(
    config: SandboxConfig | None = None, store: Store | None = None
) -> AsyncIterator[RunningSandbox]:
    """Serve the sandbox on (host, port) for the duration of the block; port 0 picks a free port.

    Writes nothing to stdout (uvicorn logs through ``logging`` only), so it can run inside a stdio MCP server.
    A store opened here is closed on exit; a store passed in stays open.
    """
    config = config or SandboxConfig()
    with contextlib.closing(_bind(config.host, config.port)) as sock:
        app, state = build_sandbox(config, store)
        with contextlib.closing(state.store) if store is None else contextlib.nullcontext():
            server = _EmbeddedServer(_uvicorn_config(app))
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(server.serve, [sock])
                with anyio.fail_after(STARTUP_TIMEOUT):
                    await server.ready.wait()
                try:
                    yield RunningSandbox(_url(config.host, sock.getsockname()[1]), state.store, config, state)
                finally:
                    server.should_exit = True


def _uvicorn_config(app: Starlette) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        log_config=None,  # no handlers of uvicorn's own: its defaults write to stdout
        access_log=False,
        log_level="warning",
        lifespan="off",
        http="h11",
        ws="none",
        timeout_graceful_shutdown=2,  # do not hang on a client that keeps a streamed response open
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and without it a
    # keep-alive client waits ~40 ms per response (Nagle + delayed ACK).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restart on the same port right away
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _url(host: str, port: int) -> str:
    if host in ("", "0.0.0.0", "::"):  # listening everywhere: loopback is the address that surely works
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def build_parser() -> argparse.ArgumentParser:
    defaults = SandboxConfig()
    parser = FlagParser(prog="databasin-mcp sandbox", description="Run a local Databasin-compatible connector API.")
    add = parser.add_argument
    add("--host", default=defaults.host, help="address to listen on (default: %(default)s)")
    add("--port", type=int, default=defaults.port, help="port; 0 picks a free one (default: %(default)s)")
    add("--db", default=None, help="SQLite file that persists state across restarts (default: in memory)")
    add("--token", default=None, help="accepted bearer token (default: a random one, printed at start)")
    add("--seed", type=int, default=defaults.seed, help="seed of the generated data (default: %(default)s)")
    add("--rate-limit", type=int, default=defaults.rate_limit, help="requests per window per token; 0 disables")
    add("--rate-window", type=float, default=defaults.rate_window, help="rate-limit window in seconds")
    add("--refresh-seconds", type=float, default=defaults.refresh_seconds, help="simulated metadata refresh time")
    add("--huge-schema-tables", type=int, default=0, help="add a schema with this many tables to the big connector")
    add("--quirks", action="store_true", help='refresh counts with thousands separators ("tableCount": 1,234)')
    add("--v2-routes", action="store_true", help="also serve the v2 route family")
    add("--v2-only", action="store_true", help="serve v2 routes and drop the reference metadata routes")
    add("--dialect", choices=DIALECTS, default=defaults.dialect, help="response shapes (default: %(default)s)")
    add("--leak-secrets", action="store_true", help="echo secrets in responses (tests client-side scrubbing)")
    add("--latency-ms", type=int, default=0, help="latency added to every /api request")
    add("--error-rate", type=float, default=0.0, help="fraction of /api requests answered 500/503")
    add("--burst-429-every", type=int, default=0, help="every Nth request starts a burst of three 429s")
    add("--html-502-rate", type=float, default=0.0, help="fraction of /api requests answered 502 with HTML")
    add("--fault-seed", type=int, default=0, help="seed of the random faults")
    add("--ready-file", type=Path, default=None, help='once listening, write {"url", "token", "pid"} here')
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    return SandboxConfig(**{f.name: getattr(args, f.name) for f in fields(SandboxConfig)})


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point: serve until SIGINT/SIGTERM, then exit 0."""
    parser = build_parser()
    args = parse_flags(parser, argv)
    try:
        config = config_from_args(args)
    except ValueError as problem:
        parser.error(str(problem))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        anyio.run(_serve_until_signalled, config, args.ready_file)
    except sqlite3.Error as problem:
        print(f"databasin-mcp sandbox: cannot open database {config.db}: {problem}", file=sys.stderr)
        return 1
    except OSError as problem:  # typically: the port is taken
        print(f"databasin-mcp sandbox: cannot listen on {config.host}:{config.port}: {problem}", file=sys.stderr)
        return 1
    return 0


async def _serve_until_signalled(config: SandboxConfig, ready_file: Path | None) -> None:
    # Receive signals before announcing readiness, so a SIGTERM sent right after never kills us mid-start.
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with running_sandbox(config) as sandbox:
            with _ready_file(ready_file, sandbox):
                _announce(sandbox)
                async for _signal in signals:
                    break


@contextlib.contextmanager
def _ready_file(path: Path | None, sandbox: RunningSandbox) -> Iterator[None]:
    """Announce readiness through ``path`` (if given) while the block runs; a stale file is never left behind."""
    if path is None:
        yield
        return
    write_ready_file(path, sandbox)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def write_ready_file(path: Path, sandbox: RunningSandbox) -> None:
    """Write ``{"url", "token", "pid"}`` atomically: readers never see a half-written file."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps({"url": sandbox.url, "token": sandbox.token, "pid": os.getpid()}))
    os.replace(temporary, path)


def _announce(sandbox: RunningSandbox) -> None:
    print(f"Databasin sandbox API on {sandbox.url}")
    print(f"Token: {sandbox.token}")
    print(f"export DATABASIN_API_URL={sandbox.url} DATABASIN_TOKEN={sandbox.token}", flush=True)
