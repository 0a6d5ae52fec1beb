"""Connections of the HTTP transports: a deadline for every request head, and a cap on connections held.

uvicorn (0.54) times out only a kept-alive connection that stays silent. A client that connects and sends
nothing, sends its head a byte at a time, or keeps sending after it was answered holds its connection (a file
descriptor) for as long as it likes, and before any authentication: enough of them exhaust the process's
descriptors and lock everyone out. Here:

- GuardedH11Protocol (uvicorn's h11 protocol) closes a connection whose request head is not complete
  `head_timeout` seconds after it connected, or after the first byte of its next request. It holds at most
  `max_connections`: one more makes room by closing the connection that has waited longest for a request, or
  is closed itself when every other one is busy with a request.
- asyncio accepts a burst of connections before the protocol sees any of them, and when that runs out of
  descriptors Python 3.11 logs and retries in a tight loop. So fit_to_descriptors makes room for the cap, one
  burst (`backlog`) and the process's own files, raising the soft descriptor limit when the hard one allows
  and otherwise lowering the cap; and CappedListener closes at once any connection that would take one of the
  descriptors the process keeps for itself.

A request's body has its own deadline, kept by an ASGI middleware that can answer 408 (http_guards.BodyDeadline).

serving.serve() uses all of this. Under uvicorn's own command line, `--http
databasin_mcp.http_protocol:GuardedH11Protocol` brings the protocol, with its limits read from the environment.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .config import Settings, load_settings
from .errors import ConfigurationError

try:
    import resource
except ImportError:  # Windows: the descriptor limit is left alone there
    resource = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

# The process's own descriptors besides connections: the listener, the API client's pool, logs, pipes.
DESCRIPTORS_RESERVED = 32
# Under a flood of connections, one warning a minute says what is happening without flooding the log too.
WARNING_INTERVAL = 60.0


@dataclass(frozen=True)
class ConnectionLimits:
    head_timeout: float
    max_connections: int
    # Connections are refused at once rather than take a descriptor numbered this or higher (None: no ceiling).
    descriptor_ceiling: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ConnectionLimits:
        return cls(head_timeout=settings.head_timeout, max_connections=settings.max_connections)


def fit_to_descriptors(limits: ConnectionLimits, backlog: int) -> ConnectionLimits:
    """`limits` fitted to the file descriptors this process may open: room for the connection cap, a burst of
    `backlog` connections accepted at once, and its own files.

    The soft limit is raised towards the hard one when needed; when that is not enough the cap is lowered, with
    a warning, and when there is no room at all the server is refused.
    """
    if resource is None:
        return limits
    needed = limits.max_connections + backlog + DESCRIPTORS_RESERVED
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed and (hard == resource.RLIM_INFINITY or hard > soft):
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft == resource.RLIM_INFINITY:
        return limits
    fitted = replace(limits, descriptor_ceiling=soft - DESCRIPTORS_RESERVED)
    if soft >= needed:
        return fitted
    room = soft - backlog - DESCRIPTORS_RESERVED
    if room < 1:
        raise ConfigurationError(
            f"Only {soft} file descriptors are allowed (ulimit -n): too few to serve HTTP, which needs "
            f"{backlog + DESCRIPTORS_RESERVED + 1} or more. Raise the limit."
        )
    logger.warning(
        "Only %d file descriptors are allowed (ulimit -n): serving at most %d connections, not %d "
        "(DATABASIN_MCP_MAX_CONNECTIONS). Raise the limit to %d, or lower the setting.",
        soft,
        room,
        limits.max_connections,
        needed,
    )
    return replace(fitted, max_connections=room)


class _Occasional:
    """A warning said at most once per WARNING_INTERVAL."""

    def __init__(self) -> None:
        self._last = -WARNING_INTERVAL

    def warning(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        if now - self._last >= WARNING_INTERVAL:
            self._last = now
            logger.warning(message, *args)


_at_capacity = _Occasional()
_out_of_descriptors = _Occasional()


class CappedListener(socket.socket):
    """A listening socket that never hands out the descriptors the process keeps for itself.

    Descriptors are numbered lowest-free first, so a connection numbered `ceiling` or higher means that many
    are open: it is closed at once (the client sees the connection closed) and the next one is tried.
    """

    ceiling: int | None = None

    def accept(self) -> tuple[socket.socket, Any]:
        while True:
            connection, address = super().accept()  # BlockingIOError when none is waiting: asyncio stops there
            if self.ceiling is None or connection.fileno() < self.ceiling:
                return connection, address
            connection.close()
            _out_of_descriptors.warning(
                "Refusing connections: %d file descriptors are in use, the most the limit (ulimit -n) leaves "
                "for connections.",
                self.ceiling,
            )


class GuardedH11Protocol(H11Protocol):
    """One connection: uvicorn's h11 protocol, closed when a request head is late or room is needed."""

    # None: read from the environment (DATABASIN_MCP_*) at the first connection.
    limits: ClassVar[ConnectionLimits | None] = None

    # When this connection last started waiting for a request (None while it is busy with one): the order in
    # which connections make room.
    idle_since: float | None = None
    _head_deadline: asyncio.TimerHandle | None = None

    @classmethod
    def with_limits(cls, limits: ConnectionLimits) -> type[GuardedH11Protocol]:
        """This protocol with `limits` instead of the environment's."""
        return type(cls.__name__, (cls,), {"limits": limits})

    def _limits(self) -> ConnectionLimits:
        cls = type(self)
        if cls.limits is None:
            configured = ConnectionLimits.from_settings(load_settings(transport="streamable-http"))
            try:
                cls.limits = fit_to_descriptors(configured, self.config.backlog)
            except ConfigurationError as error:
                # Under uvicorn's command line the server is already serving: it goes on, and says what to change.
                logger.warning("%s uvicorn's --backlog (%d) counts too: lower it.", error, self.config.backlog)
                cls.limits = configured
        return cls.limits

    # --- asyncio.Protocol and uvicorn's hooks ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.idle_since = self.loop.time()
        self._start_head_deadline()
        self._make_room()

    def data_received(self, data: bytes) -> None:
        if not self._busy() and self._head_deadline is None:
            # The first byte of the next request (or of a body left unread after an answer): the clock starts.
            self._start_head_deadline()
        super().data_received(data)
        self._note_request_started()

    def on_response_complete(self) -> None:
        self.idle_since = self.loop.time()
        super().on_response_complete()  # may start a pipelined request
        self._note_request_started()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_deadline()
        super().connection_lost(exc)

    # --- the head deadline ----------------------------------------------------------------------------------

    def _busy(self) -> bool:
        """A request's head has arrived and its response is not complete yet."""
        return self.cycle is not None and not self.cycle.response_complete

    def _note_request_started(self) -> None:
        if self._busy():
            self._stop_head_deadline()
            self.idle_since = None

    def _start_head_deadline(self) -> None:
        self._head_deadline = self.loop.call_later(self._limits().head_timeout, self._head_too_late)

    def _stop_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_too_late(self) -> None:
        self._head_deadline = None
        if self._busy() or self.transport.is_closing():
            return
        logger.debug("Closed a connection: no complete request head within %g s", self._limits().head_timeout)
        self._close()

    def _close(self) -> None:
        self._stop_head_deadline()
        with suppress(h11.LocalProtocolError):
            self.conn.send(h11.ConnectionClosed())
        self.transport.close()

    # --- the connection cap ---------------------------------------------------------------------------------

    def _make_room(self) -> None:
        """Over the cap, close the connection waiting longest for a request, or this one if all others are busy."""
        limit = self._limits().max_connections
        open_now = [
            connection
            for connection in self.connections
            if isinstance(connection, GuardedH11Protocol) and not connection.transport.is_closing()
        ]
        if len(open_now) <= limit:
            return
        waiting = [c for c in open_now if c is not self and c.idle_since is not None]
        if waiting:
            min(waiting, key=lambda connection: connection.idle_since or 0.0)._close()
            outcome = "closing those that have waited longest for a request"
        else:
            self._close()
            outcome = "refusing new ones, as every connection is busy with a request"
        _at_capacity.warning("%d connections open, the most DATABASIN_MCP_MAX_CONNECTIONS allows: %s.", limit, outcome)
