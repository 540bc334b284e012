"""Market-data routes: the dip ranking, dip states, charts and signals."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from stonkmarket.application.views import (
    Chart,
    HistoryRow,
    RankingRow,
    Signal,
    SignalBatch,
    SymbolInfo,
)
from stonkmarket.interfaces.http.context import AppContainer

DEFAULT_WINDOW = 365

Window = Annotated[
    int,
    QueryParameter(
        description="calendar days the peak is taken over: 7, 30, 100 or 365"
    ),
]
AsOf = Annotated[
    dt.date | None,
    QueryParameter(description="the date to measure as of (YYYY-MM-DD)"),
]
Benchmark = Annotated[
    str | None,
    QueryParameter(
        description="ticker the market dip is read from; the setting if unset"
    ),
]

Limit = Annotated[int, QueryParameter(description="rows to return, 1 to 500")]
SettingsVersion = Annotated[
    int | None,
    QueryParameter(
        ge=0,
        le=2**31 - 1,
        description="reproduce the result of this settings version; the newest"
        " if unset",
    ),
]


class DipController(Controller):
    path = "/api/dips"
    tags = ("dips",)

    @get("/ranking")
    async def ranking(
        self,
        container: AppContainer,
        window: Window = DEFAULT_WINDOW,
        as_of: AsOf = None,
    ) -> list[RankingRow]:
        """Rank the watched tickers, deepest dip below the window's peak first."""
        return await container.queries.ranking(window, as_of)

    @get("/states")
    async def states(
        self, container: AppContainer, window: Window = DEFAULT_WINDOW
    ) -> list[RankingRow]:
        """List the watched tickers that are in a dip now, deepest first."""
        rows = await container.queries.ranking(window)
        return [row for row in rows if row.in_dip]

    @get("/{symbol:str}/info")
    async def info(self, container: AppContainer, symbol: FromPath[str]) -> SymbolInfo:
        """Return a watched ticker's thresholds, fundamentals and latest signals."""
        return await container.queries.info(symbol)

    @get("/{symbol:str}/chart")
    async def chart(
        self,
        container: AppContainer,
        symbol: FromPath[str],
        days: Annotated[int, QueryParameter(description="calendar days back")] = 365,
    ) -> Chart:
        """Return the daily closes of the last `days` calendar days."""
        return await container.queries.chart(symbol, days)


class DipFinderController(Controller):
    path = "/api/dipfinder"
    tags = ("dipfinder",)

    @get("/latest")
    async def latest(
        self,
        container: AppContainer,
        window: Window = DEFAULT_WINDOW,
        limit: Limit = 50,
        min_score: Annotated[
            float | None, QueryParameter(ge=0, le=100, description="lowest final score")
        ] = None,
        only_alerts: Annotated[
            bool, QueryParameter(description="only signals that alert")
        ] = False,
    ) -> list[Signal]:
        """Return the newest signal of each watched ticker, best score first."""
        return await container.queries.latest(
            window, limit=limit, min_score=min_score, only_alerts=only_alerts
        )

    @get("/alerts")
    async def alerts(
        self,
        container: AppContainer,
        window: Window = DEFAULT_WINDOW,
        limit: Limit = 50,
    ) -> list[Signal]:
        """Return the watched tickers that alert now, best score first."""
        return await container.queries.latest(window, limit=limit, only_alerts=True)

    @get("/history/{ticker:str}")
    async def history(
        self,
        container: AppContainer,
        ticker: FromPath[str],
        days: Annotated[int, QueryParameter(description="calendar days back")] = 365,
        window: Annotated[
            int | None, QueryParameter(description="one window; all if unset")
        ] = None,
    ) -> list[HistoryRow]:
        """Return when the ticker's dips began, deepened, recovered, ended, alerted."""
        return await container.queries.history(ticker, days, window)

    @get("/signals")
    async def signals(
        self,
        container: AppContainer,
        tickers: Annotated[
            str | None,
            QueryParameter(description="comma-separated; all watched if unset"),
        ] = None,
        window: Window = DEFAULT_WINDOW,
        benchmark: Benchmark = None,
        as_of: AsOf = None,
        settings_version: SettingsVersion = None,
    ) -> SignalBatch:
        """Return the signals of several tickers, and why any ticker has none."""
        named = [t for t in (tickers or "").split(",") if t.strip()]
        return await container.queries.signals(
            named, window, benchmark, as_of, settings_version
        )

    @get("/signals/{ticker:str}")
    async def signal(
        self,
        container: AppContainer,
        ticker: FromPath[str],
        window: Window = DEFAULT_WINDOW,
        benchmark: Benchmark = None,
        as_of: AsOf = None,
        settings_version: SettingsVersion = None,
    ) -> Signal:
        """Return the signal of one ticker, watched or not, that has recorded prices."""
        return await container.queries.signal(
            ticker, window, benchmark, as_of, settings_version
        )
