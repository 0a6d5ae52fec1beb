"""The listing cache: TTL, LRU bound, one fetch for concurrent misses, writes win over reads in flight."""

from __future__ import annotations

import anyio
import pytest

from databasin_mcp.cache import ListingCache

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_values_expire_after_the_ttl() -> None:
    clock = Clock()
    cache = ListingCache(60, clock=clock)
    fetches: list[int] = []

    async def fetch() -> list[int]:
        fetches.append(1)
        return [len(fetches)]

    assert await cache.get_or_fetch("k", fetch) == [1]
    clock.now = 59.9
    assert await cache.get_or_fetch("k", fetch) == [1]
    clock.now = 60.0
    assert await cache.get_or_fetch("k", fetch) == [2]


async def test_a_ttl_of_zero_always_fetches() -> None:
    cache = ListingCache(0)
    values = iter([[1], [2]])

    async def fetch() -> list[int]:
        return next(values)

    assert await cache.get_or_fetch("k", fetch) == [1]
    assert await cache.get_or_fetch("k", fetch) == [2]
    assert cache.peek("k") is None


async def test_the_least_recently_used_entry_goes_first() -> None:
    cache = ListingCache(60, max_entries=2)

    async def value(v: str) -> str:
        return v

    await cache.get_or_fetch("a", lambda: value("A"))
    await cache.get_or_fetch("b", lambda: value("B"))
    assert cache.peek("a") == "A"  # a is now the most recent
    await cache.get_or_fetch("c", lambda: value("C"))
    assert (cache.peek("a"), cache.peek("b"), cache.peek("c")) == ("A", None, "C")


async def test_concurrent_misses_share_one_fetch() -> None:
    cache = ListingCache(60)
    release = anyio.Event()
    calls = 0

    async def slow_fetch() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return "value"

    results: list[str] = []

    async def reader() -> None:
        results.append(await cache.get_or_fetch("k", slow_fetch))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            for _ in range(5):
                tasks.start_soon(reader)
            await anyio.wait_all_tasks_blocked()
            release.set()

    assert calls == 1
    assert results == ["value"] * 5
    assert cache._locks == {}  # no lock left behind for a finished key


async def test_a_read_that_started_before_a_write_is_not_stored() -> None:
    cache = ListingCache(60)
    release = anyio.Event()

    async def stale_fetch() -> str:
        await release.wait()
        return "stale"

    async def read() -> None:
        assert await cache.get_or_fetch("k", stale_fetch) == "stale"

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(read)
            await anyio.wait_all_tasks_blocked()
            cache.clear()  # a write happened while the read was in flight
            release.set()

    assert cache.peek("k") is None
