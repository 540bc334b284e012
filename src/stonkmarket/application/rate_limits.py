"""Rate limits: a token bucket per key, such as a user or a client address.

A bucket's capacity is `limit` tokens, and it starts full. It refills continuously
at `limit / window_seconds` tokens a second, and each request takes one token,
so a client may send a burst of `limit` requests and then one request every
`window_seconds / limit` seconds. Over any interval of T seconds a key is
allowed at most `limit + T * limit / window_seconds` requests.
"""

from __future__ import annotations

from typing import Protocol

import msgspec


class RateDecision(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of one request against its bucket, with rate-limit header values."""

    allowed: bool
    limit: int
    # Whole tokens left in the bucket after this request.
    remaining: int
    # Seconds until the bucket is full again.
    reset_seconds: float
    # Seconds until one token is available, or 0 when the request was allowed.
    retry_after_seconds: float


class RateLimiterStatus(msgspec.Struct, frozen=True, kw_only=True):
    """The kind of bucket store and whether it responds."""

    kind: str
    available: bool
    error: str | None = None


class RateLimiter(Protocol):
    """Takes tokens from per-key token buckets."""

    async def take(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        """Take one token from the bucket of `key` if it has one.

        `limit` is the bucket's capacity in requests, refilled over
        `window_seconds`. Raises ValueError when `limit` is below 1 or the
        window is not a positive, finite number of seconds.
        """
        ...

    async def status(self) -> RateLimiterStatus: ...

    async def close(self) -> None: ...
