"""Call budgets in Valkey, shared by every process, or in this process's memory.

Both adapters keep the next free slot, the earliest time the next call may be
made. A caller takes the slot max(now, next free), moves the next free slot one
interval past it, and sleeps until its slot. An idle budget banks no slots, so
after a pause the next call goes at once and the one after waits an interval.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

import valkey.exceptions

from stonkmarket.infrastructure.valkey_client import open_valkey

MICROSECONDS = 1_000_000


class CallBudgetUnavailableError(Exception):
    """Raised when the call budget's store cannot be reached."""


def _interval_seconds(calls_per_second: float) -> float:
    if not math.isfinite(calls_per_second) or calls_per_second <= 0:
        raise ValueError(
            "call budget rate must be a positive number of calls per second, "
            f"got {calls_per_second}"
        )
    return 1 / calls_per_second


# Reserve the next slot in the budget at KEYS[1]. ARGV[1] is the interval
# between calls in microseconds. Returns the wait until the slot, in
# microseconds. The script reads the Valkey server's TIME, so every process
# uses the same clock. Unix time in microseconds stays below 2**53 until the
# year 2255, so Lua's doubles hold it exactly, and string.format stores it
# without exponent notation.
RESERVE_SCRIPT = """
local interval = tonumber(ARGV[1])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, next_free)
local following = slot + interval
redis.call('SET', KEYS[1], string.format('%.0f', following),
    'PX', math.ceil((following - now) / 1000))
return slot - now
"""


class ValkeyCallBudget:
    """A call budget in Valkey, shared by every process that uses the same key.

    The key contains the next free slot in microseconds of server time and
    expires when that slot has passed. Raises CallBudgetUnavailableError when
    Valkey cannot be reached.
    """

    def __init__(
        self,
        url: str,
        *,
        calls_per_second: float,
        key: str = "stonkmarket:call-budget:yfinance",
    ) -> None:
        interval_us = round(_interval_seconds(calls_per_second) * MICROSECONDS)
        if interval_us < 1:
            raise ValueError(
                "call budget rate must be at most 1000000 calls per second, "
                f"got {calls_per_second}"
            )
        self.client = open_valkey(url)
        self.key = key
        self._interval_us = interval_us
        self._reserve = self.client.register_script(RESERVE_SCRIPT)

    async def wait_turn(self) -> float:
        try:
            wait_us = await self._reserve(keys=[self.key], args=[self._interval_us])
        except (
            valkey.exceptions.ConnectionError,
            valkey.exceptions.TimeoutError,
            OSError,
        ) as exc:
            raise CallBudgetUnavailableError(
                f"cannot reach Valkey for the call budget: {type(exc).__name__}: "
                f"{exc}; check that Valkey is running at the configured URL"
            ) from exc
        wait = int(wait_us) / MICROSECONDS
        if wait > 0:
            await asyncio.sleep(wait)
        return wait

    async def close(self) -> None:
        await self.client.aclose()


class InProcessCallBudget:
    """A call budget in this process's memory, for the embedded profile and tests.

    `clock` is a monotonic clock in seconds and `sleep` waits that many seconds.
    """

    def __init__(
        self,
        calls_per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._interval = _interval_seconds(calls_per_second)
        self._clock = clock
        self._sleep = sleep
        self._next_free = -math.inf

    async def wait_turn(self) -> float:
        # Reserving the slot has no await, so no other caller can run between
        # reading and moving the next free slot.
        now = self._clock()
        slot = max(now, self._next_free)
        self._next_free = slot + self._interval
        wait = slot - now
        if wait > 0:
            await self._sleep(wait)
        return wait

    async def close(self) -> None:
        self._next_free = -math.inf
