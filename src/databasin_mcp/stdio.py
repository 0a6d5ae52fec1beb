"""The stdio transport: one JSON-RPC message per line each way, whatever arrives, and a prompt stop.

It replaces the MCP SDK's stdio transport, which
- dropped a line that was not a valid message (invalid JSON, a batch, "jsonrpc": "1.0", params as an
  array, a lone surrogate) without an answer, so the client waited forever for that id; here each one
  that has an id is answered with a JSON-RPC error, and one without is logged and dropped;
- ended the process on a message it could not encode (a lone surrogate in a result); here every message
  is written, anything that cannot be encoded replaced;
- read stdin on a worker thread that cannot be cancelled, so SIGINT was ignored until the next line came;
  here daemon threads move the bytes, and SIGINT, SIGTERM or the end of stdin stop the server at once,
  answering the calls in flight with an error first.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import re
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.from_thread
import anyio.lowlevel
from anyio.abc import ObjectReceiveStream
from mcp.server.mcpserver import MCPServer
from mcp.shared.message import SessionMessage
from mcp_types import (
    CONNECTION_CLOSED,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    ErrorData,
    JSONRPCError,
    JSONRPCMessage,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
    RequestId,
)
from pydantic import BaseModel, ValidationError

from .untrusted import has_surrogate, surrogates_replaced, without_surrogates

logger = logging.getLogger(__name__)

# As for an HTTP request body (serving.MAX_REQUEST_BODY_BYTES): a message is a few kilobytes.
MAX_MESSAGE_BYTES = 1_000_000
# How long the calls in flight get to be answered once the server is told to stop; then it just ends.
STOP_GRACE_SECONDS = 2.0
_READ_CHUNK = 65_536
# Line breaks some readers split on that JSON writers leave raw inside strings (str.splitlines does).
_RAW_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})

Write = Callable[[bytes], Awaitable[None]]


@dataclass(frozen=True)
class TooLong:
    """A line longer than MAX_MESSAGE_BYTES; its start is kept to find its id."""

    start: bytes


@dataclass(frozen=True)
class Refusal:
    """A line that is not a message this server can take: answered if it has an id, else logged."""

    id: RequestId | None
    code: int
    message: str


@dataclass
class Stop:
    """Whether, and why, the server should stop (a signal, the end of stdin, a closed stdout)."""

    requested: anyio.Event = field(default_factory=anyio.Event)
    forced: anyio.Event = field(default_factory=anyio.Event)
    reason: str = ""
    signal: int | None = None

    def request(self, reason: str, signum: int | None = None) -> None:
        if self.requested.is_set():
            self.forced.set()  # asked twice: no more waiting for calls in flight
            return
        self.reason, self.signal = reason, signum
        self.requested.set()


# --- reading: a line -> a message, or a refusal ------------------------------------------------------------


def read_line(line: bytes | TooLong) -> list[SessionMessage | Refusal]:
    """What one line of input is: a message for the server, refusals to answer or log, or nothing (blank)."""
    if isinstance(line, TooLong):
        text = line.start.decode("utf-8", errors="replace")
        limit = f"{MAX_MESSAGE_BYTES:,}"
        return [Refusal(_id_of_broken(text), INVALID_REQUEST, f"Invalid request: a message is at most {limit} bytes.")]
    if not line.strip():
        return []
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("utf-8", errors="replace")
        return [Refusal(_id_of_broken(text), PARSE_ERROR, "Parse error: the message is not valid UTF-8.")]
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return [Refusal(_id_of_broken(text), PARSE_ERROR, f"Parse error: {error.msg} at column {error.colno}.")]
    except RecursionError:
        return [Refusal(_id_of_broken(text), PARSE_ERROR, "Parse error: the message is nested too deeply.")]
    if isinstance(value, list):
        # MCP has no batches (2025-06-18 removed them): each request in one is answered on its own.
        ids = [_id_in(item) for item in value]
        refusal = "Invalid request: batches are not supported; send one message per line."
        return [Refusal(each, INVALID_REQUEST, refusal) for each in ids if each is not None] or [
            Refusal(None, INVALID_REQUEST, refusal)
        ]
    return [_message(value)]


def _message(value: Any) -> SessionMessage | Refusal:
    if not isinstance(value, dict):
        return Refusal(None, INVALID_REQUEST, "Invalid request: a message is a JSON object.")
    request_id = _id_in(value)
    where = _surrogate_in(value, "")
    if where is not None:
        return Refusal(
            request_id,
            PARSE_ERROR,
            f"Parse error: the message is not valid Unicode: {where or 'it'} holds a lone surrogate escape "
            "(half of a UTF-16 pair, such as \\ud83d); send whole characters.",
        )
    if value.get("jsonrpc") != "2.0":
        return Refusal(request_id, INVALID_REQUEST, 'Invalid request: "jsonrpc" must be "2.0".')
    model: type[BaseModel]
    if "method" in value:
        if not isinstance(value["method"], str):
            return Refusal(request_id, INVALID_REQUEST, 'Invalid request: "method" must be a string.')
        params = value.get("params")
        if params is not None and not isinstance(params, dict):
            kind = "an array" if isinstance(params, list) else f"a {type(params).__name__}"
            return Refusal(
                request_id,
                INVALID_PARAMS,
                f'Invalid params: "params" must be an object (named parameters), not {kind}.',
            )
        model = JSONRPCRequest if "id" in value else JSONRPCNotification
    elif "error" in value:
        model = JSONRPCError
    elif "result" in value:
        model = JSONRPCResponse
    else:
        return Refusal(
            request_id,
            INVALID_REQUEST,
            'Invalid request: a message has a "method" (a request or a notification), or a "result" or an "error".',
        )
    try:
        message: JSONRPCMessage = model.model_validate(value, by_name=False)
    except ValidationError as error:
        return Refusal(request_id, INVALID_REQUEST, f"Invalid request: {_problems(error)}.")
    return SessionMessage(message)


def _id_in(value: Any) -> RequestId | None:
    """The id of a parsed message, if it has one that can be answered (a string, or an integer)."""
    found = value.get("id") if isinstance(value, dict) else None
    return found if isinstance(found, str) or (isinstance(found, int) and not isinstance(found, bool)) else None


_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]')
_ID_VALUE = re.compile(r'\s*:\s*(-?\d+|"(?:[^"\\]|\\.)*")')


def _id_of_broken(text: str) -> RequestId | None:
    """The id of a message that is not valid JSON, when the top-level object says it once, plainly.

    Only a top-level "id" counts (not one inside params), so a broken message is never answered as if it
    were another request the client is still waiting for.
    """
    if not text.lstrip().startswith("{"):
        return None
    depth = 0
    found: list[str] = []
    for token in _TOKEN.finditer(text):
        symbol = token.group()
        if symbol in "{[":
            depth += 1
        elif symbol in "}]":
            depth -= 1
        elif depth == 1 and symbol == '"id"' and (value := _ID_VALUE.match(text, token.end())):
            found.append(value.group(1))
    if len(found) != 1:
        return None
    try:
        request_id = json.loads(found[0])
    except ValueError:
        return None
    return _id_in({"id": request_id})


def _surrogate_in(value: Any, path: str) -> str | None:
    """Where a lone surrogate is in a parsed message ("params.arguments.name"), or None."""
    if isinstance(value, str):
        return path if has_surrogate(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if has_surrogate(key):
                return f"{path}.{without_surrogates(key)}".lstrip(".") + " (a key)"
            if (where := _surrogate_in(item, f"{path}.{key}".lstrip("."))) is not None:
                return where
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (where := _surrogate_in(item, f"{path}.{index}".lstrip("."))) is not None:
                return where
    return None


def _problems(error: ValidationError) -> str:
    """What is wrong with a message, by field, without the values (they may be a password)."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'message'}: {item['msg']}"
        for item in error.errors(include_url=False, include_input=False)[:3]
    )


# --- writing: a message -> one line ----------------------------------------------------------------------


def encode_message(message: JSONRPCMessage) -> bytes:
    """One message as one line of UTF-8 JSON. Never raises on content: what cannot be encoded is replaced."""
    try:
        text = message.model_dump_json(by_alias=True, exclude_unset=True)
    except (ValueError, UnicodeError):  # pydantic's serialisation error for a lone surrogate is a ValueError
        try:
            data = message.model_dump(by_alias=True, exclude_unset=True)
            text = json.dumps(surrogates_replaced(data), ensure_ascii=False, separators=(",", ":"))
        except (ValueError, TypeError):
            logger.exception("A message could not be encoded")
            request_id = getattr(message, "id", None)
            if request_id is None or isinstance(message, JSONRPCNotification):
                return b""
            failure = ErrorData(code=INTERNAL_ERROR, message="The answer could not be encoded; see the server log.")
            text = JSONRPCError(jsonrpc="2.0", id=request_id, error=failure).model_dump_json(by_alias=True)
    if not text.isascii():
        text = text.translate(_RAW_LINE_BREAKS)
    return (text + "\n").encode("utf-8")


def refusal_message(refusal: Refusal) -> JSONRPCError:
    assert refusal.id is not None
    return JSONRPCError(jsonrpc="2.0", id=refusal.id, error=ErrorData(code=refusal.code, message=refusal.message))


# --- serving: the server between a line source and a writer ------------------------------------------------


async def serve_lines(
    server: MCPServer[Any], incoming: ObjectReceiveStream[bytes | TooLong], write: Write, stop: Stop
) -> None:
    """Serve `server` over lines: `incoming` (its end is the end of stdin) and `write` (one line at a time).

    Ends when the input ends or `stop` is requested: the server then sees the end of its input, cancels
    the calls in flight and answers each with an error, which is written before this returns (within
    STOP_GRACE_SECONDS, or at once when the stop is forced).
    """
    to_server, server_input = anyio.create_memory_object_stream[SessionMessage | Exception](0)
    server_output, outgoing = anyio.create_memory_object_stream[SessionMessage](16)
    replies = server_output.clone()  # the refusals share the output, so one writer orders every line
    reading = anyio.CancelScope()
    lowlevel = server._lowlevel_server

    async def pump_in() -> None:
        try:
            with reading:
                async for line in incoming:
                    for item in read_line(line):
                        if isinstance(item, SessionMessage):
                            await to_server.send(item)
                        elif item.id is None:
                            logger.warning("Dropped a message that has no id to answer: %s", item.message)
                        else:
                            logger.warning("Answered a malformed message (id %r): %s", item.id, item.message)
                            await replies.send(SessionMessage(refusal_message(item)))
        finally:
            # The server's input ends here, and with it the calls in flight; the refusals' share of the output too.
            to_server.close()
            replies.close()
            with anyio.CancelScope(shield=True):
                await incoming.aclose()
        if not stop.requested.is_set():
            stop.request("its input was closed")

    async def pump_out() -> None:
        broken = False
        async with outgoing:
            async for session_message in outgoing:
                if broken:
                    continue  # stdout is gone: keep draining so that the server is never blocked
                data = encode_message(_worded_for_stop(session_message.message, stop))
                try:
                    await write(data)
                except (anyio.BrokenResourceError, OSError):
                    broken = True
                    stop.request("its output was closed")

    async def stop_when_asked(scope: anyio.CancelScope) -> None:
        await stop.requested.wait()
        logger.info("Stopping: %s", stop.reason)
        reading.cancel()
        with anyio.move_on_after(STOP_GRACE_SECONDS):
            await stop.forced.wait()
        scope.cancel()

    async with anyio.create_task_group() as supervisor:
        supervisor.start_soon(stop_when_asked, supervisor.cancel_scope)
        async with anyio.create_task_group() as serving:
            serving.start_soon(pump_out)
            serving.start_soon(pump_in)
            await lowlevel.run(server_input, server_output, lowlevel.create_initialization_options())
            reading.cancel()
        supervisor.cancel_scope.cancel()


def _worded_for_stop(message: JSONRPCMessage, stop: Stop) -> JSONRPCMessage:
    """A call cancelled because a signal stops the server is answered saying so; the SDK says "Connection
    closed", which is what happened when the client closed stdin."""
    if not (stop.signal is not None and isinstance(message, JSONRPCError) and message.error.code == CONNECTION_CLOSED):
        return message
    text = (
        f"databasin-mcp is stopping ({stop.reason}); this call was cancelled before it finished, "
        "so a change it was making may or may not have been applied."
    )
    return message.model_copy(update={"error": message.error.model_copy(update={"message": text})})


# --- the process's stdin and stdout --------------------------------------------------------------------------


async def run_stdio(server: MCPServer[Any]) -> int | None:
    """Serve `server` on this process's stdin and stdout until stdin ends or a signal stops it.

    Returns the signal (SIGINT, SIGTERM) that stopped it, if one did.
    """
    stop = Stop()
    with _claimed_stdio() as (input_fd, output_fd):
        incoming = _start_reader(input_fd)
        writer = _FdWriter(output_fd)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_stop_on_signals, stop)
            await serve_lines(server, incoming, writer.write, stop)
            tasks.cancel_scope.cancel()
    return stop.signal


async def _stop_on_signals(stop: Stop) -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    try:
        with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                stop.request(f"{signal.Signals(signum).name} received", signum)
    except NotImplementedError:  # Windows: Ctrl-C still raises KeyboardInterrupt, and no thread blocks it
        return


@contextlib.contextmanager
def _claimed_stdio() -> Iterator[tuple[int, int]]:
    """Private copies of stdin and stdout for the protocol; meanwhile fd 0 reads nothing and fd 1 goes to stderr.

    A stray print() or a child process's output then cannot corrupt the protocol stream.
    """
    input_fd, output_fd = os.dup(0), os.dup(1)
    with contextlib.suppress(OSError):
        sys.stdout.flush()
    devnull = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(devnull, 0)
        os.dup2(2, 1)
    finally:
        os.close(devnull)
    try:
        yield input_fd, output_fd
    finally:
        with contextlib.suppress(OSError):
            sys.stdout.flush()
        os.dup2(input_fd, 0)
        os.dup2(output_fd, 1)
        # The copies stay open: the daemon threads may still be blocked on them, and a closed descriptor
        # could be reused under them. They go with the process.


def _start_reader(fd: int) -> ObjectReceiveStream[bytes | TooLong]:
    """Lines from `fd`, read by a daemon thread: a read blocked on stdin never holds up a stop or the exit."""
    send, receive = anyio.create_memory_object_stream[bytes | TooLong](16)
    token = anyio.lowlevel.current_token()

    def deliver(item: bytes | TooLong) -> None:
        anyio.from_thread.run(send.send, item, token=token)

    def read() -> None:
        try:
            for line in _lines(fd):
                deliver(line)
        except Exception:  # the loop has ended or stopped listening: nobody is left to read for
            return
        with contextlib.suppress(Exception):
            anyio.from_thread.run_sync(send.close, token=token)

    threading.Thread(target=read, name="databasin-mcp stdin", daemon=True).start()
    return receive


def _lines(fd: int) -> Iterator[bytes | TooLong]:
    """The lines of `fd` without their line ends; a line over MAX_MESSAGE_BYTES as TooLong (its rest skipped)."""
    buffer = bytearray()
    skipping = False  # in a line too long, already reported
    while chunk := _read(fd):
        buffer += chunk
        while (end := buffer.find(b"\n")) >= 0:
            if skipping:
                skipping = False
            elif end > MAX_MESSAGE_BYTES:
                yield TooLong(bytes(buffer[:_READ_CHUNK]))
            else:
                yield bytes(buffer[:end])
            del buffer[: end + 1]
        if len(buffer) > MAX_MESSAGE_BYTES:
            if not skipping:
                yield TooLong(bytes(buffer[:_READ_CHUNK]))
            skipping = True
            buffer.clear()
    if buffer.strip() and not skipping:
        yield bytes(buffer)  # a last message without its newline


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, _READ_CHUNK)
    except OSError:  # the descriptor is gone: the same as its end
        return b""


class _FdWriter:
    """Writes to `fd` on a daemon thread: a client that stops reading blocks that thread, never the server."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._token = anyio.lowlevel.current_token()
        self._queue: queue.SimpleQueue[tuple[bytes, anyio.Event, list[OSError]]] = queue.SimpleQueue()
        self._broken = False
        threading.Thread(target=self._run, name="databasin-mcp stdout", daemon=True).start()

    async def write(self, data: bytes) -> None:
        if self._broken:
            raise anyio.BrokenResourceError
        done = anyio.Event()
        failures: list[OSError] = []
        self._queue.put((data, done, failures))
        await done.wait()
        if failures:
            self._broken = True
            raise anyio.BrokenResourceError from failures[0]

    def _run(self) -> None:
        while True:
            data, done, failures = self._queue.get()
            view = memoryview(data)
            try:
                while view:
                    view = view[os.write(self._fd, view) :]
            except OSError as error:  # EPIPE: the client closed our stdout
                failures.append(error)
            try:
                anyio.from_thread.run_sync(done.set, token=self._token)
            except Exception:  # the loop has ended: nobody waits for this write
                return
