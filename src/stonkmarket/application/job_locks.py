"""Job locks: at most one run of a named job at a time, in every process.

A lock has a name (the job), an owner (one run) and a time to live. A run
renews its lock while it works. A run that stalls past the time to live loses
the lock to the next run, and from then on its renew and release return False,
so the stalled run can never extend or delete the new owner's lock.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import structlog

log = structlog.get_logger(__name__)


class JobLock(Protocol):
    """Named locks with an owner and a time to live, shared by every process."""

    async def acquire(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Take the lock for `ttl_seconds` if it is free or expired."""
        ...

    async def renew(self, name: str, owner: str, ttl_seconds: float) -> bool:
        """Reset the time to live to `ttl_seconds` if `owner` still holds the lock."""
        ...

    async def release(self, name: str, owner: str) -> bool:
        """Delete the lock if `owner` holds it, and return False otherwise."""
        ...

    async def owner(self, name: str) -> str | None:
        """Return the current holder of the lock, or None when it is free."""
        ...

    async def close(self) -> None: ...


class JobLockBusyError(Exception):
    """Raised when another run holds the job's lock."""

    def __init__(self, name: str, holder: str | None) -> None:
        super().__init__(
            f"job {name!r} is already running, held by {holder!r}; "
            "wait for that run to finish or for its lock to expire"
        )
        self.name = name
        self.holder = holder


@dataclass(slots=True)
class LockLease:
    """A job lock held by one run, and whether that run has lost it."""

    name: str
    owner: str
    # True once a renewal found another owner, no lock, or a failing lock store.
    # The run should then stop, because another run may start at any moment.
    lost: bool = False


@asynccontextmanager
async def held(
    lock: JobLock,
    name: str,
    owner: str,
    *,
    ttl_seconds: float,
    renew_every_seconds: float,
) -> AsyncIterator[LockLease]:
    """Hold the lock `name` as `owner` for the body, renewing it in the background.

    Raises JobLockBusyError when another owner holds the lock, and ValueError
    when the renewal interval is not shorter than the time to live.
    """
    _check_intervals(ttl_seconds, renew_every_seconds)
    if not await lock.acquire(name, owner, ttl_seconds):
        raise JobLockBusyError(name, await lock.owner(name))

    lease = LockLease(name, owner)
    renewal = asyncio.create_task(
        _renew_until_cancelled(lock, lease, ttl_seconds, renew_every_seconds)
    )
    try:
        yield lease
    finally:
        renewal.cancel()
        # asyncio.wait does not raise the task's CancelledError, so a
        # cancellation of this task itself still propagates.
        await asyncio.wait({renewal})
        await _release(lock, lease)


def _check_intervals(ttl_seconds: float, renew_every_seconds: float) -> None:
    if not math.isfinite(ttl_seconds) or ttl_seconds <= 0:
        raise ValueError(
            f"job lock ttl must be a positive number of seconds, got {ttl_seconds}"
        )
    if not 0 < renew_every_seconds < ttl_seconds:
        raise ValueError(
            "job lock renewal interval must be positive and shorter than the ttl "
            f"of {ttl_seconds} s, got {renew_every_seconds} s"
        )


async def _renew_until_cancelled(
    lock: JobLock, lease: LockLease, ttl_seconds: float, renew_every_seconds: float
) -> None:
    """Renew the lease every `renew_every_seconds` until it is lost or cancelled.

    A failing lock store marks the lease lost but renewal goes on, because the
    lock may still be ours once the store responds again.
    """
    while True:
        await asyncio.sleep(renew_every_seconds)
        try:
            renewed = await lock.renew(lease.name, lease.owner, ttl_seconds)
        # The port does not fix which errors a lock store raises.
        except Exception as exc:
            lease.lost = True
            log.warning(
                "job_lock_renewal_failed",
                job=lease.name,
                owner=lease.owner,
                error=f"{type(exc).__name__}: {exc}",
            )
            continue
        if not renewed:
            lease.lost = True
            log.warning("job_lock_lost", job=lease.name, owner=lease.owner)
            return


async def _release(lock: JobLock, lease: LockLease) -> None:
    """Release the lease, logging rather than raising when that fails."""
    try:
        released = await lock.release(lease.name, lease.owner)
    # The body's own error, if any, matters more than a failed release, and the
    # lock expires by itself after its time to live.
    except Exception as exc:
        log.warning(
            "job_lock_release_failed",
            job=lease.name,
            owner=lease.owner,
            error=f"{type(exc).__name__}: {exc}",
        )
        return
    if not released:
        log.warning(
            "job_lock_not_released",
            job=lease.name,
            owner=lease.owner,
            reason="the lock expired or another owner holds it",
        )
