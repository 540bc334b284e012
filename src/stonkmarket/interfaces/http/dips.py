"""Market-data routes: the dip ranking, dip states, charts and signals."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, QueryParameter

from stonkmarket.application.views import (
    Chart,
    HistoryRow,
    RankingRow,
    Signal,
    SignalBatch,
    SymbolInfo,
)
from stonkmarket.interfaces.http.access_gate import readers
from stonkmarket.interfaces.http.caching import (
    NOT_MODIFIED,
    conditional,
    conditional_view,
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
    guards = [readers]  # noqa: RUF012 - Litestar reads the class attribute

    @get("/ranking", responses=NOT_MODIFIED)
    async def ranking(
        self,
        request: Request[Any, Any, Any],
        container: AppContainer,
        window: Window = DEFAULT_WINDOW,
        as_of: AsOf = None,
    ) -> Response[list[RankingRow]]:
        """Rank the watched tickers, deepest dip below the window's peak first."""
        if as_of is None:
            return conditional(request, await container.hot.ranking(window))
        ranking = await container.queries.ranking(window, as_of)
        return conditional_view(request, ranking)

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

    @get("/{symbol:str}/chart", responses=NOT_MODIFIED)
    async def chart(
        self,
        request: Request[Any, Any, Any],
        container: AppContainer,
        symbol: FromPath[str],
        days: Annotated[int, QueryParameter(description="calendar days back")] = 365,
    ) -> Response[Chart]:
        """Return the daily closes of the last `days` calendar days."""
        return conditional(request, await container.hot.chart(symbol, days))


class DipFinderController(Controller):
    path = "/api/dipfinder"
    tags = ("dipfinder",)
    guards = [readers]  # noqa: RUF012 - Litestar reads the class attribute

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

    @get("/signals", responses=NOT_MODIFIED)
    async def signals(
        self,
        request: Request[Any, Any, Any],
        container: AppContainer,
        tickers: Annotated[
            str | None,
            QueryParameter(description="comma-separated; all watched if unset"),
        ] = None,
        window: Window = DEFAULT_WINDOW,
        benchmark: Benchmark = None,
        as_of: AsOf = None,
        settings_version: SettingsVersion = None,
    ) -> Response[SignalBatch]:
        """Return the signals of several tickers, and why any ticker has none."""
        named = [t for t in (tickers or "").split(",") if t.strip()]
        batch = await container.queries.signals(
            named, window, benchmark, as_of, settings_version
        )
        return conditional_view(request, batch)

    @get("/signals/{ticker:str}", responses=NOT_MODIFIED)
    async def signal(
        self,
        request: Request[Any, Any, Any],
        container: AppContainer,
        ticker: FromPath[str],
        window: Window = DEFAULT_WINDOW,
        benchmark: Benchmark = None,
        as_of: AsOf = None,
        settings_version: SettingsVersion = None,
    ) -> Response[Signal]:
        """Return the signal of one ticker, watched or not, that has recorded prices."""
        if benchmark is None and as_of is None and settings_version is None:
            return conditional(request, await container.hot.signal(ticker, window))
        signal = await container.queries.signal(
            ticker, window, benchmark, as_of, settings_version
        )
        return conditional_view(request, signal)
