"""Job locks in Valkey on the real server: exclusive, expiring, owner-checked.

Expiry here is real time, so the short ttls leave each test tens of
milliseconds of slack on either side.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
import valkey
import valkey.exceptions
from structlog.testing import capture_logs

from stonkmarket.application.job_locks import JobLockBusyError, LockLease, held
from stonkmarket.infrastructure.job_lock import JobLockUnavailableError, ValkeyJobLock

JOB = "refresh-prices"
KEY = "stonkmarket:job-lock:refresh-prices"

T = TypeVar("T")


def with_lock(url: str, use: Callable[[ValkeyJobLock], Awaitable[T]]) -> T:
    async def run() -> T:
        lock = ValkeyJobLock(url)
        try:
            return await use(lock)
        finally:
            await lock.close()

    return asyncio.run(run())


def test_free_lock_is_stored_under_the_prefix(valkey_url: str) -> None:
    client = valkey.Valkey.from_url(valkey_url)

    acquired = with_lock(valkey_url, lambda lock: lock.acquire(JOB, "run-a", 10.0))

    assert acquired is True
    assert client.get(KEY) == b"run-a"
    assert 9_000 < client.pttl(KEY) <= 10_000
    client.close()


def test_owner_of_a_free_lock_is_none(valkey_url: str) -> None:
    assert with_lock(valkey_url, lambda lock: lock.owner(JOB)) is None


def test_busy_lock_is_rejected(valkey_url: str) -> None:
    async def contend(lock: ValkeyJobLock) -> tuple[bool, str | None]:
        await lock.acquire(JOB, "run-a", 10.0)
        acquired = await lock.acquire(JOB, "run-b", 10.0)
        return acquired, await lock.owner(JOB)

    acquired, owner = with_lock(valkey_url, contend)

    assert acquired is False
    assert owner == "run-a"


def test_concurrent_acquires_grant_exactly_one(valkey_url: str) -> None:
    async def contend(lock: ValkeyJobLock) -> list[bool]:
        return await asyncio.gather(
            *(lock.acquire(JOB, f"run-{n}", 10.0) for n in range(20))
        )

    granted = with_lock(valkey_url, contend)

    assert granted.count(True) == 1


def test_renew_by_the_owner_resets_the_ttl(valkey_url: str) -> None:
    client = valkey.Valkey.from_url(valkey_url)

    async def renew(lock: ValkeyJobLock) -> bool:
        await lock.acquire(JOB, "run-a", 1.0)
        return await lock.renew(JOB, "run-a", 60.0)

    renewed = with_lock(valkey_url, renew)

    assert renewed is True
    assert 59_000 < client.pttl(KEY) <= 60_000
    client.close()


def test_renew_by_another_owner_leaves_the_ttl(valkey_url: str) -> None:
    client = valkey.Valkey.from_url(valkey_url)

    async def renew(lock: ValkeyJobLock) -> bool:
        await lock.acquire(JOB, "run-a", 10.0)
        return await lock.renew(JOB, "run-b", 60.0)

    renewed = with_lock(valkey_url, renew)

    assert renewed is False
    assert 9_000 < client.pttl(KEY) <= 10_000
    client.close()


def test_release_by_the_owner_deletes_the_lock(valkey_url: str) -> None:
    client = valkey.Valkey.from_url(valkey_url)

    async def release(lock: ValkeyJobLock) -> bool:
        await lock.acquire(JOB, "run-a", 10.0)
        return await lock.release(JOB, "run-a")

    released = with_lock(valkey_url, release)

    assert released is True
    assert client.exists(KEY) == 0
    client.close()


def test_release_by_another_owner_leaves_the_lock(valkey_url: str) -> None:
    async def release(lock: ValkeyJobLock) -> tuple[bool, str | None]:
        await lock.acquire(JOB, "run-a", 10.0)
        released = await lock.release(JOB, "run-b")
        return released, await lock.owner(JOB)

    released, owner = with_lock(valkey_url, release)

    assert released is False
    assert owner == "run-a"


def test_release_of_a_free_lock_returns_false(valkey_url: str) -> None:
    assert with_lock(valkey_url, lambda lock: lock.release(JOB, "run-a")) is False


def test_lock_expires_after_its_ttl(valkey_url: str) -> None:
    async def expire(lock: ValkeyJobLock) -> tuple[str | None, bool]:
        await lock.acquire(JOB, "run-a", 0.1)
        await asyncio.sleep(0.2)
        return await lock.owner(JOB), await lock.acquire(JOB, "run-b", 10.0)

    owner, acquired = with_lock(valkey_url, expire)

    assert owner is None
    assert acquired is True


async def stall_then_take_over(lock: ValkeyJobLock) -> None:
    """Let run-a's short lock expire while it stalls, and let run-b take it."""
    await lock.acquire(JOB, "run-a", 0.1)
    await asyncio.sleep(0.2)
    await lock.acquire(JOB, "run-b", 10.0)


def test_stalled_run_cannot_release_the_new_owners_lock(valkey_url: str) -> None:
    async def release(lock: ValkeyJobLock) -> tuple[bool, str | None]:
        await stall_then_take_over(lock)
        released = await lock.release(JOB, "run-a")
        return released, await lock.owner(JOB)

    released, owner = with_lock(valkey_url, release)

    assert released is False
    assert owner == "run-b"


def test_stalled_run_cannot_renew_the_new_owners_lock(valkey_url: str) -> None:
    client = valkey.Valkey.from_url(valkey_url)

    async def renew(lock: ValkeyJobLock) -> tuple[bool, str | None]:
        await stall_then_take_over(lock)
        renewed = await lock.renew(JOB, "run-a", 60.0)
        return renewed, await lock.owner(JOB)

    renewed, owner = with_lock(valkey_url, renew)

    assert renewed is False
    assert owner == "run-b"
    assert 9_000 < client.pttl(KEY) <= 10_000
    client.close()


def test_held_keeps_the_lock_past_the_ttl(valkey_url: str) -> None:
    async def run(lock: ValkeyJobLock) -> tuple[str | None, bool]:
        async with held(
            lock, JOB, "run-a", ttl_seconds=0.3, renew_every_seconds=0.1
        ) as lease:
            await asyncio.sleep(1.0)
            return await lock.owner(JOB), lease.lost

    owner, lost = with_lock(valkey_url, run)

    assert owner == "run-a"
    assert lost is False


def test_held_releases_the_lock_after_the_body(valkey_url: str) -> None:
    client = valkey.Valkey.from_url(valkey_url)

    async def run(lock: ValkeyJobLock) -> None:
        async with held(lock, JOB, "run-a", ttl_seconds=10.0, renew_every_seconds=1.0):
            pass

    with_lock(valkey_url, run)

    assert client.exists(KEY) == 0
    client.close()


def test_held_raises_busy_naming_the_holder(valkey_url: str) -> None:
    async def run(lock: ValkeyJobLock) -> None:
        await lock.acquire(JOB, "run-a", 10.0)
        async with held(lock, JOB, "run-b", ttl_seconds=10.0, renew_every_seconds=1.0):
            pass

    with pytest.raises(JobLockBusyError) as raised:
        with_lock(valkey_url, run)

    assert raised.value.name == JOB
    assert raised.value.holder == "run-a"


def test_lease_is_lost_after_takeover(valkey_url: str) -> None:
    client = valkey.Valkey.from_url(valkey_url)

    async def run(lock: ValkeyJobLock) -> LockLease:
        async with held(
            lock, JOB, "run-a", ttl_seconds=10.0, renew_every_seconds=0.05
        ) as lease:
            # Another process overwrote the key, as after run-a's lock expired.
            await lock.client.set(KEY, "run-b", px=10_000)
            await asyncio.sleep(0.2)
            return lease

    with capture_logs():
        lease = with_lock(valkey_url, run)

    assert lease.lost is True
    assert client.get(KEY) == b"run-b"
    client.close()


def _closed_port() -> int:
    """Return a local port that nothing listens on, so connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_unreachable_valkey_raises_unavailable() -> None:
    url = f"redis://127.0.0.1:{_closed_port()}/15"

    with pytest.raises(JobLockUnavailableError) as raised:
        with_lock(url, lambda lock: lock.acquire(JOB, "run-a", 10.0))

    assert str(raised.value).startswith("cannot reach Valkey for the job lock: ")
    assert isinstance(raised.value.__cause__, valkey.exceptions.ConnectionError)
