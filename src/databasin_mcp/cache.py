"""A short-lived cache of API listings, shared by all tool calls of one process.

In one conversation an agent typically lists projects, then a project's
connectors, then finds one: with the connector list cached for a minute those
cost one upstream call, not three. Every write made through this server
empties the cache, so an agent never reads back stale data it just changed.
Concurrent misses on one key share a single upstream request.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

import anyio

T = TypeVar("T")


class ListingCache:
    """TTL + LRU cache of listings, keyed by what was asked for. A TTL of 0 disables it."""

    def __init__(self, ttl: float, *, max_entries: int = 64, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._locks: dict[Hashable, anyio.Lock] = {}
        # Bumped by clear(): a fetch that started before a write must not store what it read.
        self._generation = 0

    def peek(self, key: Hashable) -> Any | None:
        """The fresh value for a key, or None (never fetches)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if self._clock() - stored_at >= self.ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return value

    async def get_or_fetch(self, key: Hashable, fetch: Callable[[], Awaitable[T]]) -> T:
        """The cached value, or fetch it once (concurrent callers wait for that one fetch)."""
        if self.ttl <= 0:
            return await fetch()
        cached = self.peek(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        lock = self._locks.setdefault(key, anyio.Lock())
        try:
            async with lock:
                cached = self.peek(key)  # filled by the caller we waited for
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
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (after any write)."""
        self._entries.clear()
        self._generation += 1
