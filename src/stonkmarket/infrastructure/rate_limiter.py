"""Token buckets: in this process's memory, or in Valkey shared by every process.

Both adapters store a bucket's level as an integer in units of 1/window_us of
a token, where window_us is the window in microseconds. One microsecond of
refill then adds exactly `limit` units and a request takes exactly window_us
units, so rounding can never let a request through early. Lua in Valkey
computes with doubles, which represent integers exactly only up to 2**53, so
`limit * window_us` must not exceed 2**53.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from valkey.exceptions import ValkeyError

from stonkmarket.application.rate_limits import RateDecision, RateLimiterStatus
from stonkmarket.infrastructure.valkey_client import open_valkey

log = structlog.get_logger(__name__)

MICROSECONDS = 1_000_000
MAX_CAPACITY = 2**53


def _window_microseconds(limit: int, window_seconds: float) -> int:
    """Validate the limit and window, and return the window in whole microseconds.

    Raises ValueError when either is invalid or their product exceeds 2**53.
    """
    if limit < 1:
        raise ValueError(f"rate limit must be at least 1 request, got {limit}")
    if not math.isfinite(window_seconds) or window_seconds <= 0:
        raise ValueError(
            "rate limit window must be a positive number of seconds, "
            f"got {window_seconds}"
        )
    window_us = round(window_seconds * MICROSECONDS)
    if window_us < 1:
        raise ValueError(
            f"rate limit window must be at least 1 microsecond, got {window_seconds} s"
        )
    if limit * window_us > MAX_CAPACITY:
        raise ValueError(
            f"rate limit of {limit} requests per {window_seconds} s is too large: "
            "the limit times the window in microseconds must not exceed 2**53; "
            "use a smaller limit or a shorter window"
        )
    return window_us


def _ceil_div(numerator: int, denominator: int) -> int:
    return -(-numerator // denominator)


def _decision(allowed: bool, level: int, limit: int, window_us: int) -> RateDecision:
    """Build the decision for a bucket left at `level`, rounding times up to 1 µs."""
    capacity = limit * window_us
    reset_us = _ceil_div(capacity - level, limit)
    retry_us = 0 if allowed else _ceil_div(window_us - level, limit)
    return RateDecision(
        allowed=allowed,
        limit=limit,
        remaining=level // window_us,
        reset_seconds=reset_us / MICROSECONDS,
        retry_after_seconds=retry_us / MICROSECONDS,
    )


@dataclass(slots=True)
class _Bucket:
    level: int
    window_us: int
    refilled_at_us: int
    full_at_us: int


class InProcessRateLimiter:
    """Token buckets in this process's memory, for the embedded profile.

    A missing bucket counts as full, so a sweep drops buckets that have refilled
    completely. `take` runs the sweep at most once every `sweep_seconds`. Past
    `max_keys` buckets, the least recently used one is dropped, which gives
    that key a full bucket again.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
        sweep_seconds: float = 60.0,
    ) -> None:
        self._clock = clock
        self.max_keys = max_keys
        self._sweep_us = round(sweep_seconds * MICROSECONDS)
        # Insertion order is the order of last use, because `take` re-inserts
        # the bucket on every call.
        self._buckets: dict[str, _Bucket] = {}
        self._next_sweep_us: int | None = None

    async def take(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        window_us = _window_microseconds(limit, window_seconds)
        capacity = limit * window_us
        now = round(self._clock() * MICROSECONDS)

        bucket = self._buckets.pop(key, None)
        level = capacity if bucket is None else _refilled(bucket, now, limit, window_us)
        allowed = level >= window_us
        if allowed:
            level -= window_us

        full_at = now + _ceil_div(capacity - level, limit)
        self._buckets[key] = _Bucket(level, window_us, now, full_at)
        self._drop_full_and_excess(now)
        return _decision(allowed, level, limit, window_us)

    def _drop_full_and_excess(self, now: int) -> None:
        if self._next_sweep_us is None or now >= self._next_sweep_us:
            self._buckets = {
                key: bucket
                for key, bucket in self._buckets.items()
                if bucket.full_at_us > now
            }
            self._next_sweep_us = now + self._sweep_us
        while len(self._buckets) > self.max_keys:
            del self._buckets[next(iter(self._buckets))]

    @property
    def bucket_count(self) -> int:
        """The number of buckets in memory."""
        return len(self._buckets)

    async def status(self) -> RateLimiterStatus:
        return RateLimiterStatus(kind="in-process", available=True)

    async def close(self) -> None:
        self._buckets.clear()


def _refilled(bucket: _Bucket, now: int, limit: int, window_us: int) -> int:
    """Return the bucket's level at `now`, in units of the current window."""
    level = bucket.level
    if bucket.window_us != window_us:
        level = level * window_us // bucket.window_us
    elapsed = max(0, now - bucket.refilled_at_us)
    return min(limit * window_us, level + min(elapsed, window_us) * limit)


# Take one token from the bucket at KEYS[1]. ARGV[1] is the limit in requests
# and ARGV[2] the window in microseconds. Returns {allowed (0 or 1), level}.
# The script reads the Valkey server's TIME, so every API process uses the same
# clock.
TAKE_SCRIPT = """
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local capacity = limit * window
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])

local level = capacity
local stored = redis.call('HMGET', KEYS[1], 'level', 'window_us', 'refilled_at_us')
if stored[1] then
    level = tonumber(stored[1])
    local stored_window = tonumber(stored[2])
    if stored_window ~= window then
        level = math.floor(level / stored_window * window)
    end
    local elapsed = math.max(0, now - tonumber(stored[3]))
    local refill = math.min(elapsed, window) * limit
    if refill >= capacity - level then
        level = capacity
    else
        level = level + refill
    end
end

local allowed = 0
if level >= window then
    level = level - window
    allowed = 1
end
redis.call('HSET', KEYS[1], 'level', level, 'window_us', window,
    'refilled_at_us', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - level) / limit / 1000))
return {allowed, level}
"""


class ValkeyRateLimiter:
    """Token buckets in Valkey, shared by every API process.

    Each take runs one Lua script atomically, so concurrent requests from any
    number of processes never share a token. A bucket is a hash under
    `<prefix>:<key>` that contains its level and the server time of its last
    refill. It expires when it would be full again, so idle keys disappear.

    When Valkey does not respond, or returns an error, an in-process bucket for
    the same key decides the request instead. The API keeps serving requests
    and still limits each key in each process. That bucket starts full, so
    during an outage a key may get up to `limit` extra requests from each
    process. The first fallback logs `rate_limiter_fell_back` at WARNING, and
    Valkey is retried `retry_seconds` later. The first take that succeeds after
    a fallback logs `rate_limiter_recovered`.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "stonkmarket:rate",
        retry_seconds: float = 1.0,
        timeout_seconds: float = 0.5,
    ) -> None:
        self.client = open_valkey(url, timeout_seconds=timeout_seconds)
        self.prefix = prefix
        self.retry_seconds = retry_seconds
        self._take = self.client.register_script(TAKE_SCRIPT)
        self._fallback = InProcessRateLimiter()
        self._falling_back = False
        self._down_until = 0.0

    async def take(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        window_us = _window_microseconds(limit, window_seconds)
        if time.monotonic() >= self._down_until:
            try:
                allowed, level = await self._take(
                    keys=[f"{self.prefix}:{key}"], args=[limit, window_us]
                )
            except (ValkeyError, OSError) as exc:
                self._fall_back(exc)
            else:
                self._recover()
                return _decision(allowed == 1, int(level), limit, window_us)
        return await self._fallback.take(key, limit, window_seconds)

    def _fall_back(self, exc: BaseException) -> None:
        self._down_until = time.monotonic() + self.retry_seconds
        if not self._falling_back:
            self._falling_back = True
            log.warning(
                "rate_limiter_fell_back",
                error=f"{type(exc).__name__}: {exc}",
                retry_seconds=self.retry_seconds,
            )

    def _recover(self) -> None:
        if self._falling_back:
            self._falling_back = False
            log.info("rate_limiter_recovered")

    async def status(self) -> RateLimiterStatus:
        try:
            await self.client.ping()
        except (ValkeyError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            return RateLimiterStatus(kind="valkey", available=False, error=error)
        return RateLimiterStatus(kind="valkey", available=True)

    async def close(self) -> None:
        await self.client.aclose()
        await self._fallback.close()
