"""Queries: results read from the read models, never from the event store."""

from __future__ import annotations

import datetime as dt

from stonkmarket.application.audit_pages import AuditFilter, AuditPage, encode_cursor
from stonkmarket.application.errors import NotFoundError
from stonkmarket.application.read_models import ReadModels
from stonkmarket.application.signals import build_signal, thresholds_for
from stonkmarket.application.views import (
    Chart,
    FundamentalsView,
    HistoryRow,
    RankingRow,
    SettingsView,
    Signal,
    SignalBatch,
    SymbolInfo,
    SymbolView,
    TickerError,
)
from stonkmarket.domain.dips import WINDOWS, PriceSeries
from stonkmarket.domain.errors import DomainError, ThresholdOutOfRangeError
from stonkmarket.domain.tickers import normalise_ticker

MAX_TICKERS_PER_REQUEST = 50
MAX_ROWS_PER_PAGE = 500


def check_limit(limit: int) -> int:
    """Return the page size, or raise when it is outside 1 to 500."""
    if not 1 <= limit <= MAX_ROWS_PER_PAGE:
        raise ThresholdOutOfRangeError(
            f"limit must be from 1 to {MAX_ROWS_PER_PAGE}, got {limit}", field="limit"
        )
    return limit


def check_window(window: int) -> int:
    """Return the window, or raise when it is not one the finder measures."""
    if window not in WINDOWS:
        raise ThresholdOutOfRangeError(
            f"window must be one of {', '.join(map(str, WINDOWS))} days, got {window}",
            field="window",
        )
    return window


class Queries:
    """Every query the API and the CLI make, computed the same way for both."""

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

    async def settings(self, version: int | None = None) -> SettingsView:
        """The newest settings, or those of an older version."""
        settings = await self.views.settings(version)
        if settings is None:
            raise NotFoundError(
                f"settings version {version} does not exist", field="settings_version"
            )
        return settings

    async def fundamentals(self, raw_ticker: str) -> FundamentalsView | None:
        """Return the newest fundamentals snapshot of a ticker, if any was recorded."""
        return await self.views.fundamentals(normalise_ticker(raw_ticker))

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
        """Rank the watched tickers, deepest dip first."""
        check_window(window)
        if as_of is None:
            return await self.views.ranking(window)
        settings = await self.settings()
        benchmark = str(settings.values["benchmark"])
        # One read of the benchmark serves every ticker of the ranking.
        benchmark_series = await self._series(benchmark, as_of)
        signals = []
        for symbol in await self.views.symbols():
            signal = await self._computed(
                symbol.ticker, window, benchmark, benchmark_series, as_of, settings
            )
            if signal is not None:
                signals.append(signal)
        signals.sort(key=lambda s: (-s.dip_stock, s.ticker))
        return [_ranking_row(rank, s) for rank, s in enumerate(signals, start=1)]

    async def signal(
        self,
        raw_ticker: str,
        window: int,
        benchmark: str | None = None,
        as_of: dt.date | None = None,
        settings_version: int | None = None,
    ) -> Signal:
        """Return one ticker's signal: the stored one when current, else computed.

        An older `settings_version` reproduces that version's result.
        """
        ticker = normalise_ticker(raw_ticker)
        check_window(window)
        settings = await self.settings(settings_version)
        chosen = (
            str(settings.values["benchmark"])
            if benchmark is None
            else normalise_ticker(benchmark, field="benchmark")
        )
        # Stored signals are kept current for watched tickers only.
        watched = await self.views.symbol(ticker) is not None
        if as_of is None and watched:
            stored = await self.views.latest_signal(
                ticker, window, chosen, settings.version
            )
            if stored is not None:
                return stored
        benchmark_series = await self._series(chosen, as_of)
        signal = await self._computed(
            ticker, window, chosen, benchmark_series, as_of, settings
        )
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
        settings_version: int | None = None,
    ) -> SignalBatch:
        """Signals of several tickers, and why each missing one is missing."""
        check_window(window)
        await self.settings(settings_version)
        named = list(dict.fromkeys(t.strip().upper() for t in raw_tickers))
        if len(named) > MAX_TICKERS_PER_REQUEST:
            raise ThresholdOutOfRangeError(
                f"tickers names {len(named)} tickers; ask for at most "
                f"{MAX_TICKERS_PER_REQUEST} at a time",
                field="tickers",
            )
        tickers = named or [s.ticker for s in await self.views.symbols()]
        batch = SignalBatch(signals=[], errors=[])
        for ticker in tickers:
            try:
                signal = await self.signal(
                    ticker, window, benchmark, as_of, settings_version
                )
            except (NotFoundError, DomainError) as exc:
                batch.errors.append(_ticker_error(ticker, exc))
            else:
                batch.signals.append(signal)
        return batch

    async def latest(
        self,
        window: int,
        *,
        limit: int = 50,
        min_score: float | None = None,
        only_alerts: bool = False,
    ) -> list[Signal]:
        """List the newest signal of each watched ticker, best final score first."""
        check_limit(limit)
        signals = await self.current_signals(window)
        chosen = [
            s
            for s in signals
            if (not only_alerts or s.should_alert)
            and (min_score is None or (s.final_score or 0.0) >= min_score)
        ]
        chosen.sort(key=lambda s: (-(s.final_score or 0.0), s.ticker))
        return chosen[:limit]

    async def current_signals(self, window: int) -> list[Signal]:
        """List the stored signal of every watched ticker under the current settings."""
        check_window(window)
        settings = await self.settings()
        benchmark = str(settings.values["benchmark"])
        return await self.views.latest_signals(window, benchmark, settings.version)

    async def info(self, raw_ticker: str) -> SymbolInfo:
        """Gather the symbol, its thresholds, its newest fundamentals and signals."""
        symbol = await self.symbol(raw_ticker)
        settings = await self.settings()
        signals = {}
        for window in WINDOWS:
            try:
                signals[str(window)] = await self.signal(symbol.ticker, window)
            except NotFoundError:
                continue
        return SymbolInfo(
            symbol=symbol,
            thresholds=thresholds_for(settings, symbol),
            fundamentals=await self.views.fundamentals(symbol.ticker),
            signals=signals,
        )

    async def history(
        self, raw_ticker: str, days: int = 365, window: int | None = None
    ) -> list[HistoryRow]:
        """List when the ticker's dips began, deepened, recovered, ended and alerted.

        Covers the `days` calendar days up to the ticker's newest bar.
        """
        ticker = normalise_ticker(raw_ticker)
        if window is not None:
            check_window(window)
        if not 1 <= days <= 36_600:
            raise ThresholdOutOfRangeError(
                f"days must be from 1 to 36600, got {days}", field="days"
            )
        last = await self.views.last_bar_date(ticker)
        if last is None:
            raise NotFoundError(f"no prices recorded for {ticker}", field="ticker")
        since = last - dt.timedelta(days=days - 1)
        return await self.views.history(ticker, window, since)

    async def audit(self, audit_filter: AuditFilter, limit: int = 50) -> AuditPage:
        """Configuration changes, newest first, `limit` at a time."""
        check_limit(limit)
        entries = await self.views.audit(audit_filter, limit + 1)
        more = len(entries) > limit
        page = entries[:limit]
        return AuditPage(
            entries=page,
            next_cursor=encode_cursor(page[-1].position) if more else None,
        )

    async def _series(self, ticker: str, as_of: dt.date | None) -> PriceSeries | None:
        prices = await self.views.series(ticker, until=as_of)
        return None if prices is None else prices.series

    async def _computed(
        self,
        ticker: str,
        window: int,
        benchmark: str,
        benchmark_series: PriceSeries | None,
        as_of: dt.date | None,
        settings: SettingsView,
    ) -> Signal | None:
        stock = await self.views.series(ticker, until=as_of)
        if stock is None:
            return None
        last_bar = stock.series.dates[-1].item()
        snapshot = await self.views.fundamentals(ticker, last_bar)
        return build_signal(
            ticker,
            window,
            stock.series,
            flags=stock.flags,
            benchmark=benchmark,
            benchmark_series=benchmark_series,
            as_of=as_of,
            settings=settings,
            symbol=await self.views.symbol(ticker),
            fundamentals=None if snapshot is None else snapshot.metrics,
        )


def _ticker_error(ticker: str, exc: NotFoundError | DomainError) -> TickerError:
    code = "NOT_FOUND" if isinstance(exc, NotFoundError) else "INVALID_TICKER"
    return TickerError(ticker=ticker, error=code, message=exc.message)


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
        final_score=s.final_score,
        alert_level=s.alert_level,
    )
