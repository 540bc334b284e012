"""Projections: how each stored event changes the read models.

A projection only decides what changes; the runner in `infrastructure` feeds
events in notification order and commits the view rows together with each
projection's tracking position. Everything here is a function of the events
alone (times come from the events), so a replay rebuilds identical rows.
"""

from __future__ import annotations

import datetime as dt

from eventsourcing.domain import Aggregate

from stonkmarket.application.accounts_projection import AccountsProjection
from stonkmarket.application.audit_projection import AuditProjection
from stonkmarket.application.jobs_projection import JobsProjection
from stonkmarket.application.signals import (
    build_signal,
    thresholds_for,
)
from stonkmarket.application.view_changes import Projection, ViewChanges
from stonkmarket.application.views import (
    FundamentalsView,
    SettingsView,
    Signal,
    SymbolView,
)
from stonkmarket.domain.dips import WINDOWS, PriceSeries
from stonkmarket.domain.episodes import dip_episodes
from stonkmarket.domain.fundamentals import FundamentalMetrics
from stonkmarket.domain.fundamentals_history import Fundamentals
from stonkmarket.domain.price_history import PriceHistory
from stonkmarket.domain.settings import DipFinderSettings
from stonkmarket.domain.symbol import Symbol

BARS_EVENTS = (
    PriceHistory.BarsRecorded,
    PriceHistory.BarsRestated,
    PriceHistory.ActionsRecorded,
)


class SymbolsProjection:
    """The watchlist: one row per ticker ever added; removed ones are marked."""

    name = "symbols"

    async def apply(self, event: Aggregate.Event, views: ViewChanges) -> None:
        if isinstance(event, Symbol.Removed):
            await views.drop_symbol(event.ticker, event.timestamp)
        elif isinstance(
            event, Symbol.Added | Symbol.ReAdded | Symbol.ThresholdsChanged
        ):
            known = await views.any_symbol(event.ticker)
            await views.put_symbol(
                SymbolView(
                    ticker=event.ticker,
                    min_dip_pct=event.min_dip_pct,
                    min_days=event.min_days,
                    added_at=event.timestamp if known is None else known.added_at,
                    updated_at=event.timestamp,
                )
            )


class PriceBarsProjection:
    """Daily closes per ticker, for charts and for the signal computations."""

    name = "price_bars"

    async def apply(self, event: Aggregate.Event, views: ViewChanges) -> None:
        if isinstance(event, PriceHistory.BarsRecorded):
            await views.put_bars(
                event.ticker, event.dates, event.closes, event.reference_closes
            )
        elif isinstance(event, PriceHistory.BarsRestated):
            await views.restate_bars(event.ticker, event.dates, event.closes)
        elif isinstance(event, PriceHistory.ActionsRecorded):
            await views.put_actions(event.ticker, event.actions)


class FundamentalsProjection:
    """Every fundamentals snapshot, by ticker and fetch date."""

    name = "fundamentals"

    async def apply(self, event: Aggregate.Event, views: ViewChanges) -> None:
        if isinstance(event, Fundamentals.SnapshotRecorded):
            await views.put_fundamentals(
                FundamentalsView(
                    ticker=event.ticker,
                    as_of=dt.date.fromisoformat(event.as_of),
                    source=event.source,
                    metrics=FundamentalMetrics(**event.metrics),
                    notes=event.notes,
                )
            )


class SettingsProjection:
    """Every version of the finder's knobs; version N follows the Nth change."""

    name = "dipfinder_settings"

    async def apply(self, event: Aggregate.Event, views: ViewChanges) -> None:
        if isinstance(event, DipFinderSettings.Changed):
            current = await views.settings()
            await views.put_settings(
                SettingsView(
                    values={**current.values, **event.changes},
                    version=current.version + 1,
                )
            )


class SignalsProjection:
    """Latest signals and dip states of the watched tickers.

    Runs after the symbol, price and settings projections in the same
    transaction, so it reads their rows as of this event.
    """

    name = "dipfinder_signals"

    async def apply(self, event: Aggregate.Event, views: ViewChanges) -> None:
        tickers = await affected_tickers(event, views)
        if not tickers:
            return
        settings = await views.settings()
        benchmark = settings.values["benchmark"]
        benchmark_prices = await views.series(benchmark)
        benchmark_series = None if benchmark_prices is None else benchmark_prices.series
        signals: list[Signal] = []
        for ticker in tickers:
            signals.extend(
                await self._signals_of(ticker, views, settings, benchmark_series)
            )
        await views.put_signals(signals, computed_at=event.timestamp)

    async def _signals_of(
        self,
        ticker: str,
        views: ViewChanges,
        settings: SettingsView,
        benchmark_series: PriceSeries | None,
    ) -> list[Signal]:
        prices = await views.series(ticker)
        if prices is None:
            return []
        symbol = await views.symbol(ticker)
        last_bar = prices.series.dates[-1].item()
        snapshot = await views.fundamentals(ticker, last_bar)
        signals = (
            build_signal(
                ticker,
                window,
                prices.series,
                flags=prices.flags,
                benchmark=settings.values["benchmark"],
                benchmark_series=benchmark_series,
                as_of=None,
                settings=settings,
                symbol=symbol,
                fundamentals=None if snapshot is None else snapshot.metrics,
            )
            for window in WINDOWS
        )
        return [s for s in signals if s is not None]


async def affected_tickers(event: Aggregate.Event, views: ViewChanges) -> list[str]:
    """Return the watched tickers whose signals this event changes."""
    if isinstance(event, Symbol.Added | Symbol.ReAdded | Symbol.ThresholdsChanged):
        return [event.ticker]
    if isinstance(event, DipFinderSettings.Changed):
        return [s.ticker for s in await views.watched()]
    if isinstance(event, Fundamentals.SnapshotRecorded):
        watched = await views.symbol(event.ticker) is not None
        return [event.ticker] if watched else []
    if isinstance(event, BARS_EVENTS):
        settings = await views.settings()
        if event.ticker == settings.values["benchmark"]:
            return [s.ticker for s in await views.watched()]
        if await views.symbol(event.ticker) is not None:
            return [event.ticker]
    return []


class DipHistoryProjection:
    """How each dip began, deepened, recovered and ended, and when it alerted.

    Episode rows are derived again from the whole series whenever it changes;
    an alert row is added the day a stored signal alerts after one that did
    not. Runs after the signals projection, whose rows it reads.
    """

    name = "dip_history"

    async def apply(self, event: Aggregate.Event, views: ViewChanges) -> None:
        tickers = await affected_tickers(event, views)
        if not tickers:
            return
        settings = await views.settings()
        for ticker in tickers:
            prices = await views.series(ticker)
            if prices is None:
                continue
            thresholds = thresholds_for(settings, await views.symbol(ticker))
            for window in WINDOWS:
                episodes = dip_episodes(
                    prices.series, window, min_dip_abs=thresholds.min_dip_abs
                )
                await views.put_episodes(ticker, window, episodes)
                await self._note_alert(ticker, window, settings, views)

    async def _note_alert(
        self, ticker: str, window: int, settings: SettingsView, views: ViewChanges
    ) -> None:
        benchmark = str(settings.values["benchmark"])
        recent = await views.recent_signals(ticker, window, benchmark, settings.version)
        if not recent or not recent[0].should_alert:
            return
        if len(recent) > 1 and recent[1].should_alert:
            return
        await views.put_alert_raised(recent[0])


def all_projections() -> list[Projection]:
    """Every projection, in the order the runner must apply them."""
    return [
        AuditProjection(),
        SymbolsProjection(),
        PriceBarsProjection(),
        FundamentalsProjection(),
        SettingsProjection(),
        SignalsProjection(),
        DipHistoryProjection(),
        AccountsProjection(),
        JobsProjection(),
    ]
