"""The in-process job lock on a clock the tests move by hand, and `held` on it.

The `held` tests renew every 0.01 s of real time, so a few hundredths of a
second of sleep let the background renewal run several times.
"""

from __future__ import annotations

import asyncio

import pytest
import structlog
from structlog.testing import capture_logs

from stonkmarket.application import job_locks
from stonkmarket.application.job_locks import JobLockBusyError, LockLease, held
from stonkmarket.infrastructure.job_lock import InProcessJobLock

JOB = "refresh-prices"


@pytest.fixture
def fresh_logger(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give the module a logger not yet bound to an earlier test's configuration.

    structlog caches a module's logger on first use; a later
    configure_logging (a command-line test) leaves it writing past
    capture_logs.
    """
    monkeypatch.setattr(job_locks, "log", structlog.get_logger(job_locks.__name__))


class FakeClock:
    """A monotonic clock in seconds that moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class StoreDownJobLock(InProcessJobLock):
    """An in-process lock whose renew and release fail like an unreachable store."""

    async def renew(self, name: str, owner: str, ttl_seconds: float) -> bool:
        raise ConnectionError("lock store is down")

    async def release(self, name: str, owner: str) -> bool:
        raise ConnectionError("lock store is down")


def test_free_lock_is_acquired() -> None:
    lock = InProcessJobLock(clock=FakeClock())

    acquired = asyncio.run(lock.acquire(JOB, "run-a", 10.0))

    assert acquired is True
    assert asyncio.run(lock.owner(JOB)) == "run-a"


def test_free_lock_has_no_owner() -> None:
    lock = InProcessJobLock(clock=FakeClock())

    assert asyncio.run(lock.owner(JOB)) is None


def test_busy_lock_is_rejected() -> None:
    lock = InProcessJobLock(clock=FakeClock())
    asyncio.run(lock.acquire(JOB, "run-a", 10.0))

    acquired = asyncio.run(lock.acquire(JOB, "run-b", 10.0))

    assert acquired is False
    assert asyncio.run(lock.owner(JOB)) == "run-a"


def test_owner_cannot_reacquire_its_lock() -> None:
    lock = InProcessJobLock(clock=FakeClock())
    asyncio.run(lock.acquire(JOB, "run-a", 10.0))

    assert asyncio.run(lock.acquire(JOB, "run-a", 10.0)) is False


def test_locks_of_different_jobs_are_separate() -> None:
    lock = InProcessJobLock(clock=FakeClock())
    asyncio.run(lock.acquire(JOB, "run-a", 10.0))

    acquired = asyncio.run(lock.acquire("score-dips", "run-b", 10.0))

    assert acquired is True


def test_lock_expires_after_its_ttl() -> None:
    clock = FakeClock()
    lock = InProcessJobLock(clock=clock)
    asyncio.run(lock.acquire(JOB, "run-a", 10.0))

    clock.now += 10.0

    assert asyncio.run(lock.owner(JOB)) is None
    assert asyncio.run(lock.acquire(JOB, "run-b", 10.0)) is True


def test_lock_is_held_until_its_ttl() -> None:
    clock = FakeClock()
    lock = InProcessJobLock(clock=clock)
    asyncio.run(lock.acquire(JOB, "run-a", 10.0))

    clock.now += 9.999

    assert asyncio.run(lock.owner(JOB)) == "run-a"


def test_renew_by_the_owner_extends_the_ttl() -> None:
    clock = FakeClock()
    lock = InProcessJobLock(clock=clock)
    asyncio.run(lock.acquire(JOB, "run-a", 10.0))
    clock.now += 8.0

    renewed = asyncio.run(lock.renew(JOB, "run-a", 10.0))
    clock.now += 8.0

    assert renewed is True
    assert asyncio.run(lock.owner(JOB)) == "run-a"


def test_renew_by_another_owner_is_rejected() -> None:
    clock = FakeClock()
    lock = InProcessJobLock(clock=clock)
    asyncio.run(lock.acquire(JOB, "run-a", 10.0))

    renewed = asyncio.run(lock.renew(JOB, "run-b", 60.0))
    clock.now += 10.0

    assert renewed is False
    assert asyncio.run(lock.owner(JOB)) is None


def test_release_by_the_owner_frees_the_lock() -> None:
    lock = InProcessJobLock(clock=FakeClock())
    asyncio.run(lock.acquire(JOB, "run-a", 10.0))

    released = asyncio.run(lock.release(JOB, "run-a"))

    assert released is True
    assert asyncio.run(lock.owner(JOB)) is None


def test_release_by_another_owner_leaves_the_lock() -> None:
    lock = InProcessJobLock(clock=FakeClock())
    asyncio.run(lock.acquire(JOB, "run-a", 10.0))

    released = asyncio.run(lock.release(JOB, "run-b"))

    assert released is False
    assert asyncio.run(lock.owner(JOB)) == "run-a"


def test_stalled_run_cannot_release_the_new_owners_lock() -> None:
    clock = FakeClock()
    lock = InProcessJobLock(clock=clock)
    asyncio.run(lock.acquire(JOB, "run-a", 1.0))
    clock.now += 1.5
    asyncio.run(lock.acquire(JOB, "run-b", 10.0))

    released = asyncio.run(lock.release(JOB, "run-a"))

    assert released is False
    assert asyncio.run(lock.owner(JOB)) == "run-b"


def test_stalled_run_cannot_renew_the_new_owners_lock() -> None:
    clock = FakeClock()
    lock = InProcessJobLock(clock=clock)
    asyncio.run(lock.acquire(JOB, "run-a", 1.0))
    clock.now += 1.5
    asyncio.run(lock.acquire(JOB, "run-b", 10.0))

    renewed = asyncio.run(lock.renew(JOB, "run-a", 10.0))

    assert renewed is False
    assert asyncio.run(lock.owner(JOB)) == "run-b"


def test_zero_ttl_is_rejected() -> None:
    lock = InProcessJobLock(clock=FakeClock())

    with pytest.raises(
        ValueError, match=r"^job lock ttl must be a positive number of seconds, got 0"
    ):
        asyncio.run(lock.acquire(JOB, "run-a", 0.0))


def test_held_lock_is_owned_inside_body() -> None:
    lock = InProcessJobLock()

    async def run() -> str | None:
        async with held(lock, JOB, "run-a", ttl_seconds=1.0, renew_every_seconds=0.5):
            return await lock.owner(JOB)

    assert asyncio.run(run()) == "run-a"


def test_held_lock_is_released_after_the_body() -> None:
    lock = InProcessJobLock()

    async def run() -> None:
        async with held(lock, JOB, "run-a", ttl_seconds=1.0, renew_every_seconds=0.5):
            pass

    asyncio.run(run())

    assert asyncio.run(lock.owner(JOB)) is None


def test_held_lock_is_released_when_the_body_raises() -> None:
    lock = InProcessJobLock()

    async def run() -> None:
        async with held(lock, JOB, "run-a", ttl_seconds=1.0, renew_every_seconds=0.5):
            raise RuntimeError("price source failed")

    with pytest.raises(RuntimeError, match=r"^price source failed$"):
        asyncio.run(run())

    assert asyncio.run(lock.owner(JOB)) is None


def test_held_raises_busy_naming_the_holder() -> None:
    lock = InProcessJobLock()
    asyncio.run(lock.acquire(JOB, "run-a", 60.0))

    async def run() -> None:
        async with held(lock, JOB, "run-b", ttl_seconds=1.0, renew_every_seconds=0.5):
            pass

    with pytest.raises(JobLockBusyError) as raised:
        asyncio.run(run())

    assert raised.value.name == JOB
    assert raised.value.holder == "run-a"
    assert str(raised.value) == (
        "job 'refresh-prices' is already running, held by 'run-a'; "
        "wait for that run to finish or for its lock to expire"
    )


def test_held_renews_past_the_ttl_on_the_clock() -> None:
    clock = FakeClock()
    lock = InProcessJobLock(clock=clock)

    async def run() -> tuple[str | None, bool]:
        async with held(
            lock, JOB, "run-a", ttl_seconds=1.0, renew_every_seconds=0.01
        ) as lease:
            for _ in range(5):
                # Each step is under the ttl, and a renewal follows each one.
                clock.now += 0.9
                await asyncio.sleep(0.03)
            return await lock.owner(JOB), lease.lost

    owner, lost = asyncio.run(run())

    assert owner == "run-a"
    assert lost is False


@pytest.mark.usefixtures("fresh_logger")
def test_lease_is_lost_after_takeover() -> None:
    clock = FakeClock()
    lock = InProcessJobLock(clock=clock)

    async def run() -> LockLease:
        async with held(
            lock, JOB, "run-a", ttl_seconds=1.0, renew_every_seconds=0.01
        ) as lease:
            clock.now += 1.0
            await lock.acquire(JOB, "run-b", 60.0)
            await asyncio.sleep(0.05)
            return lease

    with capture_logs() as logs:
        lease = asyncio.run(run())

    assert lease.lost is True
    assert asyncio.run(lock.owner(JOB)) == "run-b"
    assert {
        "event": "job_lock_lost",
        "job": JOB,
        "owner": "run-a",
        "log_level": "warning",
    } in logs


def test_lease_is_lost_when_the_store_fails() -> None:
    lock = StoreDownJobLock()

    async def run() -> LockLease:
        async with held(
            lock, JOB, "run-a", ttl_seconds=1.0, renew_every_seconds=0.01
        ) as lease:
            await asyncio.sleep(0.05)
            return lease

    with capture_logs():
        lease = asyncio.run(run())

    assert lease.lost is True


@pytest.mark.usefixtures("fresh_logger")
def test_failed_release_is_logged_not_raised() -> None:
    lock = StoreDownJobLock()

    async def run() -> None:
        async with held(lock, JOB, "run-a", ttl_seconds=1.0, renew_every_seconds=0.5):
            pass

    with capture_logs() as logs:
        asyncio.run(run())

    assert logs == [
        {
            "event": "job_lock_release_failed",
            "job": JOB,
            "owner": "run-a",
            "error": "ConnectionError: lock store is down",
            "log_level": "warning",
        }
    ]


def test_held_rejects_renewal_no_shorter_than_the_ttl() -> None:
    lock = InProcessJobLock()

    async def run() -> None:
        async with held(lock, JOB, "run-a", ttl_seconds=1.0, renew_every_seconds=1.0):
            pass

    with pytest.raises(
        ValueError,
        match=r"^job lock renewal interval must be positive and shorter than the "
        r"ttl of 1.0 s, got 1.0 s$",
    ):
        asyncio.run(run())

    assert asyncio.run(lock.owner(JOB)) is None
