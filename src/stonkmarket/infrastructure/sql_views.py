"""Reading and writing the read-model tables with SQLAlchemy Core."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from stonkmarket.application.views import SettingsView, Signal, SymbolView
from stonkmarket.domain.dips import PriceSeries
from stonkmarket.domain.settings import DEFAULTS
from stonkmarket.infrastructure.tables import (
    dip_states,
    dipfinder_settings,
    dipfinder_signals,
    price_bars,
    symbols,
)

SIGNAL_LIFETIME = dt.timedelta(days=7)


async def upsert(
    conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """Insert rows, replacing those whose primary key already exists."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    keys = [c.name for c in table.primary_key.columns]
    statement = dialect.insert(table)
    updates = {
        c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys
    }
    await conn.execute(
        statement.on_conflict_do_update(index_elements=keys, set_=updates), list(rows)
    )


async def select_symbol(conn: AsyncConnection, ticker: str) -> SymbolView | None:
    row = (
        await conn.execute(select(symbols).where(symbols.c.ticker == ticker))
    ).first()
    return None if row is None else SymbolView(**row._asdict())


async def select_symbols(conn: AsyncConnection) -> list[SymbolView]:
    rows = await conn.execute(select(symbols).order_by(symbols.c.ticker))
    return [SymbolView(**row._asdict()) for row in rows]


async def select_series(
    conn: AsyncConnection, ticker: str, until: dt.date | None = None
) -> PriceSeries | None:
    query = select(price_bars.c.date, price_bars.c.close).where(
        price_bars.c.ticker == ticker
    )
    if until is not None:
        query = query.where(price_bars.c.date <= until)
    rows = (await conn.execute(query.order_by(price_bars.c.date))).all()
    if not rows:
        return None
    dates, closes = zip(*rows, strict=True)
    return PriceSeries.from_bars(dates, closes)


async def select_settings(conn: AsyncConnection) -> SettingsView:
    row = (await conn.execute(select(dipfinder_settings))).first()
    if row is None:
        return SettingsView(values=dict(DEFAULTS), version=0)
    return SettingsView(values={**DEFAULTS, **row.knobs}, version=row.version)


def signal_from_row(row: Any) -> Signal:
    fields = row._asdict()
    return Signal(**{name: fields[name] for name in Signal.__struct_fields__})


class SqlViewChanges:
    """The read models inside one transaction of the projection runner."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def put_symbol(self, symbol: SymbolView) -> None:
        await upsert(self.conn, symbols, [msgspec.structs.asdict(symbol)])

    async def drop_symbol(self, ticker: str) -> None:
        await self.conn.execute(delete(symbols).where(symbols.c.ticker == ticker))
        await self.conn.execute(delete(dip_states).where(dip_states.c.ticker == ticker))

    async def symbol(self, ticker: str) -> SymbolView | None:
        return await select_symbol(self.conn, ticker)

    async def watched(self) -> list[SymbolView]:
        return await select_symbols(self.conn)

    async def put_bars(
        self, ticker: str, dates: list[str], closes: list[float]
    ) -> None:
        rows = [
            {"ticker": ticker, "date": dt.date.fromisoformat(day), "close": close}
            for day, close in zip(dates, closes, strict=True)
        ]
        await upsert(self.conn, price_bars, rows)

    async def series(self, ticker: str) -> PriceSeries | None:
        return await select_series(self.conn, ticker)

    async def settings(self) -> SettingsView:
        return await select_settings(self.conn)

    async def put_settings(self, settings: SettingsView) -> None:
        row = {"id": 1, "knobs": settings.values, "version": settings.version}
        await upsert(self.conn, dipfinder_settings, [row])

    async def put_signals(
        self, signals: list[Signal], computed_at: dt.datetime
    ) -> None:
        expires_at = computed_at + SIGNAL_LIFETIME
        signal_rows = [
            {
                **msgspec.structs.asdict(s),
                "computed_at": computed_at,
                "expires_at": expires_at,
            }
            for s in signals
        ]
        await upsert(self.conn, dipfinder_signals, signal_rows)
        state_columns = {c.name for c in dip_states.columns}
        state_rows = [
            {
                **{k: v for k, v in row.items() if k in state_columns},
                "in_dip": row["dip_class"] != "NONE",
                "updated_at": computed_at,
            }
            for row in signal_rows
        ]
        await upsert(self.conn, dip_states, state_rows)
