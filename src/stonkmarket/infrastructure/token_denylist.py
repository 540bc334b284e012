"""Token denylists: this process's memory, or Valkey shared by every process.

A logged-out token id is kept until its token expires plus the leeway that
token reading allows, because after that no process accepts the token anyway.
The Valkey denylist fails closed. When Valkey does not respond, `is_denied`
raises DenylistUnavailableError (to be mapped to HTTP 503) instead of
returning False, which would let a logged-out token back in.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections.abc import Callable

from valkey.exceptions import ValkeyError

from stonkmarket.application.tokens import DenylistUnavailableError, now_utc
from stonkmarket.infrastructure.valkey_client import open_valkey

DEFAULT_LEEWAY = dt.timedelta(seconds=10)


class InProcessTokenDenylist:
    """Denied token ids in this process's memory, for the embedded profile.

    Expired entries are dropped on each call, oldest first, in O(log n) each.
    """

    def __init__(
        self,
        *,
        leeway: dt.timedelta = DEFAULT_LEEWAY,
        clock: Callable[[], dt.datetime] = now_utc,
    ) -> None:
        self.leeway = leeway
        self._clock = clock
        self._denied_until: dict[str, dt.datetime] = {}
        self._expiries: list[tuple[dt.datetime, str]] = []

    async def deny(self, token_id: str, until: dt.datetime) -> None:
        self._prune()
        forget_at = until + self.leeway
        if forget_at <= self._clock():
            return
        current = self._denied_until.get(token_id)
        if current is None or forget_at > current:
            self._denied_until[token_id] = forget_at
            heapq.heappush(self._expiries, (forget_at, token_id))

    async def is_denied(self, token_id: str) -> bool:
        self._prune()
        return token_id in self._denied_until

    async def close(self) -> None:
        self._denied_until.clear()
        self._expiries.clear()

    def _prune(self) -> None:
        now = self._clock()
        while self._expiries and self._expiries[0][0] <= now:
            forget_at, token_id = heapq.heappop(self._expiries)
            # Keep the id when a later deny of it pushed a later entry.
            if self._denied_until.get(token_id) == forget_at:
                del self._denied_until[token_id]


class ValkeyTokenDenylist:
    """Denied token ids in Valkey, shared by every API process.

    Each id is a key `<prefix>:<token id>` set with a millisecond expiry that
    ends at the token's expiry plus the leeway, measured by this process's
    clock, the clock that also judges the token's `exp`. Denying an id again
    can extend its expiry but never shorten it (`PEXPIRE ... GT`, which needs
    Valkey, or Redis 7.0 or newer). Both methods raise DenylistUnavailableError
    when Valkey does not respond within `timeout_seconds`.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "stonkmarket:denied",
        leeway: dt.timedelta = DEFAULT_LEEWAY,
        timeout_seconds: float = 0.5,
        clock: Callable[[], dt.datetime] = now_utc,
    ) -> None:
        self.client = open_valkey(url, timeout_seconds=timeout_seconds)
        self.prefix = prefix
        self.leeway = leeway
        self._clock = clock

    async def deny(self, token_id: str, until: dt.datetime) -> None:
        remaining = until + self.leeway - self._clock()
        # Round up, so Valkey never drops the key before expiry plus leeway.
        milliseconds = math.ceil(remaining.total_seconds() * 1000)
        if milliseconds <= 0:
            return
        key = self._key(token_id)
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.set(key, 1, px=milliseconds, nx=True)
                pipe.pexpire(key, milliseconds, gt=True)
                await pipe.execute()
        except (ValkeyError, OSError) as exc:
            raise DenylistUnavailableError(
                "the logout could not be recorded because the token denylist"
                " is unavailable; try again shortly"
            ) from exc

    async def is_denied(self, token_id: str) -> bool:
        try:
            found = await self.client.exists(self._key(token_id))
        except (ValkeyError, OSError) as exc:
            raise DenylistUnavailableError(
                "the token could not be checked because the token denylist"
                " is unavailable; try again shortly"
            ) from exc
        return bool(found)

    async def close(self) -> None:
        await self.client.aclose()

    def _key(self, token_id: str) -> str:
        return f"{self.prefix}:{token_id}"
