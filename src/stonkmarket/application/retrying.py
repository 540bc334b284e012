"""Retries with exponential backoff and full jitter.

Retry n, counting from 1, waits a random time between 0 and the ceiling
min(max_seconds, base_seconds * 2 ** (n - 1)). Full jitter spreads callers that
failed together, so their retries do not arrive together again.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# 2.0 ** 1024 overflows a float, and any ceiling doubled 1000 times is past
# every sensible max_seconds already.
_MAX_DOUBLINGS = 1000


def backoff_ceiling(retry: int, base_seconds: float, max_seconds: float) -> float:
    """Return the longest wait before retry `retry`, counting from 1, in seconds."""
    if retry < 1:
        raise ValueError(f"retry number must be at least 1, got {retry}")
    doubled = base_seconds * 2.0 ** min(retry - 1, _MAX_DOUBLINGS)
    return min(max_seconds, doubled)


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    retry_on: tuple[type[BaseException], ...],
    attempts: int,
    base_seconds: float,
    max_seconds: float,
    on_retry: Callable[[int, BaseException, float], Awaitable[None]] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rand: Callable[[], float] = random.random,
) -> T:
    """Await `call` up to `attempts` times while it raises one of `retry_on`.

    Before each retry, awaits `on_retry(retry, error, delay)` and then sleeps
    `delay` seconds. Re-raises the last error once the attempts are used up.
    Errors not in `retry_on` propagate at once.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    if base_seconds < 0 or max_seconds < 0:
        raise ValueError(
            "backoff base and maximum must not be negative, "
            f"got {base_seconds} s and {max_seconds} s"
        )

    retry = 0
    while True:
        try:
            return await call()
        except retry_on as error:
            retry += 1
            if retry >= attempts:
                raise
            delay = rand() * backoff_ceiling(retry, base_seconds, max_seconds)
            if on_retry is not None:
                await on_retry(retry, error, delay)
            await sleep(delay)
