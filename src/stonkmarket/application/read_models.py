"""The read models as queries see them: the port the SQL adapter implements."""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from uuid import UUID

from stonkmarket.application.audit_pages import AuditFilter
from stonkmarket.application.views import (
    AccountView,
    AuditEntry,
    Chart,
    FundamentalsView,
    HistoryRow,
    RankingRow,
    SettingsView,
    Signal,
    SymbolView,
)
from stonkmarket.domain.adjustment import CleanSeries


class ReadModels(Protocol):
    """The read models as queries see them."""

    async def symbols(self) -> list[SymbolView]: ...
    async def symbol(self, ticker: str) -> SymbolView | None: ...
    async def settings(self, version: int | None = None) -> SettingsView | None: ...
    async def fundamentals(
        self, ticker: str, day: dt.date | None = None
    ) -> FundamentalsView | None: ...
    async def series(
        self, ticker: str, until: dt.date | None = None
    ) -> CleanSeries | None: ...
    async def chart(self, ticker: str, days: int) -> Chart | None: ...
    async def ranking(self, window: int) -> list[RankingRow]: ...
    async def latest_signal(
        self, ticker: str, window: int, benchmark: str, settings_version: int
    ) -> Signal | None: ...
    async def latest_signals(
        self, window: int, benchmark: str, settings_version: int
    ) -> list[Signal]: ...
    async def last_bar_date(self, ticker: str) -> dt.date | None: ...
    async def history(
        self, ticker: str, window: int | None, since: dt.date | None
    ) -> list[HistoryRow]: ...
    async def audit(
        self, audit_filter: AuditFilter, limit: int
    ) -> list[AuditEntry]: ...
    async def accounts(self) -> list[AccountView]: ...
    async def account(self, username: str) -> AccountView | None: ...
    async def account_by_id(self, account_id: UUID) -> AccountView | None: ...
    async def is_revoked(self, token_id: str) -> bool: ...
