"""Cached copies of the most-read views, stored as the JSON bytes the API sends.

The ranking of each window, the stored signal of each ticker and window, and
the chart of each ticker are encoded once and cached in a hot store (Valkey in
production, this process's memory in the embedded profile). The store
invalidates every copy when the read models change, so a copy is never older
than the newest committed projection batch.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from typing import Protocol

import msgspec
import structlog

from stonkmarket.application.errors import NotFoundError
from stonkmarket.application.queries import Queries, check_window
from stonkmarket.domain.dips import WINDOWS
from stonkmarket.domain.tickers import normalise_ticker

log = structlog.get_logger(__name__)

Load = Callable[[], Awaitable[bytes]]
LoadMany = Callable[[], Awaitable[dict[str, bytes]]]

# The chart length in days that the frontend requests first. `HotViews.refresh`
# preloads it for every watched ticker.
DEFAULT_CHART_DAYS = 365


class HotStoreStatus(msgspec.Struct, frozen=True, kw_only=True):
    """The kind of hot store and whether it responds."""

    kind: str
    available: bool
    error: str | None = None


class HotStore(Protocol):
    """Cache of encoded views, valid until the read models next change."""

    async def read(self, key: str, load: Load) -> bytes:
        """Return the copy under `key`, loading it once on a miss.

        Concurrent misses of one key share a single `load`. When the store
        does not respond, `load` runs and its bytes are returned uncached.
        """
        ...

    async def refresh(self, load: LoadMany) -> None:
        """Replace the copies that `load` returns now, by key."""
        ...

    async def views_changed(self) -> None:
        """Invalidate every copy, because a projection batch has been committed.

        Never raises. A store that cannot invalidate now sets `owes_change` and
        invalidates before its next read or refresh.
        """
        ...

    @property
    def owes_change(self) -> bool:
        """Whether an invalidation failed and is still pending."""
        ...

    async def status(self) -> HotStoreStatus: ...

    async def close(self) -> None: ...


def etag_of(body: bytes) -> str:
    """Return a strong entity tag for `body`: a quoted 128-bit BLAKE2b digest."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


class HotCopy(msgspec.Struct, frozen=True):
    """The bytes of one response and its entity tag."""

    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> HotCopy:
        return cls(body, etag_of(body))


def encode(value: object) -> bytes:
    """Encode a view as the API's JSON."""
    return msgspec.json.encode(value)


class HotViews:
    """Reads the ranking, stored signals and charts through the hot store."""

    def __init__(self, queries: Queries, store: HotStore) -> None:
        self.queries = queries
        self.store = store

    async def ranking(self, window: int) -> HotCopy:
        """Return the ranking of `window`, which must be one of WINDOWS."""
        check_window(window)
        load = self._encoded(self.queries.ranking, window)
        return HotCopy.of(await self.store.read(f"ranking:{window}", load))

    async def signal(self, raw_ticker: str, window: int) -> HotCopy:
        """Return the signal under current settings and benchmark at the newest bar."""
        ticker = normalise_ticker(raw_ticker)
        check_window(window)
        load = self._encoded(self.queries.signal, ticker, window)
        return HotCopy.of(await self.store.read(f"signal:{ticker}:{window}", load))

    async def chart(self, raw_ticker: str, days: int) -> HotCopy:
        ticker = normalise_ticker(raw_ticker)
        load = self._encoded(self.queries.chart, ticker, days)
        return HotCopy.of(await self.store.read(f"chart:{ticker}:{days}", load))

    async def refresh(self) -> None:
        """Store fresh copies of the rankings, signals and default-length charts.

        The container calls this once the projections have caught up, so the
        first read after a change usually finds its copy stored. Each window's
        signals come from one query.
        """
        for window in WINDOWS:
            await self.store.refresh(self._ranking_copies(window))
            await self.store.refresh(self._signal_copies(window))
        tickers = [symbol.ticker for symbol in await self.queries.symbols()]
        for ticker in tickers:
            with contextlib.suppress(NotFoundError):
                await self.store.refresh(self._chart_copies(ticker))
        log.debug("hot_views_refreshed", tickers=len(tickers))

    def _ranking_copies(self, window: int) -> LoadMany:
        async def load() -> dict[str, bytes]:
            return {f"ranking:{window}": encode(await self.queries.ranking(window))}

        return load

    def _signal_copies(self, window: int) -> LoadMany:
        async def load() -> dict[str, bytes]:
            signals = await self.queries.current_signals(window)
            return {f"signal:{s.ticker}:{window}": encode(s) for s in signals}

        return load

    def _chart_copies(self, ticker: str) -> LoadMany:
        async def load() -> dict[str, bytes]:
            chart = await self.queries.chart(ticker, DEFAULT_CHART_DAYS)
            return {f"chart:{ticker}:{DEFAULT_CHART_DAYS}": encode(chart)}

        return load

    @staticmethod
    def _encoded(query: Callable[..., Awaitable[object]], *args: object) -> Load:
        async def load() -> bytes:
            return encode(await query(*args))

        return load
