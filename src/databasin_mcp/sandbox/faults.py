"""Fault injection: scripted faults queued through /_sandbox/faults, and random faults from the config.

Each fault is a ``FaultAction``; ``fault_responder`` turns one into the ASGI app that answers the request.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from .config import SandboxConfig
from .errors import error_body

# "body" answers with a given JSON body; "raw" with given text, sent as it is (a lone surrogate escape included);
# "headers" lets the endpoint answer and adds headers to its answer.
FAULT_KINDS = ("status", "html", "invalid_json", "huge", "delay", "drop", "empty", "body", "raw", "headers")
HTML_502_BODY = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
INVALID_JSON_BODY = b'{"connectorID": 1, "connectorName": '
BURST_LENGTH = 3  # consecutive 429s in one random burst


class FaultScriptError(ValueError):
    """A fault script that cannot be understood; str() says why."""


@dataclass(frozen=True)
class FaultAction:
    """One injected behaviour, applied to exactly one request."""

    kind: str
    status: int = 200
    retry_after: int = 1  # 429 only: Retry-After seconds
    reset_in: float | None = None  # 429 only: X-RateLimit-Reset = now + reset_in (default: retry_after)
    size: int = 0  # huge only: body size in bytes ("bytes" in the script)
    seconds: float = 0.0  # delay only
    body: Any = None  # body only: the JSON answered
    raw: str = ""  # raw only: the text answered, e.g. JSON with a lone surrogate escape ("\\ud83d")
    headers: tuple[tuple[str, str], ...] = ()  # added to the answer (any kind that answers, and "headers")

    @classmethod
    def parse(cls, entry: Any) -> FaultAction:
        """Read one script entry such as ``{"status": 503}`` or ``{"kind": "huge", "bytes": 50000000}``."""
        if not isinstance(entry, dict):
            raise FaultScriptError(f"fault action must be an object, not {entry!r}")
        kind = entry.get("kind", "status")
        if kind not in FAULT_KINDS:
            raise FaultScriptError(f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}")
        if kind == "body" and "body" not in entry:
            raise FaultScriptError('fault "body" needs a "body" (any JSON value)')
        text = entry.get("raw", "")
        if not isinstance(text, str) or (kind == "raw" and "raw" not in entry):
            raise FaultScriptError('fault "raw" needs a "raw" string: the text to answer with')
        headers = _headers(entry.get("headers", {}))
        if kind == "headers" and not headers:
            raise FaultScriptError('fault "headers" needs "headers": {"Name": "value", ...}')
        default_status = {"html": 502, "empty": 502, "status": None}.get(kind, 200)
        status = entry.get("status", default_status)
        if not isinstance(status, int) or not 200 <= status <= 599:
            raise FaultScriptError(f"fault {kind!r} needs an HTTP status between 200 and 599")
        return cls(
            kind=kind,
            status=status,
            retry_after=_number(entry, "retry_after", 1, int),
            reset_in=_number(entry, "reset_in", None, float),
            size=_number(entry, "bytes", 50_000_000, int),
            seconds=_number(entry, "seconds", 1.0, float),
            body=entry.get("body"),
            raw=text,
            headers=headers,
        )

    def describe(self) -> dict[str, Any]:
        described = asdict(self)
        # Listable as JSON even when the raw text holds a lone surrogate (shown as its \\udXXX escape).
        described["raw"] = self.raw.encode("utf-8", "backslashreplace").decode("utf-8")
        return described


def _headers(raw: Any) -> tuple[tuple[str, str], ...]:
    """A script's {"Name": "value"} headers, checked so that they can go on the wire as they are."""
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise FaultScriptError('headers must be an object of strings, e.g. {"Retry-After": "inf"}')
    for name, value in raw.items():
        if not name.isascii() or not name or any(c in name + value for c in "\r\n") or not _latin1(value):
            raise FaultScriptError(f"header {name!r} cannot be sent: no line breaks, values in Latin-1")
    return tuple(raw.items())


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _number(raw: dict[str, Any], key: str, default: Any, kind: type[int] | type[float]) -> Any:
    value = raw.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise FaultScriptError(f"{key} must be a non-negative number")
    return kind(value)


@dataclass
class FaultScript:
    """Actions for the next requests whose path starts with ``path`` (and whose method is ``method``)."""

    actions: deque[FaultAction]
    path: str | None = None
    method: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.path is None or path.startswith(self.path)) and (
            self.method is None or self.method.upper() == method.upper()
        )


@dataclass
class ScriptedFaults:
    """The queue behind /_sandbox/faults: scripts are consulted in the order they were posted."""

    scripts: list[FaultScript] = field(default_factory=list)

    def add(self, body: Any) -> int:
        """Queue the script in an admin request body; returns how many actions it held."""
        if not isinstance(body, dict) or not isinstance(body.get("script"), list) or not body["script"]:
            raise FaultScriptError('expected {"script": [...], "path"?: "/api/...", "method"?: "GET"}')
        path, method = body.get("path"), body.get("method")
        if not isinstance(path, str | None) or not isinstance(method, str | None):
            raise FaultScriptError("path and method must be strings")
        actions = deque(FaultAction.parse(entry) for entry in body["script"])
        self.scripts.append(FaultScript(actions, path, method))
        return len(actions)

    def next_for(self, method: str, path: str) -> FaultAction | None:
        """Pop the action for this request, if any script matches it."""
        for script in self.scripts:
            if script.actions and script.matches(method, path):
                action = script.actions.popleft()
                self.scripts = [s for s in self.scripts if s.actions]
                return action
        return None

    def pending(self) -> list[dict[str, Any]]:
        return [{"path": s.path, "method": s.method, "script": [a.describe() for a in s.actions]} for s in self.scripts]

    def clear(self) -> int:
        cleared = sum(len(s.actions) for s in self.scripts)
        self.scripts.clear()
        return cleared


class RandomFaults:
    """Faults drawn from ``random.Random(fault_seed)``: the same seed gives the same faults on the same requests."""

    def __init__(self, config: SandboxConfig) -> None:
        self.error_rate = config.error_rate
        self.html_502_rate = config.html_502_rate
        self.burst_every = config.burst_429_every
        self._rng = random.Random(config.fault_seed)
        self._requests = 0
        self._burst_left = 0

    def draw(self) -> FaultAction | None:
        self._requests += 1
        if self.burst_every and self._requests % self.burst_every == 0:
            self._burst_left = BURST_LENGTH
        # Always three draws per request, so one outcome never shifts the sequence for the next requests.
        error_roll, html_roll, status_roll = self._rng.random(), self._rng.random(), self._rng.random()
        if self._burst_left:
            self._burst_left -= 1
            return FaultAction("status", status=429, retry_after=1, reset_in=1)
        if html_roll < self.html_502_rate:
            return FaultAction("html", status=502)
        if error_roll < self.error_rate:
            return FaultAction("status", status=500 if status_roll < 0.5 else 503)
        return None


def fault_responder(action: FaultAction) -> ASGIApp:
    """The ASGI app answering a request hit by ``action`` (not for "delay" or "headers", which let it through)."""
    extra = dict(action.headers)
    if action.kind == "status":
        response = _status_response(action)
        response.headers.update(extra)
        return response
    if action.kind == "body":
        return JSONResponse(action.body, status_code=action.status, headers=extra)
    if action.kind == "raw":
        # surrogatepass: a real lone surrogate in the script goes out as the invalid UTF-8 a broken encoder makes.
        return Response(
            action.raw.encode("utf-8", "surrogatepass"), status_code=action.status, media_type="application/json"
        )
    if action.kind == "html":
        return Response(HTML_502_BODY, status_code=action.status, media_type="text/html", headers=extra)
    if action.kind == "invalid_json":
        return Response(INVALID_JSON_BODY, status_code=action.status, media_type="application/json", headers=extra)
    if action.kind == "huge":
        # StreamingResponse sends no Content-Length: the client only learns the size while reading.
        return StreamingResponse(huge_json_array(action.size), status_code=action.status, media_type="application/json")
    if action.kind == "empty":
        return Response(b"", status_code=action.status, media_type="application/json", headers=extra)
    if action.kind == "drop":
        return drop_connection
    raise ValueError(f"fault kind {action.kind!r} has no response")


def _status_response(action: FaultAction) -> Response:
    headers = {}
    if action.status == 429:
        reset_in = action.retry_after if action.reset_in is None else action.reset_in
        headers = {
            "Retry-After": str(action.retry_after),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(time.time() + reset_in)),
        }
    return JSONResponse(error_body(action.status), status_code=action.status, headers=headers)


_HUGE_ITEM = b'{"connectorID":101,"connectorName":"Oversized response padding","connectorType":"RDBMS"}'


async def huge_json_array(size: int, chunk_size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """Stream a valid JSON array of exactly ``size`` bytes (at least 2) without holding it in memory.

    Layout: ``[`` item (``,`` item)* spaces ``]``; the trailing whitespace makes the size exact.
    """
    size = max(size, 2)
    item_count = 0 if size < len(_HUGE_ITEM) + 2 else (size - 2 - len(_HUGE_ITEM)) // (len(_HUGE_ITEM) + 1) + 1
    padding = size - 2 - item_count * (len(_HUGE_ITEM) + 1) + (1 if item_count else 0)
    yield b"[" + (_HUGE_ITEM if item_count else b"")
    repeated = b"," + _HUGE_ITEM
    per_chunk = max(1, chunk_size // len(repeated))
    block = repeated * per_chunk
    full_blocks, rest = divmod(max(item_count - 1, 0), per_chunk)
    for _ in range(full_blocks):
        yield block
    yield repeated * rest
    for offset in range(0, padding, chunk_size):
        yield b" " * min(chunk_size, padding - offset)
    yield b"]"


async def drop_connection(scope: Scope, receive: Receive, send: Send) -> None:
    """Start a response, send part of its body, then return without finishing it.

    Under uvicorn this closes the connection mid-body (uvicorn logs "ASGI callable returned without completing
    response."), so an HTTP client sees a truncated body: httpx raises ``RemoteProtocolError``. In-process,
    ``httpx.ASGITransport`` reports the same situation as an ``AssertionError``: test drops on a real server.
    """
    headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    start_of_body = b'[{"connectorID": 101, "connectorName": "Prod'
    await send({"type": "http.response.body", "body": start_of_body, "more_body": True})
