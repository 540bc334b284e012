"""The in-process hot store: one load per burst, forgotten when the views change."""

from __future__ import annotations

import asyncio

from stonkmarket.infrastructure.hot_store import InProcessHotStore


class CountingLoad:
    """A load that counts its calls and can be held open until released."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.calls = 0
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self) -> bytes:
        self.calls += 1
        await self.release.wait()
        return self.body


def test_a_burst_of_misses_on_one_key_loads_once() -> None:
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


def test_a_kept_copy_is_read_without_loading_until_the_views_change() -> None:
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


def test_a_load_begun_before_a_change_is_returned_but_not_kept() -> None:
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


def test_a_failed_load_reaches_every_waiter_and_is_not_kept() -> None:
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
