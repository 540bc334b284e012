"""Reading and writing the read-model tables with SQLAlchemy Core."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import msgspec
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from stonkmarket.application.views import (
    AuditEntry,
    FundamentalsView,
    SettingsView,
    Signal,
    SymbolView,
)
from stonkmarket.domain.adjustment import CleanSeries, CorporateAction, clean_prices
from stonkmarket.domain.episodes import EpisodeEvent
from stonkmarket.domain.fundamentals import FundamentalMetrics
from stonkmarket.domain.settings import DEFAULTS
from stonkmarket.infrastructure.tables import (
    audit_log,
    corporate_actions,
    dip_history,
    dip_states,
    dipfinder_settings,
    dipfinder_signals,
    fundamentals,
    price_bars,
    symbols,
)

SIGNAL_LIFETIME = dt.timedelta(days=7)
ALERT_RAISED = "ALERT_RAISED"


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


_VIEW_COLUMNS = [c for c in symbols.c if c.name != "removed"]
_WATCHED = select(*_VIEW_COLUMNS).where(symbols.c.removed.is_(False))


async def select_symbol(conn: AsyncConnection, ticker: str) -> SymbolView | None:
    """The watched symbol `ticker`; None when it is not watched."""
    row = (await conn.execute(_WATCHED.where(symbols.c.ticker == ticker))).first()
    return None if row is None else SymbolView(**row._asdict())


async def select_symbols(conn: AsyncConnection) -> list[SymbolView]:
    rows = await conn.execute(_WATCHED.order_by(symbols.c.ticker))
    return [SymbolView(**row._asdict()) for row in rows]


async def select_series(
    conn: AsyncConnection, ticker: str, until: dt.date | None = None
) -> CleanSeries | None:
    """The ticker's closes up to `until`, adjusted and cleaned, with their flags.

    Only corporate actions dated on or before `until` apply, so an answer
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
    """The settings of `version` (the newest when None); None for an unknown one."""
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
    """The newest snapshot of `ticker` fetched on or before `day`."""
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


def signal_from_row(row: Any) -> Signal:
    return msgspec.json.decode(row.body, type=Signal)


class SqlViewChanges:
    """The read models inside one transaction of the projection runner."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.position = 0

    async def put_audit(self, entry: AuditEntry) -> None:
        await upsert(self.conn, audit_log, [msgspec.structs.asdict(entry)])

    async def put_episodes(
        self, ticker: str, window: int, episodes: list[EpisodeEvent]
    ) -> None:
        await self.conn.execute(
            delete(dip_history)
            .where(dip_history.c.ticker == ticker)
            .where(dip_history.c.window == window)
            .where(dip_history.c.kind != ALERT_RAISED)
        )
        rows = [
            {
                "ticker": ticker,
                "window": window,
                "date": e.date,
                "kind": e.kind.value,
                "dip": e.dip,
                "peak": e.peak,
                "close": e.close,
                "max_dip": e.max_dip,
                "episode_start": e.episode_start,
                "final_score": None,
            }
            for e in episodes
        ]
        await upsert(self.conn, dip_history, rows)

    async def recent_signals(
        self, ticker: str, window: int, benchmark: str, settings_version: int
    ) -> list[Signal]:
        signals = dipfinder_signals.c
        query = (
            select(signals.body)
            .where(signals.ticker == ticker)
            .where(signals.window == window)
            .where(signals.benchmark == benchmark)
            .where(signals.settings_version == settings_version)
            .order_by(signals.as_of_date.desc())
            .limit(2)
        )
        return [signal_from_row(row) for row in await self.conn.execute(query)]

    async def put_alert_raised(self, signal: Signal) -> None:
        row = {
            "ticker": signal.ticker,
            "window": signal.window,
            "date": signal.as_of_date,
            "kind": ALERT_RAISED,
            "dip": signal.dip_stock,
            "peak": signal.peak_stock,
            "close": signal.current_price,
            "max_dip": None,
            "episode_start": None,
            "final_score": signal.final_score,
        }
        await upsert(self.conn, dip_history, [row])

    async def put_symbol(self, symbol: SymbolView) -> None:
        row = {**msgspec.structs.asdict(symbol), "removed": False}
        await upsert(self.conn, symbols, [row])

    async def drop_symbol(self, ticker: str, at: dt.datetime) -> None:
        await self.conn.execute(
            update(symbols)
            .where(symbols.c.ticker == ticker)
            .values(removed=True, updated_at=at)
        )
        await self.conn.execute(delete(dip_states).where(dip_states.c.ticker == ticker))

    async def any_symbol(self, ticker: str) -> SymbolView | None:
        query = select(*_VIEW_COLUMNS).where(symbols.c.ticker == ticker)
        row = (await self.conn.execute(query)).first()
        return None if row is None else SymbolView(**row._asdict())

    async def symbol(self, ticker: str) -> SymbolView | None:
        return await select_symbol(self.conn, ticker)

    async def watched(self) -> list[SymbolView]:
        return await select_symbols(self.conn)

    async def put_bars(
        self,
        ticker: str,
        dates: list[str],
        closes: list[float],
        references: list[float | None] | None,
    ) -> None:
        rows = [
            {
                "ticker": ticker,
                "date": dt.date.fromisoformat(day),
                "close": close,
                "reference_close": reference,
            }
            for day, close, reference in zip(
                dates, closes, references or [None] * len(dates), strict=True
            )
        ]
        await upsert(self.conn, price_bars, rows)

    async def restate_bars(
        self, ticker: str, dates: list[str], closes: list[float]
    ) -> None:
        statement = (
            update(price_bars)
            .where(price_bars.c.ticker == ticker)
            .where(price_bars.c.date == bindparam("day"))
            .values(close=bindparam("new_close"))
        )
        rows = [
            {"day": dt.date.fromisoformat(day), "new_close": close}
            for day, close in zip(dates, closes, strict=True)
        ]
        await self.conn.execute(statement, rows)

    async def put_actions(self, ticker: str, actions: list[dict[str, Any]]) -> None:
        rows = [
            {
                "ticker": ticker,
                "date": dt.date.fromisoformat(a["date"]),
                "kind": a["kind"],
                "value": a["value"],
            }
            for a in actions
        ]
        await upsert(self.conn, corporate_actions, rows)

    async def series(self, ticker: str) -> CleanSeries | None:
        return await select_series(self.conn, ticker)

    async def settings(self) -> SettingsView:
        settings = await select_settings(self.conn)
        assert settings is not None, "the newest settings always exist"
        return settings

    async def put_settings(self, settings: SettingsView) -> None:
        row = {"version": settings.version, "knobs": settings.values}
        await upsert(self.conn, dipfinder_settings, [row])

    async def put_fundamentals(self, snapshot: FundamentalsView) -> None:
        row = msgspec.structs.asdict(snapshot)
        row["metrics"] = msgspec.to_builtins(snapshot.metrics)
        await upsert(self.conn, fundamentals, [row])

    async def fundamentals(self, ticker: str, day: dt.date) -> FundamentalsView | None:
        return await select_fundamentals(self.conn, ticker, day)

    async def put_signals(
        self, signals: list[Signal], computed_at: dt.datetime
    ) -> None:
        expires_at = computed_at + SIGNAL_LIFETIME
        signal_rows = [
            {
                "ticker": s.ticker,
                "window": s.window,
                "benchmark": s.benchmark,
                "as_of_date": s.as_of_date,
                "settings_version": s.settings_version,
                "dip_stock": s.dip_stock,
                "final_score": s.final_score,
                "alert_level": s.alert_level,
                "body": msgspec.json.encode(s).decode(),
                "computed_at": computed_at,
                "expires_at": expires_at,
            }
            for s in signals
        ]
        await upsert(self.conn, dipfinder_signals, signal_rows)
        state_columns = {c.name for c in dip_states.columns}
        state_rows = [
            {
                **{
                    k: v
                    for k, v in msgspec.structs.asdict(s).items()
                    if k in state_columns
                },
                "in_dip": s.dip_class != "NONE",
                "updated_at": computed_at,
            }
            for s in signals
        ]
        await upsert(self.conn, dip_states, state_rows)
