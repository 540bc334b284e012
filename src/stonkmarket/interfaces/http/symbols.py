"""Watchlist routes: list, read, add, change and remove symbols."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from stonkmarket.application.commands import (
    AddSymbol,
    RecordFundamentals,
    RecordPrices,
    RemoveSymbol,
    UpdateSymbol,
)
from stonkmarket.application.handlers import (
    add_symbol,
    record_fundamentals,
    record_prices,
    remove_symbol,
    update_symbol,
)
from stonkmarket.application.views import SymbolView
from stonkmarket.domain.adjustment import CorporateAction
from stonkmarket.domain.errors import ThresholdOutOfRangeError
from stonkmarket.domain.prices import PriceBatch
from stonkmarket.interfaces.http.access_gate import admin_only, readers
from stonkmarket.interfaces.http.context import AppContainer, actor_of, request_id_of
from stonkmarket.interfaces.http.schemas import (
    FundamentalsBody,
    PricesBody,
    Recorded,
    SymbolCreate,
    SymbolUpdate,
)

EARLIEST_BAR = dt.date(1900, 1, 1)


def check_dates(days: list[dt.date], field: str) -> None:
    """Reject dates before 1900 or after today anywhere on Earth (UTC+14)."""
    latest = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=14)).date()
    for day in days:
        if not EARLIEST_BAR <= day <= latest:
            raise ThresholdOutOfRangeError(
                f"{field} dated {day.isoformat()} is outside 1900-01-01 to "
                f"{latest.isoformat()}; send only what has already happened",
                field=field,
            )


class SymbolController(Controller):
    path = "/api/symbols"
    tags = ("symbols",)

    @get("/", guards=[readers])
    async def list_symbols(self, container: AppContainer) -> list[SymbolView]:
        """List every watched ticker, alphabetically."""
        return await container.queries.symbols()

    @get("/{symbol:str}", guards=[readers])
    async def get_symbol(
        self, container: AppContainer, symbol: FromPath[str]
    ) -> SymbolView:
        """Return one watched ticker and its thresholds."""
        return await container.queries.symbol(symbol)

    @post("/", status_code=HTTP_201_CREATED, guards=[admin_only])
    async def create_symbol(
        self,
        container: AppContainer,
        request: Request[Any, Any, Any],
        data: JSONBody[SymbolCreate],
    ) -> SymbolView:
        """Watch a ticker; 409 when it is already watched."""
        receipt = await container.execute(
            add_symbol,
            AddSymbol(
                ticker=data.ticker,
                min_dip_pct=data.min_dip_pct,
                min_days=data.min_days,
                actor=actor_of(request),
                correlation_id=request_id_of(request),
            ),
        )
        return receipt.symbol

    @put("/{symbol:str}", guards=[admin_only])
    async def update_symbol(
        self,
        container: AppContainer,
        request: Request[Any, Any, Any],
        symbol: FromPath[str],
        data: JSONBody[SymbolUpdate],
    ) -> SymbolView:
        """Replace a ticker's thresholds; null means the finder's default."""
        receipt = await container.execute(
            update_symbol,
            UpdateSymbol(
                ticker=symbol,
                min_dip_pct=data.min_dip_pct,
                min_days=data.min_days,
                actor=actor_of(request),
                correlation_id=request_id_of(request),
            ),
        )
        return receipt.symbol

    @delete("/{symbol:str}", status_code=HTTP_204_NO_CONTENT, guards=[admin_only])
    async def delete_symbol(
        self,
        container: AppContainer,
        request: Request[Any, Any, Any],
        symbol: FromPath[str],
    ) -> None:
        """Stop watching a ticker; its recorded prices stay."""
        await container.execute(
            remove_symbol,
            RemoveSymbol(
                ticker=symbol,
                actor=actor_of(request),
                correlation_id=request_id_of(request),
            ),
        )

    @post("/{symbol:str}/prices", status_code=HTTP_201_CREATED, guards=[admin_only])
    async def record_prices(
        self,
        container: AppContainer,
        request: Request[Any, Any, Any],
        symbol: FromPath[str],
        data: JSONBody[PricesBody],
    ) -> Recorded:
        """Record daily closes and corporate actions.

        Changing a stored close or action needs a `reason`.
        """
        check_dates([bar.date for bar in data.bars], "bars")
        check_dates([action.date for action in data.actions], "actions")
        references = tuple(bar.adjusted_close for bar in data.bars)
        batch = PriceBatch(
            ticker=symbol,
            dates=tuple(bar.date for bar in data.bars),
            closes=tuple(bar.close for bar in data.bars),
            source=data.source,
            reference_closes=None if not any(references) else references,
            actions=tuple(
                CorporateAction(date=a.date, kind=a.kind, value=a.value)
                for a in data.actions
            ),
        )
        receipt = await container.execute(
            record_prices,
            RecordPrices(
                batch=batch,
                reason=data.reason,
                actor=actor_of(request),
                correlation_id=request_id_of(request),
            ),
        )
        return Recorded(ticker=receipt.subject, position=receipt.position)

    @post(
        "/{symbol:str}/fundamentals", status_code=HTTP_201_CREATED, guards=[admin_only]
    )
    async def record_fundamentals(
        self,
        container: AppContainer,
        request: Request[Any, Any, Any],
        symbol: FromPath[str],
        data: JSONBody[FundamentalsBody],
    ) -> Recorded:
        """Record a fundamentals snapshot; units are normalised on the way in."""
        check_dates([data.as_of], "as_of")
        receipt = await container.execute(
            record_fundamentals,
            RecordFundamentals(
                ticker=symbol,
                as_of=data.as_of,
                source=data.source,
                info=data.info,
                statements=data.statements,
                actor=actor_of(request),
                correlation_id=request_id_of(request),
            ),
        )
        return Recorded(ticker=receipt.subject, position=receipt.position)
