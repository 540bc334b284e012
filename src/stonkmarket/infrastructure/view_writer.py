"""Writing the read models inside one transaction of the projection runner."""

from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

import msgspec
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from stonkmarket.application.views import (
    AccountView,
    AuditEntry,
    FundamentalsView,
    SettingsView,
    Signal,
    SymbolView,
)
from stonkmarket.domain.adjustment import CleanSeries
from stonkmarket.domain.episodes import EpisodeEvent
from stonkmarket.infrastructure.sql_jobs import SqlJobChanges
from stonkmarket.infrastructure.sql_views import (
    VIEW_COLUMNS,
    select_account_by_id,
    select_fundamentals,
    select_series,
    select_settings,
    select_symbol,
    select_symbols,
    signal_from_row,
    upsert,
)
from stonkmarket.infrastructure.tables import (
    accounts,
    audit_log,
    corporate_actions,
    dip_history,
    dip_states,
    dipfinder_settings,
    dipfinder_signals,
    fundamentals,
    price_bars,
    revoked_tokens,
    symbols,
)

SIGNAL_LIFETIME = dt.timedelta(days=7)
ALERT_RAISED = "ALERT_RAISED"


class SqlViewChanges(SqlJobChanges):
    """The read models inside one transaction of the projection runner."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self.position = 0

    async def put_audit(self, entry: AuditEntry) -> None:
        await upsert(self.conn, audit_log, [msgspec.structs.asdict(entry)])

    async def put_account(self, account: AccountView) -> None:
        await upsert(self.conn, accounts, [msgspec.structs.asdict(account)])

    async def put_revoked_token(
        self,
        token_id: str,
        account_id: UUID,
        expires_at: dt.datetime,
        logged_out_at: dt.datetime,
    ) -> None:
        row = {
            "token_id": token_id,
            "account_id": account_id,
            "expires_at": expires_at,
            "logged_out_at": logged_out_at,
        }
        await upsert(self.conn, revoked_tokens, [row])

    async def account_by_id(self, account_id: UUID) -> AccountView | None:
        return await select_account_by_id(self.conn, account_id)

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
        query = select(*VIEW_COLUMNS).where(symbols.c.ticker == ticker)
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
