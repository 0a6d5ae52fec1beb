"""A stand-in API on 127.0.0.1 (a free port), served from a thread, and the log of every request it got."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from starlette.types import ASGIApp

STOP_TIMEOUT = 10.0  # seconds for uvicorn to finish its open responses and stop
# Request headers worth keeping (what the client asks for); credentials are never logged.
KEPT_HEADERS = ("anthropic-beta", "anthropic-version", "user-agent", "x-app", "content-type", "accept")


@dataclass
class Recorded:
    """One request a stand-in received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw text when it is not JSON, or None
    answered: str  # how the stand-in answered: "scripted", "side", "probe", "unexpected"

    def as_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "answered": self.answered,
            "body": self.body,
        }


@dataclass(frozen=True)
class Session:
    """One headless run of a client: every request its stand-in model API got, and what the client printed."""

    endpoint: str  # the model API's path the scripted conversation goes to
    requests: list[Recorded]
    stdout: str
    stderr: str
    leftovers: list[str]  # processes still running after the client exited (then killed): should be none

    @property
    def conversation(self) -> list[dict[str, Any]]:
        """The bodies of the scripted conversation's requests, in order."""
        return [r.body for r in self.requests if r.path == self.endpoint and r.answered == "scripted"]

    @property
    def unexpected(self) -> list[Recorded]:
        return [r for r in self.requests if r.answered == "unexpected"]


@dataclass
class RequestLog:
    """Every request, in memory and (when `path` is set) appended to a JSONL file as it arrives."""

    path: Path | None = None
    entries: list[Recorded] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, entry: Recorded) -> None:
        with self._lock:
            self.entries.append(entry)
            if self.path is not None:
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(entry.as_json(), ensure_ascii=False) + "\n")


def kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {name: headers[name] for name in KEPT_HEADERS if name in headers}


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 from a daemon thread; yields its base URL; stopped and joined on exit.

    The socket listens before the thread starts, so a client may connect at once: the kernel queues
    the connection until uvicorn accepts it (no waiting for start-up).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(STOP_TIMEOUT)
        sock.close()
