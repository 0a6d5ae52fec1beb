"""The stdio transport: one JSON-RPC message per line each way, whatever arrives, and a prompt stop.

It replaces the MCP SDK's stdio transport. What a line means and how a message is written are
stdio_lines.py's; here each malformed line that has an id is answered with its JSON-RPC error, and one
without is logged and dropped. The SDK read stdin on a worker thread that cannot be cancelled, so SIGINT
was ignored until the next line came; here daemon threads move the bytes, and SIGINT, SIGTERM or the end
of stdin stop the server at once, answering the calls in flight with an error first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
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
from mcp_types import CONNECTION_CLOSED, JSONRPCError, JSONRPCMessage

from .stdio_lines import MAX_MESSAGE_BYTES, TooLong, encode_message, read_line, refusal_message

logger = logging.getLogger(__name__)

# How long the calls in flight get to be answered once the server is told to stop; then it just ends.
STOP_GRACE_SECONDS = 2.0
_READ_CHUNK = 65_536

Write = Callable[[bytes], Awaitable[None]]


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
