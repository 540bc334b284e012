"""Reading the read-model tables with SQLAlchemy Core, and the shared upsert."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from stonkmarket.application.views import (
    AccountView,
    FundamentalsView,
    SettingsView,
    Signal,
    SymbolView,
)
from stonkmarket.domain.adjustment import CleanSeries, CorporateAction, clean_prices
from stonkmarket.domain.fundamentals import FundamentalMetrics
from stonkmarket.domain.settings import DEFAULTS
from stonkmarket.infrastructure.tables import (
    accounts,
    corporate_actions,
    dipfinder_settings,
    fundamentals,
    price_bars,
    symbols,
)


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


VIEW_COLUMNS = [c for c in symbols.c if c.name != "removed"]
_WATCHED = select(*VIEW_COLUMNS).where(symbols.c.removed.is_(False))


async def select_symbol(conn: AsyncConnection, ticker: str) -> SymbolView | None:
    """Return the watched symbol `ticker`, or None when it is not watched."""
    row = (await conn.execute(_WATCHED.where(symbols.c.ticker == ticker))).first()
    return None if row is None else SymbolView(**row._asdict())


async def select_symbols(conn: AsyncConnection) -> list[SymbolView]:
    rows = await conn.execute(_WATCHED.order_by(symbols.c.ticker))
    return [SymbolView(**row._asdict()) for row in rows]


async def select_series(
    conn: AsyncConnection, ticker: str, until: dt.date | None = None
) -> CleanSeries | None:
    """Return the ticker's closes up to `until`, adjusted and cleaned, with flags.

    Only corporate actions dated on or before `until` apply, so a result
    "as of" a date uses only what was known by then.
    """
    bars = select(
        price_bars.c.date, price_bars.c.close, price_bars.c.reference_close
    ).where(price_bars.c.ticker == ticker)
    actions = select(corporate_actions).where(corporate_actions.c.ticker == ticker)
    if until is not None:
        bars = bars.where(price_bars.c.date <= until)
        actions = actions.where(corporate_actions.c.date <= until)
    rows = (await conn.execute(bars.order_by(price_bars.c.date))).all()
    if not rows:
        return None
    # An action dated after the newest bar has not happened in these prices.
    actions = actions.where(corporate_actions.c.date <= rows[-1].date)
    dates, closes, references = zip(*rows, strict=True)
    recorded = [
        CorporateAction(date=a.date, kind=a.kind, value=a.value)
        for a in await conn.execute(actions)
    ]
    has_references = any(r is not None for r in references)
    cleaned = clean_prices(
        dates,
        closes,
        actions=recorded,
        reference_closes=references if has_references else None,
    )
    return cleaned if len(cleaned.series) else None


async def select_settings(
    conn: AsyncConnection, version: int | None = None
) -> SettingsView | None:
    """Return the settings of `version` (the newest when None), None if unknown."""
    if version == 0:
        return SettingsView(values=dict(DEFAULTS), version=0)
    query = select(dipfinder_settings)
    if version is None:
        query = query.order_by(dipfinder_settings.c.version.desc()).limit(1)
    else:
        query = query.where(dipfinder_settings.c.version == version)
    row = (await conn.execute(query)).first()
    if row is None:
        return None if version else SettingsView(values=dict(DEFAULTS), version=0)
    return SettingsView(values={**DEFAULTS, **row.knobs}, version=row.version)


async def select_fundamentals(
    conn: AsyncConnection, ticker: str, day: dt.date | None = None
) -> FundamentalsView | None:
    """Return the newest snapshot of `ticker` fetched on or before `day`."""
    query = select(fundamentals).where(fundamentals.c.ticker == ticker)
    if day is not None:
        query = query.where(fundamentals.c.as_of <= day)
    row = (
        await conn.execute(query.order_by(fundamentals.c.as_of.desc()).limit(1))
    ).first()
    if row is None:
        return None
    return FundamentalsView(
        ticker=row.ticker,
        as_of=row.as_of,
        source=row.source,
        metrics=msgspec.convert(row.metrics, FundamentalMetrics),
        notes=row.notes,
    )


async def select_accounts(
    conn: AsyncConnection, where: ColumnElement[bool] | None = None
) -> list[AccountView]:
    """Return the accounts that match `where` (all when None), by username."""
    query = select(accounts).order_by(accounts.c.username)
    if where is not None:
        query = query.where(where)
    return [_account_from_row(row) for row in await conn.execute(query)]


def _account_from_row(row: Any) -> AccountView:
    # asyncpg returns a UUID class of its own, which the event store cannot
    # store in an event; the view hands out the standard one.
    fields = row._asdict()
    fields["account_id"] = UUID(str(fields["account_id"]))
    return AccountView(**fields)


async def select_account_by_id(
    conn: AsyncConnection, account_id: UUID
) -> AccountView | None:
    found = await select_accounts(conn, accounts.c.account_id == account_id)
    return found[0] if found else None


def signal_from_row(row: Any) -> Signal:
    return msgspec.json.decode(row.body, type=Signal)
