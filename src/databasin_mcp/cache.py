"""A short-lived cache of API listings, shared by all tool calls of one process.

In one conversation an agent typically lists projects, then a project's
connectors, then finds one: with the connector list cached for a minute those
cost one upstream call, not three. Every write made through this server
empties the cache, so an agent never reads back stale data it just changed.
Concurrent misses on one key share a single upstream request.

The cache is bounded by bytes, not only by entries: one listing of 20,000
tables holds about 7 MB, and 64 entries of that size took a server from 72 to
580 MiB. Expired entries are dropped whenever the cache is used, not only when
their own key is asked for again.
"""

from __future__ import annotations

import dataclasses
import logging
import sys
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, NamedTuple, TypeVar

import anyio
from pydantic import BaseModel

from .telemetry import NO_TELEMETRY, Telemetry

T = TypeVar("T")

logger = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 64_000_000


class _Entry(NamedTuple):
    stored_at: float
    value: Any
    size: int  # approximate_size(value), worked out once when stored


class ListingCache:
    """TTL + LRU cache of listings, keyed by what was asked for, within a byte budget. A TTL of 0 disables it."""

    def __init__(
        self,
        ttl: float,
        *,
        max_entries: int = 64,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.monotonic,
        telemetry: Telemetry = NO_TELEMETRY,
    ) -> None:
        self.ttl = ttl
        self.telemetry = telemetry
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._bytes = 0
        self._locks: dict[Hashable, anyio.Lock] = {}
        # Bumped by clear(): a fetch that started before a write must not store what it read.
        self._generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def stored_bytes(self) -> int:
        """The approximate size of everything held now."""
        return self._bytes

    def peek(self, key: Hashable) -> Any | None:
        """The fresh value for a key, or None (never fetches). Drops every expired entry on the way.

        A value found counts as a cache hit; none found counts nothing (the caller fetches elsewhere, and
        get_or_fetch counts that).
        """
        value = self._fresh(key)
        if value is not None:
            self.telemetry.cache_lookup(hit=True)
        return value

    def _fresh(self, key: Hashable) -> Any | None:
        self._drop_expired()
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry.value

    async def get_or_fetch(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> T:
        """The cached value, or fetch it once (concurrent callers wait for that one fetch)."""
        if self.ttl <= 0:
            return await fetch()
        cached = self._fresh(key)
        if cached is not None:
            self.telemetry.cache_lookup(hit=True)
            return cached  # type: ignore[no-any-return]
        lock = self._locks.setdefault(key, anyio.Lock())
        try:
            async with lock:
                cached = self._fresh(key)  # filled by the caller we waited for
                self.telemetry.cache_lookup(hit=cached is not None)
                if cached is not None:
                    return cached  # type: ignore[no-any-return]
                generation = self._generation
                value = await fetch()
                if generation == self._generation:
                    self._store(key, value)
                return value
        finally:
            if not lock.locked() and lock.statistics().tasks_waiting == 0:
                self._locks.pop(key, None)

    def _store(self, key: Hashable, value: Any) -> None:
        self._drop_expired()
        self._forget(key)
        size = approximate_size(value)
        if size > self.max_bytes:
            # Served to the caller that asked, not kept: it would push out everything else and still not fit.
            logger.debug(
                "A listing of about %d bytes is over the cache's %d-byte budget; not kept", size, self.max_bytes
            )
            return
        self._entries[key] = _Entry(self._clock(), value, size)
        self._bytes += size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            _, oldest = self._entries.popitem(last=False)
            self._bytes -= oldest.size

    def _drop_expired(self) -> None:
        # At most max_entries entries: a scan of all of them costs nothing next to a listing.
        now = self._clock()
        for key in [key for key, entry in self._entries.items() if now - entry.stored_at >= self.ttl]:
            self._forget(key)

    def _forget(self, key: Hashable) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry.size

    def clear(self) -> None:
        """Forget everything (after any write)."""
        self._entries.clear()
        self._bytes = 0
        self._generation += 1


# A long list is measured on this many of its items, evenly spread, and the rest assumed alike.
_SAMPLE = 64
_MAX_DEPTH = 8


def approximate_size(value: Any, _depth: int = 0) -> int:
    """Roughly how many bytes `value` holds, in time that does not grow with a long list's length.

    Counts containers and their values; not dict keys, which in listings are shared (the JSON decoder's
    memo, the models' field names), nor the shared singletons None, True and False. Within a third of
    what tracemalloc sees for a 20,000-table listing (tests/test_cache.py), which is all a budget needs.
    """
    if value is None or isinstance(value, bool):
        return 0
    if isinstance(value, str | bytes | int | float) or _depth >= _MAX_DEPTH:
        return sys.getsizeof(value)
    depth = _depth + 1
    if isinstance(value, dict):
        return sys.getsizeof(value) + _items_size(list(value.values()), depth)
    if isinstance(value, list | tuple | set | frozenset):
        return sys.getsizeof(value) + _items_size(value if isinstance(value, list | tuple) else list(value), depth)
    size = sys.getsizeof(value)
    if isinstance(value, BaseModel):
        size += approximate_size(value.__dict__, depth) + approximate_size(value.__pydantic_extra__, depth)
        size += sys.getsizeof(value.__pydantic_fields_set__)
        return size + approximate_size(value.__pydantic_private__, depth)
    if dataclasses.is_dataclass(value):
        return size + sum(approximate_size(getattr(value, f.name), depth) for f in dataclasses.fields(value))
    state = getattr(value, "__dict__", None)
    return size + (approximate_size(state, depth) if state is not None else 0)


def _items_size(items: list[Any] | tuple[Any, ...], depth: int) -> int:
    count = len(items)
    if count <= _SAMPLE:
        return sum(approximate_size(item, depth) for item in items)
    step = count / _SAMPLE
    sampled = sum(approximate_size(items[int(n * step)], depth) for n in range(_SAMPLE))
    return sampled * count // _SAMPLE
