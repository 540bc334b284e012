"""Hot stores: in this process's memory, or in Valkey shared by every process.

Both keep a generation number that is incremented after each committed
projection batch. A copy is stamped with the generation that was current when
its load began. Every load begins after that generation's batch was committed,
so a copy is never older than the views of its generation. Incrementing the
generation invalidates every older copy at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time

import structlog
from valkey.exceptions import ValkeyError

from stonkmarket.application.hot_views import HotStoreStatus, Load, LoadMany
from stonkmarket.infrastructure.valkey_client import open_valkey

log = structlog.get_logger(__name__)


class SingleFlight:
    """Runs one load per key at a time in this process and shares its result."""

    def __init__(self) -> None:
        self._loads: dict[str, asyncio.Future[bytes]] = {}

    async def run(self, key: str, load: Load) -> bytes:
        pending = self._loads.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._loads[key] = future
        try:
            body = await load()
        except BaseException as exc:
            future.set_exception(exc)
            # Mark the exception as retrieved, so asyncio does not log "Future
            # exception was never retrieved" when no caller was waiting. The
            # exception is re-raised below, and any waiters receive it too.
            future.exception()
            raise
        else:
            future.set_result(body)
            return body
        finally:
            del self._loads[key]


class InProcessHotStore:
    """Hot copies in this process's memory, for the embedded profile."""

    def __init__(self) -> None:
        self._generation = 0
        self._copies: dict[str, bytes] = {}
        self._flights = SingleFlight()

    async def read(self, key: str, load: Load) -> bytes:
        generation = self._generation
        body = self._copies.get(key)
        if body is not None:
            return body

        async def load_and_store() -> bytes:
            loaded = await load()
            if generation == self._generation:
                self._copies[key] = loaded
            return loaded

        return await self._flights.run(f"{generation}:{key}", load_and_store)

    async def refresh(self, load: LoadMany) -> None:
        generation = self._generation
        copies = await load()
        if generation == self._generation:
            self._copies.update(copies)

    async def views_changed(self) -> None:
        self._generation += 1
        self._copies.clear()

    @property
    def owes_change(self) -> bool:
        return False

    async def status(self) -> HotStoreStatus:
        return HotStoreStatus(kind="in-process", available=True)

    async def close(self) -> None:
        self._copies.clear()


# Delete a lock only while it still contains the caller's token.
RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


class ValkeyHotStore:
    """Hot copies in Valkey, shared by every API process and projector.

    Each copy is stored under its view's key as `<generation>\n<body>`. A read
    fetches the current generation and the copy in one MGET and uses the copy
    only when the generations match. A miss takes a short lock in Valkey, so a
    burst of requests from several processes makes one database query while
    the others wait for the copy. When Valkey does not respond, reads go to
    the database and the store retries Valkey after `retry_seconds`.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "stonkmarket:hot",
        ttl_seconds: int = 300,
        lock_seconds: float = 10.0,
        retry_seconds: float = 1.0,
        timeout_seconds: float = 0.5,
    ) -> None:
        self.client = open_valkey(url, timeout_seconds=timeout_seconds)
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds
        self.lock_seconds = lock_seconds
        self.retry_seconds = retry_seconds
        self._release = self.client.register_script(RELEASE_SCRIPT)
        self._flights = SingleFlight()
        self._down_until = 0.0
        self._error: str | None = None
        # True while a generation increment failed because Valkey was down. The
        # next read, refresh or invalidation retries it.
        self._owes_change = False

    @property
    def _generation_key(self) -> str:
        return f"{self.prefix}:generation"

    async def read(self, key: str, load: Load) -> bytes:
        if self._is_down():
            return await load()
        valkey_key = f"{self.prefix}:{key}"
        try:
            await self._settle_owed_change()
            generation, copy = await self.client.mget(self._generation_key, valkey_key)
        except (ValkeyError, OSError) as exc:
            self._went_down(exc)
            return await load()
        stamp = generation or b"0"
        body = _unstamped(copy, stamp)
        if body is not None:
            return body
        return await self._flights.run(
            f"{stamp.decode()}:{key}", lambda: self._load_once(valkey_key, stamp, load)
        )

    async def _load_once(self, valkey_key: str, stamp: bytes, load: Load) -> bytes:
        """Load under a Valkey lock, or wait for the process that holds the lock."""
        lock = f"{valkey_key}:lock:{stamp.decode()}"
        token = secrets.token_hex(16)
        try:
            won = await self.client.set(
                lock, token, nx=True, px=int(self.lock_seconds * 1000)
            )
            if not won:
                waited = await self._wait_for(valkey_key, stamp)
                if waited is not None:
                    return waited
                return await load()
            # Another loader may have stored the copy and released the lock
            # between this reader's miss and its lock, so check again.
            stored_copy = _unstamped(await self.client.get(valkey_key), stamp)
        except (ValkeyError, OSError) as exc:
            self._went_down(exc)
            return await load()
        try:
            if stored_copy is not None:
                return stored_copy
            body = await load()
            with contextlib.suppress(ValkeyError, OSError):
                await self._store_copy(valkey_key, stamp, body)
            return body
        finally:
            with contextlib.suppress(ValkeyError, OSError):
                await self._release(keys=[lock], args=[token])

    async def _wait_for(self, valkey_key: str, stamp: bytes) -> bytes | None:
        """Poll for the copy another process is loading, for up to `lock_seconds`."""
        deadline = time.monotonic() + self.lock_seconds
        delay = 0.005
        while time.monotonic() < deadline:
            await asyncio.sleep(delay)
            body = _unstamped(await self.client.get(valkey_key), stamp)
            if body is not None:
                return body
            delay = min(delay * 2, 0.05)
        return None

    async def _store_copy(self, valkey_key: str, stamp: bytes, body: bytes) -> None:
        await self.client.set(valkey_key, _stamped(stamp, body), ex=self.ttl_seconds)

    async def refresh(self, load: LoadMany) -> None:
        if self._is_down():
            return
        try:
            await self._settle_owed_change()
            stamp = await self.client.get(self._generation_key) or b"0"
        except (ValkeyError, OSError) as exc:
            self._went_down(exc)
            return
        copies = await load()
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for key, body in copies.items():
                    valkey_key = f"{self.prefix}:{key}"
                    pipe.set(valkey_key, _stamped(stamp, body), ex=self.ttl_seconds)
                await pipe.execute()
        except (ValkeyError, OSError) as exc:
            self._went_down(exc)

    async def views_changed(self) -> None:
        self._owes_change = True
        if self._is_down():
            return
        try:
            await self._settle_owed_change()
        except (ValkeyError, OSError) as exc:
            self._went_down(exc)

    @property
    def owes_change(self) -> bool:
        return self._owes_change

    async def _settle_owed_change(self) -> None:
        if self._owes_change:
            await self.client.incr(self._generation_key)
            self._owes_change = False

    async def status(self) -> HotStoreStatus:
        try:
            await self.client.ping()
        except (ValkeyError, OSError) as exc:
            self._went_down(exc)
            return HotStoreStatus(kind="valkey", available=False, error=self._error)
        self._down_until = 0.0
        return HotStoreStatus(kind="valkey", available=True)

    async def close(self) -> None:
        await self.client.aclose()

    def _is_down(self) -> bool:
        return time.monotonic() < self._down_until

    def _went_down(self, exc: BaseException) -> None:
        if not self._is_down():
            log.warning("valkey_unavailable", error=str(exc))
        self._error = f"{type(exc).__name__}: {exc}"
        self._down_until = time.monotonic() + self.retry_seconds


def _stamped(stamp: bytes, body: bytes) -> bytes:
    """Return a copy as stored: its generation, a newline, then the body."""
    return stamp + b"\n" + body


def _unstamped(copy: bytes | None, stamp: bytes) -> bytes | None:
    """Return the body of a copy stamped with `stamp`, else None."""
    if copy is None:
        return None
    copy_stamp, _, body = copy.partition(b"\n")
    return body if copy_stamp == stamp else None
