"""Job locks in Valkey, shared by every process, or in this process's memory."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import valkey.exceptions

from stonkmarket.infrastructure.valkey_client import open_valkey


class JobLockUnavailableError(Exception):
    """Raised when the lock store cannot be reached."""


def _checked_ttl(ttl_seconds: float) -> float:
    if not math.isfinite(ttl_seconds) or ttl_seconds <= 0:
        raise ValueError(
            f"job lock ttl must be a positive number of seconds, got {ttl_seconds}"
        )
    return ttl_seconds


def _milliseconds(ttl_seconds: float) -> int:
    """Round the ttl up to whole milliseconds, so a lock never expires early."""
    return max(1, math.ceil(_checked_ttl(ttl_seconds) * 1000))


# KEYS[1] is the lock, ARGV[1] the owner and ARGV[2] the ttl in milliseconds.
# Comparing and changing in one script keeps another owner from taking the lock
# in between.
RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS[1] is the lock and ARGV[1] the owner.
RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


@contextmanager
def _unavailable_on_connection_errors() -> Iterator[None]:
    try:
        yield
    except (
        valkey.exceptions.ConnectionError,
        valkey.exceptions.TimeoutError,
        OSError,
    ) as exc:
        raise JobLockUnavailableError(
            f"cannot reach Valkey for the job lock: {type(exc).__name__}: {exc}; "
            "check that Valkey is running at the configured URL"
        ) from exc


class ValkeyJobLock:
    """Job locks as Valkey strings under `<prefix><name>` that contain the owner.

    Each lock expires after its ttl, so a crashed run frees it by itself.
    Raises JobLockUnavailableError when Valkey cannot be reached.
    """

    def __init__(self, url: str, *, prefix: str = "stonkmarket:job-lock:") -> None:
        self.client = open_valkey(url)
        self.prefix = prefix
        self._renew = self.client.register_script(RENEW_SCRIPT)
        self._release = self.client.register_script(RELEASE_SCRIPT)

    async def acquire(self, name: str, owner: str, ttl_seconds: float) -> bool:
        ttl_ms = _milliseconds(ttl_seconds)
        with _unavailable_on_connection_errors():
            acquired = await self.client.set(
                self.prefix + name, owner, nx=True, px=ttl_ms
            )
        return acquired is True

    async def renew(self, name: str, owner: str, ttl_seconds: float) -> bool:
        ttl_ms = _milliseconds(ttl_seconds)
        with _unavailable_on_connection_errors():
            renewed: int = await self._renew(
                keys=[self.prefix + name], args=[owner, ttl_ms]
            )
        return renewed == 1

    async def release(self, name: str, owner: str) -> bool:
        with _unavailable_on_connection_errors():
            deleted: int = await self._release(keys=[self.prefix + name], args=[owner])
        return deleted == 1

    async def owner(self, name: str) -> str | None:
        with _unavailable_on_connection_errors():
            stored: bytes | None = await self.client.get(self.prefix + name)
        return None if stored is None else stored.decode()

    async def close(self) -> None:
        await self.client.aclose()


class InProcessJobLock:
    """Job locks in this process's memory, for the embedded profile and tests.

    A lock expires `ttl_seconds` after it was taken or last renewed, judged by
    `clock`, a monotonic clock in seconds.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._locks: dict[str, tuple[str, float]] = {}

    def _holder(self, name: str) -> str | None:
        """Return the unexpired holder of `name`, dropping an expired lock."""
        entry = self._locks.get(name)
        if entry is None:
            return None
        holder, expires_at = entry
        if expires_at <= self._clock():
            del self._locks[name]
            return None
        return holder

    async def acquire(self, name: str, owner: str, ttl_seconds: float) -> bool:
        expires_at = self._clock() + _checked_ttl(ttl_seconds)
        if self._holder(name) is not None:
            return False
        self._locks[name] = (owner, expires_at)
        return True

    async def renew(self, name: str, owner: str, ttl_seconds: float) -> bool:
        expires_at = self._clock() + _checked_ttl(ttl_seconds)
        if self._holder(name) != owner:
            return False
        self._locks[name] = (owner, expires_at)
        return True

    async def release(self, name: str, owner: str) -> bool:
        if self._holder(name) != owner:
            return False
        del self._locks[name]
        return True

    async def owner(self, name: str) -> str | None:
        return self._holder(name)

    async def close(self) -> None:
        self._locks.clear()
