"""The ReadModels port over the SQL read models."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from stonkmarket.application.audit_pages import AuditFilter
from stonkmarket.application.views import (
    AccountView,
    AuditEntry,
    Chart,
    ChartPoint,
    FundamentalsView,
    HistoryRow,
    RankingRow,
    SettingsView,
    Signal,
    SymbolView,
)
from stonkmarket.domain.adjustment import CleanSeries
from stonkmarket.infrastructure.sql_views import (
    select_account_by_id,
    select_accounts,
    select_fundamentals,
    select_series,
    select_settings,
    select_symbol,
    select_symbols,
    signal_from_row,
)
from stonkmarket.infrastructure.tables import (
    accounts,
    audit_log,
    dip_history,
    dip_states,
    dipfinder_signals,
    price_bars,
    revoked_tokens,
    symbols,
)


async def _last_bar_date(conn: AsyncConnection, ticker: str) -> dt.date | None:
    query = select(func.max(price_bars.c.date)).where(price_bars.c.ticker == ticker)
    last: dt.date | None = await conn.scalar(query)
    return last


class SqlReadModels:
    """Read the read-model tables for queries, one connection per call."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def symbols(self) -> list[SymbolView]:
        async with self.engine.connect() as conn:
            return await select_symbols(conn)

    async def symbol(self, ticker: str) -> SymbolView | None:
        async with self.engine.connect() as conn:
            return await select_symbol(conn, ticker)

    async def settings(self, version: int | None = None) -> SettingsView | None:
        async with self.engine.connect() as conn:
            return await select_settings(conn, version)

    async def fundamentals(
        self, ticker: str, day: dt.date | None = None
    ) -> FundamentalsView | None:
        async with self.engine.connect() as conn:
            return await select_fundamentals(conn, ticker, day)

    async def series(
        self, ticker: str, until: dt.date | None = None
    ) -> CleanSeries | None:
        async with self.engine.connect() as conn:
            return await select_series(conn, ticker, until)

    async def last_bar_date(self, ticker: str) -> dt.date | None:
        async with self.engine.connect() as conn:
            return await _last_bar_date(conn, ticker)

    async def chart(self, ticker: str, days: int) -> Chart | None:
        async with self.engine.connect() as conn:
            last = await _last_bar_date(conn, ticker)
            if last is None:
                return None
            rows = await conn.execute(
                select(price_bars.c.date, price_bars.c.close)
                .where(price_bars.c.ticker == ticker)
                .where(price_bars.c.date > last - dt.timedelta(days=days))
                .order_by(price_bars.c.date)
            )
            points = [ChartPoint(date=row.date, close=row.close) for row in rows]
        return Chart(ticker=ticker, days=days, points=points)

    async def ranking(self, window: int) -> list[RankingRow]:
        query = (
            select(dip_states)
            .join(symbols, symbols.c.ticker == dip_states.c.ticker)
            .where(symbols.c.removed.is_(False))
            .where(dip_states.c.window == window)
            .order_by(dip_states.c.dip_stock.desc(), dip_states.c.ticker)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        fields = RankingRow.__struct_fields__
        return [
            RankingRow(
                rank=rank, **{k: v for k, v in row._asdict().items() if k in fields}
            )
            for rank, row in enumerate(rows, start=1)
        ]

    async def latest_signal(
        self, ticker: str, window: int, benchmark: str, settings_version: int
    ) -> Signal | None:
        query = (
            select(dipfinder_signals.c.body)
            .where(dipfinder_signals.c.ticker == ticker)
            .where(dipfinder_signals.c.window == window)
            .where(dipfinder_signals.c.benchmark == benchmark)
            .where(dipfinder_signals.c.settings_version == settings_version)
            .order_by(dipfinder_signals.c.as_of_date.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else signal_from_row(row)

    async def latest_signals(
        self, window: int, benchmark: str, settings_version: int
    ) -> list[Signal]:
        """Return the newest stored signal of every watched ticker."""
        signals = dipfinder_signals.c
        newest = (
            select(signals.ticker, func.max(signals.as_of_date).label("as_of_date"))
            .where(signals.window == window)
            .where(signals.benchmark == benchmark)
            .where(signals.settings_version == settings_version)
            .group_by(signals.ticker)
            .subquery()
        )
        query = (
            select(signals.body)
            .join(
                newest,
                (newest.c.ticker == signals.ticker)
                & (newest.c.as_of_date == signals.as_of_date),
            )
            .join(symbols, symbols.c.ticker == signals.ticker)
            .where(symbols.c.removed.is_(False))
            .where(signals.window == window)
            .where(signals.benchmark == benchmark)
            .where(signals.settings_version == settings_version)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [signal_from_row(row) for row in rows]

    async def audit(self, audit_filter: AuditFilter, limit: int) -> list[AuditEntry]:
        """Configuration changes, newest first."""
        query = select(audit_log).order_by(audit_log.c.position.desc()).limit(limit)
        if audit_filter.subject is not None:
            query = query.where(audit_log.c.subject == audit_filter.subject)
        if audit_filter.actor is not None:
            query = query.where(audit_log.c.actor == audit_filter.actor)
        if audit_filter.since is not None:
            query = query.where(audit_log.c.at >= audit_filter.since)
        if audit_filter.until is not None:
            query = query.where(audit_log.c.at < audit_filter.until)
        if audit_filter.before_position is not None:
            query = query.where(audit_log.c.position < audit_filter.before_position)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [AuditEntry(**row._asdict()) for row in rows]

    async def history(
        self, ticker: str, window: int | None, since: dt.date | None
    ) -> list[HistoryRow]:
        """Dip history rows of a ticker, oldest first."""
        query = select(dip_history).where(dip_history.c.ticker == ticker)
        if window is not None:
            query = query.where(dip_history.c.window == window)
        if since is not None:
            query = query.where(dip_history.c.date >= since)
        query = query.order_by(
            dip_history.c.date, dip_history.c.window, dip_history.c.kind
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [HistoryRow(**row._asdict()) for row in rows]

    async def accounts(self) -> list[AccountView]:
        """Return every account, ordered by username."""
        async with self.engine.connect() as conn:
            return await select_accounts(conn)

    async def account(self, username: str) -> AccountView | None:
        async with self.engine.connect() as conn:
            found = await select_accounts(conn, accounts.c.username == username)
        return found[0] if found else None

    async def account_by_id(self, account_id: UUID) -> AccountView | None:
        async with self.engine.connect() as conn:
            return await select_account_by_id(conn, account_id)

    async def is_revoked(self, token_id: str) -> bool:
        query = select(revoked_tokens.c.token_id).where(
            revoked_tokens.c.token_id == token_id
        )
        async with self.engine.connect() as conn:
            return await conn.scalar(query) is not None
