"""Queries: answers read from the read models, never from the event store."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from stonkmarket.application.errors import NotFoundError
from stonkmarket.application.signals import build_signal
from stonkmarket.application.views import (
    Chart,
    RankingRow,
    SettingsView,
    Signal,
    SymbolView,
)
from stonkmarket.domain.dips import WINDOWS, PriceSeries
from stonkmarket.domain.errors import ThresholdOutOfRangeError
from stonkmarket.domain.tickers import normalise_ticker


class ReadModels(Protocol):
    """The read models as queries see them."""

    async def symbols(self) -> list[SymbolView]: ...
    async def symbol(self, ticker: str) -> SymbolView | None: ...
    async def settings(self) -> SettingsView: ...
    async def series(
        self, ticker: str, until: dt.date | None = None
    ) -> PriceSeries | None: ...
    async def chart(self, ticker: str, days: int) -> Chart | None: ...
    async def ranking(self, window: int) -> list[RankingRow]: ...
    async def latest_signal(
        self, ticker: str, window: int, benchmark: str
    ) -> Signal | None: ...


def check_window(window: int) -> int:
    """Return the window, or raise when it is not one the finder measures."""
    if window not in WINDOWS:
        raise ThresholdOutOfRangeError(
            f"window must be one of {', '.join(map(str, WINDOWS))} days, got {window}",
            field="window",
        )
    return window


class Queries:
    """Everything the API and the CLI ask, answered the same way for both."""

    def __init__(self, views: ReadModels) -> None:
        self.views = views

    async def symbols(self) -> list[SymbolView]:
        return await self.views.symbols()

    async def symbol(self, raw_ticker: str) -> SymbolView:
        ticker = normalise_ticker(raw_ticker)
        symbol = await self.views.symbol(ticker)
        if symbol is None:
            raise NotFoundError(f"{ticker} is not on the watchlist", field="ticker")
        return symbol

    async def settings(self) -> SettingsView:
        return await self.views.settings()

    async def chart(self, raw_ticker: str, days: int) -> Chart:
        ticker = normalise_ticker(raw_ticker)
        if not 1 <= days <= 36_600:
            raise ThresholdOutOfRangeError(
                f"days must be from 1 to 36600, got {days}", field="days"
            )
        chart = await self.views.chart(ticker, days)
        if chart is None:
            raise NotFoundError(f"no prices recorded for {ticker}", field="ticker")
        return chart

    async def ranking(
        self, window: int, as_of: dt.date | None = None
    ) -> list[RankingRow]:
        """Watched tickers, deepest dip first."""
        check_window(window)
        if as_of is None:
            return await self.views.ranking(window)
        signals = [
            signal
            for symbol in await self.views.symbols()
            if (signal := await self._computed(symbol.ticker, window, None, as_of))
        ]
        signals.sort(key=lambda s: (-s.dip_stock, s.ticker))
        return [_ranking_row(rank, s) for rank, s in enumerate(signals, start=1)]

    async def signal(
        self,
        raw_ticker: str,
        window: int,
        benchmark: str | None = None,
        as_of: dt.date | None = None,
    ) -> Signal:
        """The signal of one ticker, stored when current, computed for a past date."""
        ticker = normalise_ticker(raw_ticker)
        check_window(window)
        chosen = await self._benchmark(benchmark)
        if as_of is None:
            stored = await self.views.latest_signal(ticker, window, chosen)
            if stored is not None:
                return stored
        signal = await self._computed(ticker, window, chosen, as_of)
        if signal is None:
            when = "" if as_of is None else f" on or before {as_of.isoformat()}"
            raise NotFoundError(
                f"no prices recorded for {ticker}{when}", field="ticker"
            )
        return signal

    async def signals(
        self,
        raw_tickers: list[str],
        window: int,
        benchmark: str | None = None,
        as_of: dt.date | None = None,
    ) -> list[Signal]:
        """Signals of several tickers; all watched tickers when none are named."""
        tickers = raw_tickers or [s.ticker for s in await self.views.symbols()]
        return [await self.signal(t, window, benchmark, as_of) for t in tickers]

    async def _benchmark(self, benchmark: str | None) -> str:
        if benchmark is None:
            settings = await self.views.settings()
            return str(settings.values["benchmark"])
        return normalise_ticker(benchmark)

    async def _computed(
        self, ticker: str, window: int, benchmark: str | None, as_of: dt.date | None
    ) -> Signal | None:
        chosen = await self._benchmark(benchmark)
        stock = await self.views.series(ticker, until=as_of)
        if stock is None:
            return None
        return build_signal(
            ticker,
            window,
            stock,
            benchmark=chosen,
            benchmark_series=await self.views.series(chosen, until=as_of),
            as_of=as_of,
            settings=await self.views.settings(),
            symbol=await self.views.symbol(ticker),
        )


def _ranking_row(rank: int, s: Signal) -> RankingRow:
    return RankingRow(
        rank=rank,
        ticker=s.ticker,
        window=s.window,
        as_of_date=s.as_of_date,
        current_price=s.current_price,
        peak_stock=s.peak_stock,
        peak_date=s.peak_date,
        dip_stock=s.dip_stock,
        dip_pctl=s.dip_pctl,
        persist_days=s.persist_days,
        dip_mkt=s.dip_mkt,
        dip_class=s.dip_class,
        in_dip=s.dip_class != "NONE",
    )
