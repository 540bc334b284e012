"""The in-process hot store: one load per burst, forgotten when the views change."""

from __future__ import annotations

import asyncio

from stonkmarket.infrastructure.hot_store import InProcessHotStore


class CountingLoad:
    """Load function that counts its calls and blocks until `release` is set."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.calls = 0
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self) -> bytes:
        self.calls += 1
        await self.release.wait()
        return self.body


def test_burst_of_misses_loads_once() -> None:
    async def burst() -> tuple[list[bytes], int]:
        store = InProcessHotStore()
        load = CountingLoad(b"[1]")
        load.release.clear()
        readers = [asyncio.create_task(store.read("k", load)) for _ in range(200)]
        await asyncio.sleep(0.01)
        load.release.set()
        return await asyncio.gather(*readers), load.calls

    bodies, calls = asyncio.run(burst())
    assert calls == 1
    assert bodies == [b"[1]"] * 200


def test_cached_copy_reused_until_views_change() -> None:
    async def reads() -> list[int]:
        store = InProcessHotStore()
        load = CountingLoad(b"{}")
        calls = []
        for change in (False, False, True, False):
            if change:
                await store.views_changed()
            await store.read("k", load)
            calls.append(load.calls)
        return calls

    assert asyncio.run(reads()) == [1, 1, 2, 2]


def test_load_started_before_change_not_cached() -> None:
    async def race() -> tuple[bytes, bytes]:
        store = InProcessHotStore()
        old = CountingLoad(b"old")
        old.release.clear()
        reader = asyncio.create_task(store.read("k", old))
        await asyncio.sleep(0.01)
        await store.views_changed()
        old.release.set()
        first = await reader
        second = await store.read("k", CountingLoad(b"new"))
        return first, second

    assert asyncio.run(race()) == (b"old", b"new")


def test_failed_load_is_raised_and_not_cached() -> None:
    async def failing() -> bytes:
        await asyncio.sleep(0.01)
        raise LookupError("no prices recorded for ZZZ")

    async def burst() -> list[BaseException | bytes]:
        store = InProcessHotStore()
        readers = [store.read("k", failing) for _ in range(5)]
        outcomes = await asyncio.gather(*readers, return_exceptions=True)
        outcomes.append(await store.read("k", CountingLoad(b"later")))
        return outcomes

    outcomes = asyncio.run(burst())
    assert [type(o) for o in outcomes[:5]] == [LookupError] * 5
    assert outcomes[5] == b"later"
