"""The listing cache: TTL, LRU and byte bounds, one fetch for concurrent misses, writes win over reads in flight."""

from __future__ import annotations

import json
import tracemalloc
from typing import Any

import anyio
import pytest

from databasin_mcp.cache import ListingCache, approximate_size
from databasin_mcp.config import Settings
from databasin_mcp.ops import MetadataRows
from databasin_mcp.server import create_server

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


# --- bounded by bytes, expired entries dropped (issue 12, finding 13) ---------------------------------


async def store(cache: ListingCache, key: str, value: Any) -> Any:
    async def fetch() -> Any:
        return value

    return await cache.get_or_fetch(key, fetch)


KIB_TEXT = "x" * 1000  # about 1,050 bytes as Python holds it


async def test_the_least_recently_used_entries_go_when_the_bytes_pass_the_budget() -> None:
    cache = ListingCache(60, max_bytes=3 * approximate_size(KIB_TEXT) + 10)

    for key in "abc":
        await store(cache, key, KIB_TEXT + key)
    assert cache.peek("a") is not None  # a is now the most recent
    await store(cache, "d", KIB_TEXT + "d")

    assert [key for key in "abcd" if cache.peek(key) is not None] == ["a", "c", "d"]
    assert cache.stored_bytes == 3 * approximate_size(KIB_TEXT + "a")


async def test_an_entry_larger_than_the_budget_is_served_but_not_kept() -> None:
    cache = ListingCache(60, max_bytes=500)
    await store(cache, "small", "s")

    assert await store(cache, "big", KIB_TEXT) == KIB_TEXT
    assert cache.peek("big") is None
    assert cache.peek("small") == "s"  # and it pushed nothing out


async def test_expired_entries_are_dropped_when_any_key_is_used_not_only_their_own() -> None:
    clock = Clock()
    cache = ListingCache(60, clock=clock)
    await store(cache, "old", KIB_TEXT)
    clock.now = 30.0
    await store(cache, "recent", KIB_TEXT)

    clock.now = 61.0
    assert cache.peek("recent") == KIB_TEXT

    assert len(cache) == 1  # "old" went with that peek, although nobody asked for it again
    assert cache.stored_bytes == approximate_size(KIB_TEXT)
    clock.now = 91.0
    await store(cache, "new", "n")
    assert len(cache) == 1


async def test_clear_forgets_the_bytes_too() -> None:
    cache = ListingCache(60)
    await store(cache, "a", KIB_TEXT)

    cache.clear()

    assert (len(cache), cache.stored_bytes) == (0, 0)


def test_the_size_of_a_large_listing_is_estimated_within_a_third_of_what_it_holds() -> None:
    body = json.dumps(
        [
            {"tableName": f"orders_{n:05d}", "tableType": "TABLE", "rowCount": n * 1_000_003, "sizeInBytes": None}
            for n in range(20_000)
        ]
    )
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        rows = json.loads(body)  # as the client decodes it: every value its own object, keys shared
        listed = MetadataRows(rows, ["tableName", "tableType", "rowCount", "sizeInBytes"])
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()

    assert held * 2 / 3 <= approximate_size(listed) <= held * 4 / 3


def test_the_budget_is_a_setting_the_servers_cache_uses() -> None:
    settings = Settings(api_url="http://api.test", token="tok", DATABASIN_CACHE_MAX_BYTES="1000000")

    assert settings.cache_max_bytes == 1_000_000
    assert Settings().cache_max_bytes == 64_000_000
    assert create_server(settings).operations.cache.max_bytes == 1_000_000
